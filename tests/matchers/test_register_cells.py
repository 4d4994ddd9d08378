"""Register files with bad cells: every row is checked, each problem is reported as
``file:row:column: what is wrong``, and the database is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from store.db import Store
from tests.matchers.test_register_errors import (
    GOOD,
    HEADER,
    STANDARDS,
    refusal,
    refused,
    row,
    store_with_register,
    utf8,
)

__all__ = ["store_with_register"]  # the fixture, shared with test_register_errors

# (case id, file name, file bytes, kind given, the problems expected: each the start of one problem, in order)
CASES = [
    (
        "duplicate licence number in another spelling",
        "licences.csv",
        utf8(HEADER + GOOD + row(licence_no="ท ๑๒๓๔-๕๖ / ๒๘๗๙")),
        None,
        ["licences.csv:3:licence_no: duplicate licence number ท1234-56/2879 (first on row 2)"],
    ),
    (
        "duplicate TIS number in another spelling",
        "standards.csv",
        utf8(STANDARDS + "2879-2560,พาวเวอร์แบงค์,,,,\nมอก. ๒๘๗๙-๒๕๖๐,แบตสำรอง,,,,\n"),
        None,
        ["standards.csv:3:tis_number: duplicate TIS number 2879-2560 (first on row 2)"],
    ),
    (
        "malformed TIS number",
        "licences.csv",
        utf8(HEADER + row(tis_number="28790-25600")),
        None,
        [
            "licences.csv:2:tis_number: not a TIS number: '28790-25600' (expected e.g. 2879-2560 or 685 เล่ม 1-2562)"
        ],
    ),
    (
        "standard without its year",
        "standards.csv",
        utf8(STANDARDS + "2879,พาวเวอร์แบงค์,,,,\n"),
        None,
        ["standards.csv:2:tis_number: TIS number '2879' has no year; write it as TISI does, e.g. 2879-2560"],
    ),
    (
        "malformed licence number",
        "licences.csv",
        utf8(HEADER + row(licence_no="ABC") + row(licence_no="ท12#4/2879")),
        None,
        [
            "licences.csv:2:licence_no: not a licence number: 'ABC' (expected e.g. ท1234-56/2879)",
            "licences.csv:3:licence_no: not a licence number: 'ท12#4/2879'",
        ],
    ),
    (
        "unknown status",
        "licences.csv",
        utf8(HEADER + row(status="valid")),
        None,
        [
            "licences.csv:2:status: unknown status 'valid' (accepted: active, suspended, revoked, expired, ใช้งาน"
        ],
    ),
    (
        "bad dates",
        "licences.csv",
        utf8(HEADER + row(issued="2020-13-01") + row(licence_no="ท2-60/2879", expires="1/1/20")),
        None,
        [
            "licences.csv:2:issued: not a date: '2020-13-01' (no such day)",
            "licences.csv:3:expires: not a date: '1/1/20' (write YYYY-MM-DD, e.g. 2024-01-31 or 2567-01-31)",
        ],
    ),
    (
        "expiry before issue",
        "licences.csv",
        utf8(HEADER + row(issued="2020-01-01", expires="2562-12-31")),
        None,
        ["licences.csv:2:expires: expires 2019-12-31 is before issued 2020-01-01"],
    ),
    (
        "empty required cells",
        "licences.csv",
        utf8(HEADER + row(licensee="") + row(licence_no="ท2-60/2879", status=" - ")),
        None,
        [
            "licences.csv:2:licensee: empty cell; licensee is required",
            "licences.csv:3:status: empty cell; status is required",
        ],
    ),
    (
        "formula injection",
        "licences.csv",
        utf8(
            HEADER
            + row(licensee='"=HYPERLINK(""http://x"",""y"")"')
            + row(licence_no="ท2-60/2879", licensee="+1+1")
            + row(licence_no="ท3-60/2879", licensee="@SUM(A1)")
            + row(licence_no="ท4-60/2879", licensee="-2+3")
            + row(licence_no="ท5-60/2879", licensee="\u200b=1+1")
            + row(licence_no="ท6-60/2879", brands="Anker|=cmd")
        ),
        None,
        [
            "licences.csv:2:licensee: '=HYPERLINK(\"http://x\",\"y\")' starts with '=': formulas are not allowed",
            "licences.csv:3:licensee: '+1+1' starts with '+'",
            "licences.csv:4:licensee: '@SUM(A1)' starts with '@'",
            "licences.csv:5:licensee: '-2+3' starts with '-'",
            "licences.csv:6:licensee: '=1+1' starts with '='",
            "licences.csv:7:brands: '=cmd' starts with '='",
        ],
    ),
    (
        "oversized cell",
        "licences.csv",
        utf8(HEADER + row(licensee="ก" * 2001)),
        None,
        ["licences.csv:2:licensee: cell is 2,001 characters long, over the 2,000 limit"],
    ),
    (
        "control character",
        "licences.csv",
        utf8(HEADER + row(licensee="a\x07b") + row(licence_no="ท2-60/2879", licensee="a\x00b")),
        None,
        [
            "licences.csv:2:licensee: cell contains the control character U+0007",
            "licences.csv:3:licensee: cell contains the control character U+0000",
        ],
    ),
    (
        "too many cells in a row",
        "licences.csv",
        utf8(HEADER + GOOD.strip() + ",,extra\n"),
        None,
        ["licences.csv:2:I: cell outside the header's 7 columns (a separator too many?)"],
    ),
    (
        "too few cells in a row",
        "licences.csv",
        utf8(HEADER + "ท1234-56/2879,2879-2560,บริษัท ก จำกัด,Anker,active\n"),
        None,
        ["licences.csv:2:issued: row has 5 cells but the header has 7 (a separator missing?)"],
    ),
    (
        "row numbers count blank lines and multi-line cells as a spreadsheet does",
        "licences.csv",
        utf8(HEADER + "\n" + row(licensee='"two\nlines"') + row(licence_no="ท9-60/2879", status="??")),
        None,
        ["licences.csv:4:status: unknown status '??'"],
    ),
    (
        "unsafe model without letters or digits",
        "unsafe.csv",
        utf8("brand,model,reason\nZap,(),recall\n"),
        None,
        ["unsafe.csv:2:model: '()' has no letters or digits"],
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "kind", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_bad_cells_are_refused(
    store_with_register: Store,
    tmp_path: Path,
    name: str,
    content: bytes,
    kind: str | None,
    expected: list[str],
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    problems = refused(store_with_register, path, kind)
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start), f"{problem!r} does not start with {start!r}"


def test_formula_in_an_xlsx_cell(store_with_register: Store, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["licence_no", "tis_number", "licensee", "status"])
    sheet.append(["ท1-60/2879", "2879-2560", "=A1&B1", "active"])
    sheet.append(["ท2-60/2879", "2879-2560", "ok", "active", "stray"])
    path = tmp_path / "licences.xlsx"
    workbook.save(path)
    assert refused(store_with_register, path) == [
        "licences.xlsx:2:licensee: '=A1&B1' starts with '=': formulas are not allowed in a register file",
        "licences.xlsx:3:E: cell outside the header's 4 columns (a separator too many?)",
    ]


def test_every_row_is_checked_and_the_message_shows_the_first_twenty(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "licences.csv"
    path.write_text(
        HEADER + "".join(row(licence_no=f"ท{i}-60/2879", status="bad") for i in range(25)), "utf-8"
    )
    error = refusal(sqlite_store, path)
    assert len(error.problems) == 25
    assert str(error.problems[-1]).startswith("licences.csv:26:status: unknown status 'bad'")
    lines = str(error).splitlines()
    assert lines[0] == "register file refused, 25 problems; nothing was imported:"
    assert lines[1].startswith("licences.csv:2:status:")
    assert lines[20].startswith("licences.csv:21:status:")
    assert lines[21] == "... and 5 more"
    assert len(lines) == 22


def test_xlsx_table_that_starts_below_and_right_keeps_spreadsheet_positions(
    store_with_register: Store, tmp_path: Path
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"] = None
    for column, values in zip("BCDE", [("licence_no", "ท1-60/2879"), ("tis_number", "2879-2560"),
                                       ("licensee", "ก"), ("status", "bad")], strict=True):  # fmt: skip
        sheet[f"{column}3"], sheet[f"{column}4"] = values
    path = tmp_path / "licences.xlsx"
    workbook.save(path)
    assert refused(store_with_register, path) == [
        "licences.xlsx:4:status: unknown status 'bad' (accepted: active, suspended, revoked, expired, ใช้งาน, "
        "ปกติ, ใช้ได้, พักใช้, พักใช้ใบอนุญาต, เพิกถอน, ถูกเพิกถอน, เพิกถอนใบอนุญาต, ยกเลิก, หมดอายุ)"
    ]
