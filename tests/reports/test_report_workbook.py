"""The workbook's layout as an officer sees it in Excel: headers, frozen panes, filters, widths, number
formats and dates (the cell values are checked by the daily-report tests)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from reports.daily import build_daily_report
from reports.wording import LABELS
from reports.workbook import FINDING_COLUMNS, MONEY_FORMAT, TIME_FORMAT
from store.db import Store
from tests.reports.report_builders import DAY1, DAY2, World, bkk, two_days

FINDING_SHEETS = ("new", "continuing", "resolved", "needs_review")


@pytest.fixture
def workbooks(sqlite_store: Store, tmp_path: Path) -> dict[str, Path]:
    with sqlite_store.session() as session:
        world = World(session)
        two_days(world)
        world.run("shop-a", bkk(DAY2, 6), {"pages": 10, "items": 0}, failures=1)
    return {
        day: build_daily_report(sqlite_store, tmp_path / day, moment, evidence_root=tmp_path).xlsx
        for day, moment in (("day1", DAY1), ("day2", DAY2))
    }


def _header(sheet: Worksheet) -> list[object]:
    return [cell.value for cell in sheet[1]]


def test_finding_sheets_have_a_frozen_filtered_header_and_widths(workbooks: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(workbooks["day2"])
    for name in FINDING_SHEETS:
        sheet = book[name]
        assert _header(sheet) == [LABELS[key].both() for key, *_ in FINDING_COLUMNS], name
        assert all(cell.font.b for cell in sheet[1])
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:K{sheet.max_row}"
        assert sheet.max_row > 1
        assert round(sheet.column_dimensions["B"].width) == 61  # 60 characters and Excel's padding
    book.close()


def test_an_empty_sheet_keeps_its_header_without_a_filter(sqlite_store: Store, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(build_daily_report(sqlite_store, tmp_path / "empty", DAY1).xlsx)
    for name in (*FINDING_SHEETS, "sellers"):
        sheet = book[name]
        assert sheet.max_row == 1, name
        assert _header(sheet)[0] == LABELS["seller" if name == "sellers" else "verdict"].both()
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref is None
    book.close()


def test_prices_are_money_and_first_seen_is_a_bangkok_time(workbooks: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(workbooks["day2"])
    header = _header(book["continuing"])
    price, first_seen = header.index(LABELS["price"].both()), header.index(LABELS["first_seen"].both())
    rows = list(book["continuing"].iter_rows(min_row=2))
    prices = [row[price] for row in rows if row[price].value is not None]
    assert prices
    assert all(isinstance(cell.value, int | float) and cell.number_format == MONEY_FORMAT for cell in prices)
    times = [row[first_seen] for row in rows]
    assert all(isinstance(cell.value, datetime) and cell.number_format == TIME_FORMAT for cell in times)
    assert datetime(2025, 3, 10, 10, 0) in {cell.value for cell in times}  # bkk(DAY1): 10:00 in Bangkok
    book.close()


def test_summary_time_is_a_date_and_the_counts_stay_numbers(workbooks: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(workbooks["day2"])
    rows = {row[0].value: row[1] for row in book["summary"].iter_rows() if row[0].value}
    generated = rows[LABELS["generated"].both()]
    assert isinstance(generated.value, datetime)
    assert generated.number_format == TIME_FORMAT
    assert abs((generated.value - datetime.now()).total_seconds()) < 24 * 3600
    counts = [cell for name, cell in rows.items() if isinstance(cell.value, int | float)]
    assert counts
    assert all(cell.number_format == "General" and not cell.is_date for cell in counts)
    assert book["summary"]["A1"].font.b
    assert book["summary"].freeze_panes is None
    book.close()


def test_health_sheet_shows_the_alerts_under_their_own_bold_labels(workbooks: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(workbooks["day2"])
    sheet = book["health"]
    rows = list(sheet.iter_rows())
    assert isinstance(rows[1][1].value, datetime)
    labels = next(row for row in rows if row[0].value == LABELS["alerts"].both())
    assert [cell.value for cell in labels[:3]] == [
        LABELS[key].both() for key in ("alerts", "site", "message")
    ]
    assert all(cell.font.b for cell in labels[:3])
    assert rows[labels[0].row - 2][0].value is None  # an empty row above them
    assert rows[-1][0].value == "ไม่ได้ข้อมูลสินค้าเลย · No items stored"
    assert sheet.auto_filter.ref is None
    book.close()
