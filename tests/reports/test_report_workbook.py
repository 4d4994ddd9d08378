"""The workbook's layout as an officer sees it in Excel: headers, frozen panes, filters, widths, number
formats, dates with their zone, wrapped cells, hyperlinks and the standards' Thai names (the cell values
are checked by the daily-report tests)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

import reports.workbook
from reports.daily import build_daily_report
from reports.wording import LABELS
from reports.workbook import FINDING_COLUMNS, MONEY_FORMAT, PERCENT_FORMAT, TIME_FORMAT
from store.db import Store
from tests.reports.report_builders import DAY1, DAY2, World, bkk, two_days

FINDING_SHEETS = ("new", "continuing", "resolved", "needs_review", "dismissed")


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


def _heading(key: str) -> str:
    """A column header as the workbook writes it: times name their zone."""
    zone = (
        " (Asia/Bangkok)"
        if key in {"first_seen", "first_violation", "run_started", "generated", "decided_at"}
        else ""
    )
    return LABELS[key].both() + zone


def test_finding_sheets_have_a_frozen_filtered_header_and_widths(workbooks: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(workbooks["day2"])
    for name in FINDING_SHEETS:
        sheet = book[name]
        assert _header(sheet) == [_heading(key) for key, *_ in FINDING_COLUMNS], name
        assert all(cell.font.b for cell in sheet[1])
        assert sheet.freeze_panes == "A2"
        if name == "dismissed":  # no officer has decided in this scenario: a header, no filter
            assert sheet.max_row == 1
            continue
        assert sheet.auto_filter.ref == f"A1:P{sheet.max_row}"
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
    price, first_seen = header.index(LABELS["price"].both()), header.index(_heading("first_seen"))
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
    generated = rows[_heading("generated")]
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


LONG_URL = "https://shop-a.test/p/long?q=" + "x" * 2_100  # past Excel's 2,079-character hyperlink limit
# (marketplace id, title, seller, url, hyperlink target expected: None = the URL stays plain text)
LINKED = [
    ("plain", "ปลั๊กพ่วง", "ร้านดี", "https://shop-a.test/p/1", "https://shop-a.test/p/1"),
    ("thai", "ปลั๊กพ่วง", "ร้านดี", "https://shop-a.test/ค้นหา ปลั๊ก?q=\"x\"",
     "https://shop-a.test/%E0%B8%84%E0%B9%89%E0%B8%99%E0%B8%AB%E0%B8%B2%20%E0%B8%9B%E0%B8%A5%E0%B8%B1%E0%B9%8A"
     "%E0%B8%81?q=%22x%22"),
    ("formula", '=HYPERLINK("https://evil.test","ลดราคา")', "+cmd|' /C calc'!A0", "javascript:alert(1)", None),
    ("spaced", "-2+3", "@SUM(1+1)", " JaVaScRiPt:alert(2)", None),
    ("data", "ปลั๊กพ่วง", "ร้านดี", "data:text/html,<script>alert(3)</script>", None),
    ("sheet", "ปลั๊กพ่วง", "ร้านดี", "=HYPERLINK(\"https://evil.test\")", None),
    ("long", "ปลั๊กพ่วง", "ร้านดี", LONG_URL, None),
]  # fmt: skip


@pytest.fixture
def linked_book(sqlite_store: Store, tmp_path: Path) -> Path:
    with sqlite_store.session() as session:
        world = World(session)
        world.register(standards={"2879-2560": "แบตเตอรี่สำรอง"})
        for key, title, seller, url, _ in LINKED:
            listing = world.listing(key, title=title, seller=seller, url=url)
            world.observe(listing, bkk(DAY1), "no_licence_shown")
    return build_daily_report(sqlite_store, tmp_path / "linked", DAY1).xlsx


def _column(sheet: Worksheet, key: str) -> int:
    return _header(sheet).index(_heading(key))


def _row_of(sheet: Worksheet, marketplace_id: str) -> tuple[Cell, ...]:
    key = _column(sheet, "evidence")
    return next(
        row
        for row in sheet.iter_rows(min_row=2)
        if str(row[key].value).startswith(f"shop-a:{marketplace_id}")
    )


def test_listing_urls_are_hyperlinks_only_when_they_are_web_addresses(linked_book: Path) -> None:
    book = openpyxl.load_workbook(linked_book)
    sheet = book["new"]
    url = _column(sheet, "url")
    for key, _, _, shown, target in LINKED:
        row = _row_of(sheet, key)
        cell = row[url]
        if target is None:
            assert cell.hyperlink is None, key
        else:
            assert cell.hyperlink is not None, key
            assert cell.hyperlink.target == target, key
            assert cell.font.u == "single"
        assert cell.data_type == "s"
        assert cell.value == (shown if shown[:1] != "=" else "'" + shown), key  # shown as it was, inert
        for other in row:  # no other cell links anywhere, and no cell is a formula
            assert other is cell or other.hyperlink is None
            assert other.data_type != "f"
    assert len(_row_of(sheet, "long")[url].value) == len(LONG_URL)  # the whole URL, as text
    book.close()


def test_hostile_titles_and_sellers_stay_inert_text(linked_book: Path) -> None:
    book = openpyxl.load_workbook(linked_book)
    sheet = book["new"]
    title, seller = _column(sheet, "title"), _column(sheet, "seller")
    formula = _row_of(sheet, "formula")
    assert formula[title].value == '\'=HYPERLINK("https://evil.test","ลดราคา")'
    assert formula[seller].value == "'+cmd|' /C calc'!A0"
    spaced = _row_of(sheet, "spaced")
    assert (spaced[title].value, spaced[seller].value) == ("'-2+3", "'@SUM(1+1)")
    assert all(cell.hyperlink is None for cell in (formula[title], formula[seller]))
    book.close()


def test_hyperlinks_stop_at_the_sheet_limit_without_a_warning(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports.workbook, "HYPERLINKS_PER_SHEET", 2)
    with sqlite_store.session() as session:
        world = World(session)
        for number in range(4):
            world.observe(world.listing(f"p{number}"), bkk(DAY1), "no_licence_shown")
    book = openpyxl.load_workbook(build_daily_report(sqlite_store, tmp_path / "capped", DAY1).xlsx)
    sheet = book["new"]
    cells = [row[_column(sheet, "url")] for row in sheet.iter_rows(min_row=2)]
    assert [cell.hyperlink is not None for cell in cells] == [True, True, False, False]
    assert all(str(cell.value).startswith("https://shop-a.test/p/p") for cell in cells)  # the rest as text
    book.close()


def test_cells_of_several_lines_wrap_and_the_others_stay_on_one_line(workbooks: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(workbooks["day2"])
    sheet = book["continuing"]
    wrapped = {_column(sheet, key) for key in ("why", "title", "standard_name", "evidence")}
    rows = list(sheet.iter_rows(min_row=2))
    assert any("\n" in str(row[_column(sheet, "why")].value) for row in rows)  # reasons: several lines
    for row in rows:
        for cell in row:
            if cell.value is None:
                continue
            assert cell.alignment.wrap_text is (True if cell.column - 1 in wrapped else None), cell.coordinate
            assert cell.alignment.vertical == "top", cell.coordinate
    widths = {key: sheet.column_dimensions[get_column_letter(_column(sheet, key) + 1)].width for key in
              ("why", "title", "standard_name", "evidence")}  # fmt: skip
    assert all(30 <= width <= 70 for width in widths.values()), widths
    sellers = book["sellers"]
    listings = next(row for row in sellers.iter_rows(min_row=2) if "\n" in str(row[-1].value))
    assert listings[-1].alignment.wrap_text
    book.close()


def test_the_standards_thai_name_stands_beside_its_number(workbooks: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(workbooks["day2"])
    sheet = book["new"]
    number = _column(sheet, "standard")
    assert _column(sheet, "standard_name") == number + 1
    rows = [row for row in sheet.iter_rows(min_row=2) if row[number].value == "2879-2560"]
    assert rows
    assert {row[number + 1].value for row in rows} == {"แบตเตอรี่สำรอง"}
    summary = {row[0].value: [cell.value for cell in row] for row in book["summary"].iter_rows()}
    assert summary["2879-2560"][1:3] == [len(rows) + book["continuing"].max_row - 1, "แบตเตอรี่สำรอง"]
    assert any("2879-2560 แบตเตอรี่สำรอง" in str(row[9].value) for row in book["sellers"].iter_rows(min_row=2))
    book.close()


def test_coverage_shares_are_percentages(workbooks: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(workbooks["day2"])
    sheet = book["health"]
    header = _header(sheet)
    columns = [
        header.index(LABELS[f"cov_{name}"].both()) for name in ("title", "price", "seller", "licence_text")
    ]
    shares = [row[column] for row in sheet.iter_rows(min_row=2, max_row=2) for column in columns]
    assert shares
    assert all(cell.number_format == PERCENT_FORMAT for cell in shares)
    assert all(cell.value is None or isinstance(cell.value, float) for cell in shares)
    book.close()


def test_every_time_is_a_date_under_a_header_naming_its_zone(workbooks: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(workbooks["day2"])
    seen = 0
    for sheet in book.worksheets:
        if sheet.title == "summary":
            continue
        header = _header(sheet)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, datetime):
                    seen += 1
                    assert str(header[cell.column - 1]).endswith(" (Asia/Bangkok)"), (
                        sheet.title,
                        cell.coordinate,
                    )
                    assert cell.number_format == TIME_FORMAT
    assert seen > 10
    book.close()
