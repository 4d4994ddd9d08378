"""The daily report as one self-contained HTML page (Jinja2, autoescape on, no JavaScript).

Marketplace text reaches the page only through autoescaping, after :func:`reports.cells.clean` has
removed control and bidirectional characters; it is also wrapped in ``<bdi>`` so right-to-left text cannot
reorder what follows. A listing URL becomes a link only when it is http(s); evidence links are relative
paths from the report's directory, percent-encoded so that they cannot name a scheme.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from reports import wording
from reports.alerts import Alert
from reports.cells import clean
from reports.charts import bar_chart, top
from reports.health import SiteHealth
from reports.register import RegisterStatus, problems
from reports.summary import Summary
from reports.takedowns import WORKING_DAYS, SiteTakedowns

CARDS_PER_SECTION = 1_000
"""At most this many listings per section of cards in the page; the XLSX and CSV carry every one."""
TABLE_ROWS = 5_000
"""At most this many rows per compact table (continuing, dismissed) in the page: one line each."""
ROW_TITLE_CHARS = 120
CARD_SECTIONS = ("new", "resolved", "due")
"""What changed, and what an officer has to decide: a card each."""
TABLE_SECTIONS = ("continuing", "dismissed")
"""What an officer already knows: a row each, linking to the listing's page in the workspace."""
SELLER_ROWS = 500
TITLE_CHARS = 500
DETAIL_CHARS = 400
_URL_BREAKS = re.compile("[\t\n\r]")


@dataclass(frozen=True, slots=True)
class PageContext:
    """What the page shows besides the summary."""

    day: date
    zone: ZoneInfo
    generated_at: datetime
    register_version: int | None
    health: Sequence[SiteHealth]
    standard_names: Mapping[str, str]
    out_dir: Path
    evidence_root: Path | None = None
    alerts: Sequence[Alert] = ()
    registers: Sequence[RegisterStatus] = ()
    """Standards, licences and the unsafe list as they stood for the day (:func:`register_status`)."""
    bands: wording.Bands = wording.DEFAULT_BANDS
    """Where the matcher draws its lines on the category score, to say it in words."""
    takedowns: Sequence[SiteTakedowns] = ()
    """Per site, the time to takedown of the cases sent to ETDA (``reports.takedowns``)."""
    workspace: str | None = None
    """The workspace's public address (``[web] public_url``): each listing links to its page there."""

    def notices(self) -> list[tuple[str, wording.Phrase]]:
        """The warnings about the registers, most serious first: (``missing``/``empty``/``stale``, text)."""
        return [
            (s.problem or "", wording.register_notice(s.kind, s.problem or "", s.age_days, s.stale_days))
            for s in problems(self.registers)
        ]


def verdict_versions(summary: Summary, in_force: int | None) -> list[tuple[int, int, bool]]:
    """(register version, verdicts made under it, older than the version in force), newest first."""
    return [
        (version, count, in_force is not None and version < in_force)
        for version, count in sorted(summary.by_register.items(), reverse=True)
    ]


def web_link(url: str | None) -> str | None:
    """``url`` if it is an http(s) URL with a host, else None (``javascript:`` and friends stay text)."""
    if not url:
        return None
    candidate = _URL_BREAKS.sub("", clean(url)).strip()
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    return candidate if parts.scheme.lower() in {"http", "https"} and parts.netloc else None


def workspace_link(base: str | None, listing_key: str) -> str | None:
    """The listing's page in the workspace, ``{base}/listing?key=<listing_key>``: the key percent-encoded
    whole (``/``, ``?``, ``&``, ``#``, quotes, angle brackets and all), and only under an http(s) base."""
    root = web_link(base)
    if root is None:
        return None
    return f"{root.rstrip('/')}/listing?key={quote(listing_key, safe='')}"


def evidence_link(path: str | None, out_dir: Path, root: Path | None) -> str | None:
    """A relative, percent-encoded link from ``out_dir`` to an evidence file (relative paths are under
    ``root``, the data directory, when it is given)."""
    if not path:
        return None
    target = Path(clean(path))
    if not target.is_absolute() and root is not None:
        target = root / target
    if target.is_absolute():
        try:
            target = Path(os.path.relpath(target, out_dir.resolve()))
        except ValueError:  # another drive: no relative path exists
            return target.as_uri()
    return quote(target.as_posix(), safe="/")


def shorten(text: str | None, limit: int = TITLE_CHARS) -> str:
    text = clean(text or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_page(summary: Summary, context: PageContext) -> str:
    """The report page as HTML text."""
    environment = _environment(context)
    names = context.standard_names
    others = wording.LABELS["others"].both()
    standards = [
        (f"{number} {names[number]}" if number in names else number, count)
        for number, count in top(summary.by_standard, others=others)
    ]
    charts = {
        "standard": bar_chart(_label("by_standard"), standards, "#c0392b"),
        "site": bar_chart(_label("by_site"), top(summary.by_site, others=others), "#d35400"),
        "seller": bar_chart(_label("by_seller"), top(summary.by_seller, others=others), "#8e44ad"),
    }
    sections = {
        "new": summary.new,
        "resolved": summary.resolved,
        "due": summary.due,
        "continuing": summary.continuing,
        "dismissed": summary.dismissed,
    }
    return environment.get_template("report.html.j2").render(
        day=context.day,
        timezone=context.zone.key,
        generated_at=context.generated_at,
        register_version=context.register_version,
        counts=summary.counts,
        charts=charts,
        sections=sections,
        sellers=summary.sellers[:SELLER_ROWS],
        seller_total=len(summary.sellers),
        health=context.health,
        alerts=context.alerts,
        registers=context.registers,
        notices=context.notices(),
        verdict_versions=verdict_versions(summary, context.register_version),
        standard_names=names,
        cards=CARDS_PER_SECTION,
        rows_shown=TABLE_ROWS,
        row_title=ROW_TITLE_CHARS,
        capped=any(len(sections[key]) > CARDS_PER_SECTION for key in CARD_SECTIONS)
        or any(len(sections[key]) > TABLE_ROWS for key in TABLE_SECTIONS),
        card_sections=CARD_SECTIONS,
        table_sections=TABLE_SECTIONS,
        shown=_shown(sections),
        takedowns=context.takedowns,
        working_days=WORKING_DAYS,
    )


def _environment(context: PageContext) -> Environment:
    environment = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    zone = context.zone
    environment.filters.update(
        text=lambda value: clean(str(value)),
        short=shorten,
        weblink=web_link,
        evidence=lambda path: evidence_link(path, context.out_dir, context.evidence_root),
        local=lambda moment: "—" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        day=lambda moment: "—" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d"),
        num=lambda value: "—" if value is None else f"{value:,}",
        percent=lambda value: "—" if value is None else f"{value:.0%}",
        details=lambda reasons: _details(reasons, context.bands),
    )
    environment.globals.update(
        labels=wording.LABELS,
        verdict_name=wording.verdict_name,
        licence_status_name=wording.licence_status_name,
        status_name=wording.STATUSES.get,
        explain=wording.explain,
        feature_name=wording.feature_name,
        alert_name=wording.alert_name,
        register_name=wording.register_name,
        decision_name=wording.decision_name,
        dismiss_reason_name=wording.dismiss_reason_name,
        qc_name=wording.qc_name,
        certainty=lambda score: wording.certainty(score, context.bands),
        money=_money,
        anchor=card_id,
        workspace=lambda key: workspace_link(context.workspace, key),
    )
    return environment


def _label(key: str) -> str:
    return wording.LABELS[key].both()


def _money(price: Decimal | None, currency: str | None) -> str:
    if price is None:
        return "—"
    return f"{price:,.2f} {clean(currency or '')}".strip()


def card_id(listing_key: str) -> str:
    """The page anchor of a listing's card: derived from its key, never the key itself."""
    return "f-" + hashlib.sha256(listing_key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _shown(sections: Mapping[str, Sequence[Any]]) -> frozenset[str]:
    """The listing keys that have a card or a row on the page (anchored by :func:`card_id`)."""
    shown = {f.listing_key for key in CARD_SECTIONS for f in sections[key][:CARDS_PER_SECTION]}
    shown.update(f.listing_key for key in TABLE_SECTIONS for f in sections[key][:TABLE_ROWS])
    return frozenset(shown)


def _details(reasons: Sequence[Mapping[str, Any]], bands: wording.Bands) -> list[dict[str, Any]]:
    """Each verdict reason in plain words: what its feature says (Thai and English), the detail the
    matcher recorded (the word, number or licence it read, and where), and its score in words
    (:func:`reports.wording.reason_score`)."""
    shown = []
    for reason in reasons:
        detail = reason.get("detail")
        feature = str(reason.get("feature") or "")
        if not detail and not feature:
            continue
        shown.append(
            {
                "phrase": wording.feature_name(shorten(feature, 80)) if feature else None,
                "detail": shorten(str(detail or ""), DETAIL_CHARS),
                "feature": shorten(feature, 80),
                "score": wording.reason_score(feature, reason.get("score"), bands),
            }
        )
    return shown
