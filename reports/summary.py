"""A day's findings sorted into what the daily report shows: sections, totals, sellers, chart data."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from reports.findings import COMPLIANT, NEEDS_REVIEW, VIOLATIONS, Finding

SEVERITY = {verdict: rank for rank, verdict in enumerate(VIOLATIONS)}
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff]")


@dataclass(frozen=True, slots=True)
class SellerRow:
    """One seller (grouped by name across sites) with its open violations."""

    name: str
    sites: tuple[str, ...]
    violations: int
    new: int
    standards: tuple[str, ...]

    @property
    def repeat(self) -> bool:
        """More than one violating listing, or violations on more than one site."""
        return self.violations > 1 or len(self.sites) > 1


@dataclass(slots=True)
class Summary:
    """The daily report's content, before it is written as HTML, XLSX, CSV or JSON."""

    new: list[Finding] = field(default_factory=list)
    continuing: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)
    needs_review: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    sellers: list[SellerRow] = field(default_factory=list)
    by_standard: Counter[str] = field(default_factory=Counter)
    by_site: Counter[str] = field(default_factory=Counter)
    by_seller: Counter[str] = field(default_factory=Counter)

    @property
    def violations(self) -> list[Finding]:
        return self.new + self.continuing

    @property
    def reported(self) -> list[Finding]:
        """The findings the day's data files carry: new, continuing, resolved, then the review queue."""
        return self.new + self.continuing + self.resolved + self.needs_review


def tidy(name: str) -> str:
    """A seller name as shown: NFC, no invisible characters, spaces collapsed."""
    name = _INVISIBLE.sub("", unicodedata.normalize("NFC", name))
    return _SPACES.sub(" ", name).strip()


def seller_key(name: str) -> str:
    """A seller name normalised for grouping: :func:`tidy`, casefolded."""
    return tidy(name).casefold()


def summarise(findings: Sequence[Finding]) -> Summary:
    """Sort findings into sections (most serious first) and count them."""
    summary = Summary()
    for finding in findings:
        if finding.status in ("new", "continuing", "resolved"):
            getattr(summary, finding.status).append(finding)
        elif finding.verdict == NEEDS_REVIEW and not finding.gone:
            summary.needs_review.append(finding)
    for section in (summary.new, summary.continuing, summary.resolved, summary.needs_review):
        section.sort(key=_order)
    verdicts = Counter(finding.verdict for finding in findings)
    summary.counts = {
        "listings": len(findings),
        "violations": len(summary.violations),
        "new": len(summary.new),
        "continuing": len(summary.continuing),
        "resolved": len(summary.resolved),
        "needs_review": len(summary.needs_review),
        "compliant": sum(verdicts[verdict] for verdict in COMPLIANT),
        "unmatched": verdicts[None],
    }
    for finding in summary.violations:
        summary.by_standard[finding.tis_number or "?"] += 1
        summary.by_site[finding.site] += 1
    summary.sellers = _sellers(summary.violations)
    summary.by_seller.update({row.name: row.violations for row in summary.sellers})
    return summary


def _order(finding: Finding) -> tuple[int, str, str, str]:
    rank = SEVERITY.get(finding.verdict or "", len(SEVERITY))
    return rank, seller_key(finding.seller or "\uffff"), finding.site, finding.listing_key


def _sellers(violations: Sequence[Finding]) -> list[SellerRow]:
    groups: dict[str, list[Finding]] = {}
    for finding in violations:
        if finding.seller and seller_key(finding.seller):
            groups.setdefault(seller_key(finding.seller), []).append(finding)
    rows = []
    for members in groups.values():
        names = Counter(tidy(finding.seller or "") for finding in members)
        rows.append(
            SellerRow(
                name=min(names, key=lambda name: (-names[name], name)),
                sites=tuple(sorted({finding.site for finding in members})),
                violations=len(members),
                new=sum(finding.status == "new" for finding in members),
                standards=tuple(sorted({finding.tis_number for finding in members if finding.tis_number})),
            )
        )
    rows.sort(key=lambda row: (not row.repeat, -row.violations, -len(row.sites), seller_key(row.name)))
    return rows
