"""A day's findings sorted into what the daily report shows: sections, totals, sellers, chart data.

A violation (or a review-queue listing) that an officer dismissed, and whose dismissal holds (what was
judged has not changed since), is counted and listed as ``dismissed`` — not as a new or continuing
violation, not in the charts or the sellers' open counts: there is nothing to act on. Once what was judged
changes, it is back among the violations, marked "changed since dismissed", and its decision is due again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from core.sellers import seller_key
from core.verdicts import COMPLIANT, NEEDS_REVIEW, severity
from reports.findings import Finding
from reports.sellers import SellerRow, group_sellers


@dataclass(slots=True)
class Summary:
    """The daily report's content, before it is written as HTML, XLSX, CSV or JSON."""

    new: list[Finding] = field(default_factory=list)
    continuing: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)
    needs_review: list[Finding] = field(default_factory=list)
    dismissed: list[Finding] = field(default_factory=list)
    """Violations (and review-queue listings) an officer dismissed, whose dismissal holds."""
    counts: dict[str, int] = field(default_factory=dict)
    sellers: list[SellerRow] = field(default_factory=list)
    by_standard: Counter[str] = field(default_factory=Counter)
    by_site: Counter[str] = field(default_factory=Counter)
    by_seller: Counter[str] = field(default_factory=Counter)
    by_register: Counter[int] = field(default_factory=Counter)
    """How many of the day's verdicts were made under each register version."""

    @property
    def violations(self) -> list[Finding]:
        return self.new + self.continuing

    @property
    def reported(self) -> list[Finding]:
        """The findings the day's data files carry: new, continuing, resolved, the review queue, then the
        dismissed ones."""
        return self.new + self.continuing + self.resolved + self.needs_review + self.dismissed

    @property
    def due(self) -> list[Finding]:
        """Decisions due, beside the new violations (whose cards come first): the review queue, and the
        continuing violations whose officer asked for more information or whose dismissal no longer holds
        (changed since dismissed)."""
        return [f for f in self.continuing + self.needs_review if f.decision_due]


def summarise(
    findings: Sequence[Finding],
    days: Mapping[str, frozenset[date]] | None = None,
    zone: ZoneInfo | None = None,
) -> Summary:
    """Sort findings into sections (most serious first), count them and group them by seller
    (``days``: each seller's days seen violating, from :func:`reports.sellers.violation_days`)."""
    summary = Summary()
    for finding in findings:
        if finding.dismissed and (finding.status in ("new", "continuing") or finding.verdict == NEEDS_REVIEW):
            summary.dismissed.append(finding)  # an officer's dismissal holds: nothing to act on
        elif finding.status in ("new", "continuing", "resolved"):
            getattr(summary, finding.status).append(finding)
        elif finding.verdict == NEEDS_REVIEW and not finding.gone:
            summary.needs_review.append(finding)
    for section in (
        summary.new,
        summary.continuing,
        summary.resolved,
        summary.needs_review,
        summary.dismissed,
    ):
        section.sort(key=_order)
    verdicts = Counter(finding.verdict for finding in findings)
    summary.counts = {
        "listings": len(findings),
        "violations": len(summary.violations),
        "new": len(summary.new),
        "continuing": len(summary.continuing),
        "resolved": len(summary.resolved),
        "needs_review": len(summary.needs_review),
        "dismissed": len(summary.dismissed),
        "decisions_due": len(summary.due),
        "compliant": sum(verdicts[verdict] for verdict in COMPLIANT),
        "unmatched": verdicts[None],
    }
    for finding in summary.violations:
        summary.by_standard[finding.tis_number or "?"] += 1
        summary.by_site[finding.site] += 1
    summary.by_register.update(
        finding.register_version for finding in findings if finding.register_version is not None
    )
    summary.sellers = group_sellers(findings, days, zone)
    summary.by_seller.update({row.name: row.open for row in summary.sellers if row.open})
    return summary


def _order(finding: Finding) -> tuple[int, str, str, str]:
    rank = severity(finding.verdict or "")
    return rank, seller_key(finding.seller or "\uffff"), finding.site, finding.listing_key
