"""The daily report as an Excel workbook (xlsxwriter): summary, new, continuing, resolved, needs_review,
dismissed, sellers and health sheets; each listing's row ends with the officer's decision (in words, with
a dismissal's reason, a supervisor's check and the note), who decided and when.

The first sheet warns when a register is missing, empty or stale and says which register versions were
used and how old each is. Every text cell is neutralised (:mod:`reports.cells`) and written with
``write_string``, so marketplace text is never read as a formula; a listing URL becomes a hyperlink only
when it is http(s) and within Excel's limits, and its shown text is neutralised too. Numbers, shares and
times are real numbers, percentages and dates (the column header names the time zone); cells of several
lines wrap. The findings sheets are the bulk of the work (every reported listing, one row each): each
column has a fixed kind, so a row is written without looking at its values' types, and empty cells are
not written at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import xlsxwriter

from core.runstats import COVERAGE_FIELDS
from reports import wording
from reports.alerts import Alert
from reports.cells import XLSX_MAX_CHARS, neutralise
from reports.findings import Finding
from reports.health import SiteHealth
from reports.page import PageContext, verdict_versions, web_link
from reports.summary import Summary

Getter = Callable[[Finding, Mapping[str, str]], Any]
TIME_FORMAT = "yyyy-mm-dd hh:mm"
MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0%"
MAX_URL_CHARS = 2_079
"""The longest hyperlink target Excel keeps; a longer listing URL is written as text."""
HYPERLINKS_PER_SHEET = 65_530
"""The most hyperlinks a worksheet holds; the URLs past them are written as text."""
TIMED = frozenset({"first_seen", "first_violation", "run_started", "generated", "imported_at", "decided_at"})
"""Columns of local times: their header names the time zone."""
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~"
# the common case, a URL that needs nothing encoded: http(s), a host, then only characters that stay as
# they are (no space, quote, angle bracket, backslash, percent sign, control or non-ASCII character)
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:[/?#][!#$&-;=?-\[\]_a-z~]*)?", re.ASCII)


def link_target(url: str | None) -> str | None:
    """The hyperlink target for a listing URL: an http(s) URL (:func:`reports.page.web_link`) with spaces,
    quotes and non-ASCII characters percent-encoded, or None when it is not one or too long for Excel."""
    if url is not None and len(url) <= MAX_URL_CHARS and _PLAIN_URL.fullmatch(url):
        return url
    href = web_link(url)
    if href is None:
        return None
    target = quote(href, safe=_URL_SAFE)
    return target if len(target) <= MAX_URL_CHARS else None


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


def _decision(finding: Finding) -> str | None:
    """The officer's decision in words, with a dismissal's reason and a supervisor's check."""
    standing = finding.standing
    if standing is None:
        return None
    parts = [wording.decision_name(standing.decision, finding.changed_since_dismissed).both()]
    reason, qc = wording.dismiss_reason_name(standing.reason), wording.qc_name(standing.qc)
    parts += [phrase.both() for phrase in (reason, qc) if phrase is not None]
    if standing.note:
        parts.append(standing.note)
    return "\n".join(parts)


def _standard_name(finding: Finding, names: Mapping[str, str]) -> str | None:
    return names.get(finding.tis_number) if finding.tis_number else None


# (label key, value from the finding and the standards' Thai names, column width, kind: text | wrap |
# money | time | url | number). The sheet's name says the status; the time a listing was last observed,
# its score and other fields are in findings.csv and findings.json.
FINDING_COLUMNS: list[tuple[str, Getter, int, str]] = [
    ("verdict", lambda f, _: wording.verdict_name(f.verdict).both(), 22, "text"),
    ("why", lambda f, _: reasons_text(f), 60, "wrap"),
    ("title", lambda f, _: f.title, 50, "wrap"),
    ("seller", lambda f, _: f.seller, 24, "text"),
    ("price", lambda f, _: f.price, 12, "money"),
    ("site", lambda f, _: f.site, 14, "text"),
    ("standard", lambda f, _: f.tis_number, 16, "text"),
    ("standard_name", _standard_name, 36, "wrap"),
    ("licence_shown", lambda f, _: _licence(f), 24, "text"),
    ("first_seen", lambda f, _: f.first_seen, 17, "time"),
    ("register_version", lambda f, _: f.register_version, 12, "number"),
    ("url", lambda f, _: f.url, 40, "url"),
    ("evidence", lambda f, _: _evidence(f), 40, "wrap"),
    ("decision", lambda f, _: _decision(f), 28, "wrap"),
    ("decided_by", lambda f, _: None if f.standing is None else f.standing.decided_by, 16, "text"),
    ("decided_at", lambda f, _: None if f.standing is None else f.standing.decided_at, 17, "time"),
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
        sheet = _Sheet(workbook, context.zone, context.standard_names)
        sheet.summary(summary, context)
        for name in ("new", "continuing", "resolved", "needs_review", "dismissed"):
            sheet.findings(name, getattr(summary, name))
        sheet.sellers(summary)
        sheet.health(context.health, context.alerts)
        workbook.close()
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


class _Sheet:
    """Writes rows of cells in order (as constant-memory mode needs), choosing the cell type by value."""

    def __init__(self, workbook: Any, zone: ZoneInfo, names: Mapping[str, str]) -> None:
        self.workbook = workbook
        self.zone = zone
        self.names = names
        top = {"valign": "top"}
        self.bold = workbook.add_format({"bold": True, "bg_color": "#EEEEEE", "text_wrap": True, **top})
        self.warning = workbook.add_format({"bold": True, "font_color": "#C0392B"})
        self.caution = workbook.add_format({"font_color": "#B9770E"})
        self.time = workbook.add_format({"num_format": TIME_FORMAT, **top})
        self.money = workbook.add_format({"num_format": MONEY_FORMAT, **top})
        self.percent = workbook.add_format({"num_format": PERCENT_FORMAT, **top})
        self.wrap = workbook.add_format({"text_wrap": True, **top})
        self.top = workbook.add_format(top)
        self.link = workbook.add_format({"font_color": "#0B57D0", "underline": 1, **top})

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

    def heading(self, key: str) -> str:
        """A column's header: Thai and English, and the time zone for times."""
        label = wording.LABELS[key].both() if key in wording.LABELS else key
        return f"{label} ({self.zone.key})" if key in TIMED else label

    def header(
        self, worksheet: Any, keys: Sequence[str], widths: Sequence[int], wrapped: Sequence[str] = ()
    ) -> None:
        """The header row (frozen), and each column's width; the ``wrapped`` columns wrap their text, the
        others keep it on one line; all align to the top of the row."""
        for column, (key, width) in enumerate(zip(keys, widths, strict=True)):
            worksheet.set_column(column, column, width, self.wrap if key in wrapped else self.top)
            worksheet.write_string(0, column, self.heading(key), self.bold)
        worksheet.freeze_panes(1, 0)

    def summary(self, summary: Summary, context: PageContext) -> None:
        """The first sheet: the warnings about the registers, the day, the registers used and their age,
        the register versions of the day's verdicts, then the counts."""
        worksheet = self.workbook.add_worksheet("summary")
        for column, width in enumerate((48, 16, 36, 20, 12, 12)):
            worksheet.set_column(column, column, width)
        label = self.heading
        row = 0
        self.write(worksheet, row, 0, wording.LABELS["report"].both(), self.bold)
        for problem, text in context.notices():
            row += 1
            style = self.caution if problem == "stale" else self.warning
            worksheet.write_string(row, 0, f"⚠ {text.both()}", style)
        rows: list[Sequence[Any]] = [
            (label("date"), f"{context.day.isoformat()} ({context.zone.key})"),
            (label("register_version"), context.register_version),
            (label("generated"), context.generated_at),
        ]
        row = self._rows(worksheet, row + 1, rows)
        keys = ("register", "version", "source_file", "imported_at", "age_days", "rows")
        row = self._rows(worksheet, row + 1, [[label(key) for key in keys]], self.bold)
        for status in context.registers:
            name = wording.register_name(status.kind).both()
            if status.version is None:
                values: list[Any] = [name, wording.LABELS["never_imported"].both()]
            else:
                values = [name, status.version, status.source_name, status.imported_at]
                values += [status.age_days, status.rows]
            row = self._rows(worksheet, row, [values], self.caution if status.problem else None)
        row = self._rows(worksheet, row + 1, [(label("verdict_versions"), label("count"))], self.bold)
        older = wording.LABELS["older_version"].both()
        for version, count, old in verdict_versions(summary, context.register_version):
            row = self._rows(worksheet, row, [(version, count, older if old else None)])
        row = self._rows(worksheet, row + 1, [(label(key), count) for key, count in summary.counts.items()])
        for title, counter in (("by_standard", summary.by_standard), ("by_site", summary.by_site)):
            heading = [label(title), label("count")] + (
                [label("standard_name")] if title == "by_standard" else []
            )
            row = self._rows(worksheet, row + 1, [heading], self.bold)
            for name, count in sorted(counter.items(), key=lambda item: (-item[1], item[0])):
                extra = [self.names.get(name)] if title == "by_standard" else []
                row = self._rows(worksheet, row, [[name, count, *extra]])

    def _rows(self, worksheet: Any, row: int, rows: Sequence[Sequence[Any]], style: Any = None) -> int:
        """Write ``rows`` from ``row`` on; the row after them."""
        for values in rows:
            for column, value in enumerate(values):
                self.write(worksheet, row, column, value, None if isinstance(value, datetime) else style)
            row += 1
        return row

    def findings(self, name: str, rows: Sequence[Finding]) -> None:
        worksheet = self.workbook.add_worksheet(name)
        keys = [key for key, *_ in FINDING_COLUMNS]
        wrapped = [key for key, _, _, kind in FINDING_COLUMNS if kind == "wrap"]
        self.header(worksheet, keys, [width for _, _, width, _ in FINDING_COLUMNS], wrapped)
        zone, limit, names = self.zone, XLSX_MAX_CHARS, self.names
        text, number, when = worksheet.write_string, worksheet.write_number, worksheet.write_datetime
        columns = list(enumerate(FINDING_COLUMNS))
        links = 0
        for row, finding in enumerate(rows, start=1):
            for column, (_, getter, _, kind) in columns:
                value = getter(finding, names)
                if value is None or value == "":
                    continue
                if kind in ("text", "wrap"):
                    text(row, column, neutralise(value, limit))
                elif kind == "time":
                    when(row, column, value.astimezone(zone).replace(tzinfo=None), self.time)
                elif kind == "url":
                    target = link_target(value) if links < HYPERLINKS_PER_SHEET else None
                    if target is None:
                        text(row, column, neutralise(value, limit))
                    else:
                        worksheet.write_url(row, column, target, self.link, neutralise(value, limit))
                        links += 1
                else:
                    number(row, column, float(value), self.money if kind == "money" else None)
        if rows:
            worksheet.autofilter(0, 0, len(rows), len(FINDING_COLUMNS) - 1)

    def sellers(self, summary: Summary) -> None:
        worksheet = self.workbook.add_worksheet("sellers")
        keys = ["seller", "repeat", "sites", "open", "new", "resolved_today", "listings_ever", "days"]
        keys += ["first_violation", "standard", "seller_listings"]
        widths = [30, 14, 24, 12, 10, 12, 14, 12, 17, 40, 40]
        self.header(worksheet, keys, widths, wrapped=("standard", "seller_listings"))
        for row, seller in enumerate(summary.sellers, start=1):
            repeat = wording.LABELS["repeat"].both() if seller.repeat else ""
            standards = [f"{n} {self.names[n]}" if n in self.names else n for n in seller.standards]
            values: list[Any] = [seller.name, repeat, ", ".join(seller.sites), seller.open, seller.new]
            values += [seller.resolved, seller.listings, seller.days, seller.first_violation]
            values += ["\n".join(standards), "\n".join(seller.open_keys)]
            for column, value in enumerate(values):
                self.write(worksheet, row, column, value)
        if summary.sellers:
            worksheet.autofilter(0, 0, len(summary.sellers), len(keys) - 1)

    def health(self, health: Sequence[SiteHealth], alerts: Sequence[Alert]) -> None:
        worksheet = self.workbook.add_worksheet("health")
        keys = ["site", "run_started", "run_status", "pages", "items", "errors", "failed_urls"]
        keys += [f"cov_{name}" for name in COVERAGE_FIELDS] + ["run_note"]
        self.header(worksheet, keys, [16, 17, 12, 10, 10, 10, 12, 10, 10, 10, 14, 40])
        row = 0
        for row, site in enumerate(health, start=1):
            values: list[Any] = [site.site, site.started_at, site.status, site.pages, site.items]
            values += [site.errors, site.failed_urls]
            for column, value in enumerate(values):
                self.write(worksheet, row, column, value)
            for column, name in enumerate(COVERAGE_FIELDS, start=len(values)):
                self.write(worksheet, row, column, site.coverage.get(name), self.percent)
            self.write(worksheet, row, len(keys) - 1, site.note or None)
        first = row + 2
        for column, key in enumerate(("alerts", "site", "message")):
            worksheet.write_string(first, column, wording.LABELS[key].both(), self.bold)
        for number, alert in enumerate(alerts, start=first + 1):
            values = [wording.alert_name(alert.kind).both(), alert.site, alert.message]
            for column, value in enumerate(values):
                self.write(worksheet, number, column, value)
