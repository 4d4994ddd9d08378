"""The daily report as an Excel workbook (xlsxwriter): summary, new, continuing, resolved, needs_review,
sellers and health sheets.

Every text cell is neutralised (:mod:`reports.cells`) and written with ``write_string``, so marketplace
text is never read as a formula or a link; numbers and times are real numbers and dates. The findings
sheets are the bulk of the work (every reported listing, one row each): each column has a fixed kind,
so a row is written without looking at its values' types, and empty cells are not written at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter

from reports import wording
from reports.alerts import Alert
from reports.cells import XLSX_MAX_CHARS, neutralise
from reports.findings import Finding
from reports.health import COVERAGE_FIELDS, SiteHealth
from reports.page import PageContext
from reports.summary import Summary

Getter = Callable[[Finding], Any]
TIME_FORMAT = "yyyy-mm-dd hh:mm"
MONEY_FORMAT = "#,##0.00"


@lru_cache(maxsize=256)
def _why(verdict: str | None, licence_status: str | None, gone: bool) -> str:
    return wording.explain(verdict, licence_status, gone).both()


@lru_cache(maxsize=256)
def _feature(feature: str) -> str:
    return wording.feature_name(feature).both() if feature else ""


def reasons_text(finding: Finding) -> str:
    """Why, in plain words: the verdict's reason, then what the matcher read (each reason's detail, which
    says it in Thai and English; a reason without one by what its feature says)."""
    lines = [_why(finding.verdict, finding.licence_status, finding.gone)]
    for reason in finding.reasons:
        detail = reason.get("detail") or _feature(str(reason.get("feature") or ""))
        if detail:
            lines.append(f"• {detail}")
    return "\n".join(lines)


def _licence(finding: Finding) -> str | None:
    status = wording.licence_status_name(finding.licence_status)
    if finding.licence_claimed is None:
        return None if status is None else f"({status.both()})"
    return finding.licence_claimed if status is None else f"{finding.licence_claimed} ({status.both()})"


def _evidence(finding: Finding) -> str:
    """The listing's key and where its evidence is: WARC file, screenshot, SHA-256 of the page."""
    evidence = finding.evidence
    parts = [finding.listing_key, *(part for part in (evidence.warc, evidence.screenshot) if part)]
    if evidence.sha256:
        parts.append(f"SHA-256 {evidence.sha256}")
    return "\n".join(parts)


# (label key, value, column width, kind: text | money | time). The sheet's name says the status; the
# time a listing was last observed, its score and other fields are in findings.csv and findings.json.
FINDING_COLUMNS: list[tuple[str, Getter, int, str]] = [
    ("verdict", lambda f: wording.verdict_name(f.verdict).both(), 22, "text"),
    ("why", reasons_text, 60, "text"),
    ("title", lambda f: f.title, 50, "text"),
    ("seller", lambda f: f.seller, 24, "text"),
    ("price", lambda f: f.price, 12, "money"),
    ("site", lambda f: f.site, 14, "text"),
    ("standard", lambda f: f.tis_number, 16, "text"),
    ("licence_shown", _licence, 24, "text"),
    ("first_seen", lambda f: f.first_seen, 17, "time"),
    ("url", lambda f: f.url, 40, "text"),
    ("evidence", _evidence, 40, "text"),
]


SHARED_STRINGS_ROWS = 250_000
"""Up to this many findings, cells are kept in memory and repeated texts (verdicts, reasons, sites,
sellers) are written once in a shared-strings table — faster; above it, rows are streamed to disk as
they are written (xlsxwriter's constant-memory mode), so memory stays flat."""


def write_workbook(summary: Summary, context: PageContext, out: Path) -> None:
    """Write the workbook to ``out`` (via a temporary file beside it)."""
    partial = out.with_name(f".{out.name}.partial")
    streamed = len(summary.reported) > SHARED_STRINGS_ROWS
    workbook = xlsxwriter.Workbook(
        str(partial), {"constant_memory": streamed, "strings_to_formulas": False, "strings_to_urls": False}
    )
    try:
        sheet = _Sheet(workbook, context.zone)
        sheet.summary(summary, context)
        for name in ("new", "continuing", "resolved", "needs_review"):
            sheet.findings(name, getattr(summary, name))
        sheet.sellers(summary)
        sheet.health(context.health, context.alerts)
        workbook.close()
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


class _Sheet:
    """Writes rows of cells in order (as constant-memory mode needs), choosing the cell type by value."""

    def __init__(self, workbook: Any, zone: ZoneInfo) -> None:
        self.workbook = workbook
        self.zone = zone
        self.bold = workbook.add_format(
            {"bold": True, "bg_color": "#EEEEEE", "text_wrap": True, "valign": "top"}
        )
        self.time = workbook.add_format({"num_format": TIME_FORMAT})
        self.money = workbook.add_format({"num_format": MONEY_FORMAT})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})

    def write(self, worksheet: Any, row: int, column: int, value: Any, style: Any = None) -> None:
        if value is None or value == "":
            worksheet.write_blank(row, column, None, style)
        elif isinstance(value, datetime):
            local = value.astimezone(self.zone).replace(tzinfo=None)
            worksheet.write_datetime(row, column, local, style or self.time)
        elif isinstance(value, bool):
            worksheet.write_boolean(row, column, value, style)
        elif isinstance(value, int | float | Decimal):
            worksheet.write_number(row, column, float(value), style)
        else:
            worksheet.write_string(row, column, neutralise(str(value), XLSX_MAX_CHARS), style)

    def header(self, worksheet: Any, keys: Sequence[str], widths: Sequence[int]) -> None:
        for column, (key, width) in enumerate(zip(keys, widths, strict=True)):
            worksheet.set_column(column, column, width)
            label = wording.LABELS[key].both() if key in wording.LABELS else key
            worksheet.write_string(0, column, label, self.bold)
        worksheet.freeze_panes(1, 0)

    def summary(self, summary: Summary, context: PageContext) -> None:
        worksheet = self.workbook.add_worksheet("summary")
        worksheet.set_column(0, 0, 48)
        worksheet.set_column(1, 1, 16)
        rows: list[tuple[Any, Any]] = [
            (wording.LABELS["report"].both(), None),
            (wording.LABELS["date"].both(), f"{context.day.isoformat()} ({context.zone.key})"),
            (wording.LABELS["register_version"].both(), context.register_version),
            (wording.LABELS["generated"].both(), context.generated_at),
            (None, None),
        ]
        rows += [(wording.LABELS[key].both(), count) for key, count in summary.counts.items()]
        for title, counter in (("by_standard", summary.by_standard), ("by_site", summary.by_site)):
            rows += [(None, None), (wording.LABELS[title].both(), wording.LABELS["count"].both())]
            rows += sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        for row, (name, value) in enumerate(rows):
            self.write(worksheet, row, 0, name, self.bold if row == 0 else None)
            self.write(worksheet, row, 1, value)

    def findings(self, name: str, rows: Sequence[Finding]) -> None:
        worksheet = self.workbook.add_worksheet(name)
        self.header(
            worksheet, [key for key, *_ in FINDING_COLUMNS], [width for _, _, width, _ in FINDING_COLUMNS]
        )
        zone, limit = self.zone, XLSX_MAX_CHARS
        text, number, when = worksheet.write_string, worksheet.write_number, worksheet.write_datetime
        columns = list(enumerate(FINDING_COLUMNS))
        for row, finding in enumerate(rows, start=1):
            for column, (_, getter, _, kind) in columns:
                value = getter(finding)
                if value is None or value == "":
                    continue
                if kind == "text":
                    text(row, column, neutralise(value, limit))
                elif kind == "time":
                    when(row, column, value.astimezone(zone).replace(tzinfo=None), self.time)
                else:
                    number(row, column, float(value), self.money if kind == "money" else None)
        if rows:
            worksheet.autofilter(0, 0, len(rows), len(FINDING_COLUMNS) - 1)

    def sellers(self, summary: Summary) -> None:
        worksheet = self.workbook.add_worksheet("sellers")
        keys = ["seller", "repeat", "sites", "open", "new", "resolved_today", "listings_ever", "days"]
        keys += ["first_violation", "standard", "seller_listings"]
        self.header(worksheet, keys, [30, 14, 24, 12, 10, 12, 14, 12, 17, 30, 40])
        for row, seller in enumerate(summary.sellers, start=1):
            repeat = wording.LABELS["repeat"].both() if seller.repeat else ""
            values: list[Any] = [seller.name, repeat, ", ".join(seller.sites), seller.open, seller.new]
            values += [seller.resolved, seller.listings, seller.days, seller.first_violation]
            values += [", ".join(seller.standards), "\n".join(seller.open_keys)]
            for column, value in enumerate(values):
                self.write(worksheet, row, column, value)
        if summary.sellers:
            worksheet.autofilter(0, 0, len(summary.sellers), len(keys) - 1)

    def health(self, health: Sequence[SiteHealth], alerts: Sequence[Alert]) -> None:
        worksheet = self.workbook.add_worksheet("health")
        keys = ["site", "run_started", "run_status", "pages", "items", "errors", "failed_urls"]
        keys += [f"cov_{name}" for name in COVERAGE_FIELDS]
        self.header(worksheet, keys, [16, 17, 12, 10, 10, 10, 12, 10, 10, 10, 14])
        row = 0
        for row, site in enumerate(health, start=1):
            values: list[Any] = [site.site, site.started_at, site.status, site.pages, site.items]
            values += [site.errors, site.failed_urls]
            values += [site.coverage.get(name) for name in COVERAGE_FIELDS]
            for column, value in enumerate(values):
                self.write(worksheet, row, column, value)
        first = row + 2
        for column, key in enumerate(("alerts", "site", "message")):
            worksheet.write_string(first, column, wording.LABELS[key].both(), self.bold)
        for number, alert in enumerate(alerts, start=first + 1):
            values = [wording.alert_name(alert.kind).both(), alert.site, alert.message]
            for column, value in enumerate(values):
                self.write(worksheet, number, column, value)
