"""The daily report as an Excel workbook (xlsxwriter): summary, new, continuing, resolved, needs_review,
sellers and health sheets.

Every text cell is neutralised (:mod:`reports.cells`) and written with ``write_string``, so marketplace
text is never read as a formula or a link; numbers and times are real numbers and dates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter

from reports import wording
from reports.cells import XLSX_MAX_CHARS, neutralise
from reports.findings import Finding
from reports.health import COVERAGE_FIELDS, SiteHealth
from reports.page import PageContext
from reports.summary import Summary

Getter = Callable[[Finding], Any]

FINDING_COLUMNS: list[tuple[str, Getter, int]] = [
    ("status", lambda f: wording.STATUSES[f.status].both() if f.status else "", 14),
    ("verdict", lambda f: wording.verdict_name(f.verdict).both(), 22),
    ("why", lambda f: wording.explain(f.verdict, f.licence_status, f.gone).both(), 40),
    ("title", lambda f: f.title, 50),
    ("seller", lambda f: f.seller, 24),
    ("price", lambda f: f.price, 12),
    ("site", lambda f: f.site, 14),
    ("standard", lambda f: f.tis_number, 16),
    ("licence_shown", lambda f: f.licence_claimed, 20),
    ("licence_status", lambda f: _both(wording.licence_status_name(f.licence_status)), 16),
    ("score", lambda f: f.category_score, 10),
    ("reasons", lambda f: "\n".join(str(r.get("detail") or "") for r in f.reasons if r.get("detail")), 50),
    ("first_seen", lambda f: f.first_seen, 17),
    ("observed_at", lambda f: f.observed_at, 17),
    ("url", lambda f: f.url, 40),
    ("warc", lambda f: f.evidence.warc, 30),
    ("screenshot", lambda f: f.evidence.screenshot, 30),
    ("evidence", lambda f: f.evidence.sha256, 20),
    ("listing_key", lambda f: f.listing_key, 24),
]


def _both(phrase: wording.Phrase | None) -> str:
    return "" if phrase is None else phrase.both()


def write_workbook(summary: Summary, context: PageContext, out: Path) -> None:
    """Write the workbook to ``out`` (via a temporary file beside it)."""
    partial = out.with_name(f".{out.name}.partial")
    workbook = xlsxwriter.Workbook(
        str(partial), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    try:
        sheet = _Sheet(workbook, context.zone)
        sheet.summary(summary, context)
        for name in ("new", "continuing", "resolved", "needs_review"):
            sheet.findings(name, getattr(summary, name))
        sheet.sellers(summary)
        sheet.health(context.health)
        workbook.close()
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


class _Sheet:
    """Writes rows of cells in order (constant-memory mode), choosing the cell type by value."""

    def __init__(self, workbook: Any, zone: ZoneInfo) -> None:
        self.workbook = workbook
        self.zone = zone
        self.bold = workbook.add_format(
            {"bold": True, "bg_color": "#EEEEEE", "text_wrap": True, "valign": "top"}
        )
        self.time = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.money = workbook.add_format({"num_format": "#,##0.00"})
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
        self.header(worksheet, [key for key, _, _ in FINDING_COLUMNS], [w for _, _, w in FINDING_COLUMNS])
        for row, finding in enumerate(rows, start=1):
            for column, (key, getter, _) in enumerate(FINDING_COLUMNS):
                style = self.money if key == "price" else None
                self.write(worksheet, row, column, getter(finding), style)
        if rows:
            worksheet.autofilter(0, 0, len(rows), len(FINDING_COLUMNS) - 1)

    def sellers(self, summary: Summary) -> None:
        worksheet = self.workbook.add_worksheet("sellers")
        self.header(
            worksheet,
            ["seller", "sites", "violations", "new", "standard", "repeat"],
            [30, 24, 12, 10, 30, 14],
        )
        for row, seller in enumerate(summary.sellers, start=1):
            repeat = wording.LABELS["repeat"].th if seller.repeat else ""
            values = [seller.name, ", ".join(seller.sites), seller.violations, seller.new]
            values += [", ".join(seller.standards), repeat]
            for column, value in enumerate(values):
                self.write(worksheet, row, column, value)

    def health(self, health: Sequence[SiteHealth]) -> None:
        worksheet = self.workbook.add_worksheet("health")
        keys = ["site", "run_started", "run_status", "pages", "items", "errors", "failed_urls"]
        keys += [f"cov_{name}" for name in COVERAGE_FIELDS]
        self.header(worksheet, keys, [16, 17, 12, 10, 10, 10, 12, 10, 10, 10, 14])
        for row, site in enumerate(health, start=1):
            values: list[Any] = [site.site, site.started_at, site.status, site.pages, site.items]
            values += [site.errors, site.failed_urls]
            values += [site.coverage.get(name) for name in COVERAGE_FIELDS]
            for column, value in enumerate(values):
                self.write(worksheet, row, column, value)
