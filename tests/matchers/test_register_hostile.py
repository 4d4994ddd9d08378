"""Hostile register files: a corrupt XLSX, a ZIP bomb, too many rows, control characters in headers and
file names. Each is refused with ``file:row: what is wrong`` — never a traceback — and changes nothing."""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from core.text import escaped as shown
from matchers import registercheck, registerxlsx
from matchers.register import import_register
from matchers.registerfile import MAX_XLSX_BYTES
from store.db import Store
from tests.matchers.test_register_errors import GOOD, HEADER, refusal, refused, row, store_with_register

__all__ = ["store_with_register"]  # the fixture, shared with test_register_errors

SHEET = "xl/worksheets/sheet1.xml"
MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHARED = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
LICENCE_ROWS = [
    ["licence_no", "tis_number", "licensee", "status"],
    ["ท1-60/2879", "2879-2560", "บริษัท ก จำกัด", "active"],
    ["ท2-60/2879", "2879-2560", "บริษัท ข จำกัด", "active"],
    ["ท3-60/2879", "2879-2560", "บริษัท ค จำกัด", "active"],
]


def workbook_parts(rows: list[list[str]] = LICENCE_ROWS, *, shared: bool = False) -> dict[str, bytes]:
    """The parts of a real openpyxl workbook holding ``rows`` (``shared``: text as shared strings)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    if shared:  # openpyxl writes inline strings; Excel writes a table of shared strings: make one
        texts: list[bytes] = []

        def share(match: re.Match[bytes]) -> bytes:
            texts.append(match.group(1))
            return b"<v>%d</v>" % (len(texts) - 1)

        parts[SHEET] = re.sub(rb"<is><t>(.*?)</t></is>", share, parts[SHEET].replace(b"inlineStr", b"s"))
        items = b"".join(b"<si><t>%s</t></si>" % text for text in texts)
        parts["xl/sharedStrings.xml"] = b'<sst xmlns="%s">%s</sst>' % (MAIN, items)
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="%s"/></Types>' % SHARED
        )
    return parts


def write_xlsx(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def cut_in_row(number: int) -> Callable[[dict[str, bytes]], None]:
    """Break the sheet's XML in the middle of row ``number``."""

    def corrupt(parts: dict[str, bytes]) -> None:
        sheet = parts[SHEET]
        start = sheet.index(f'<row r="{number}"'.encode())
        parts[SHEET] = sheet[: start + 30]

    return corrupt


def replace(part: str, old: bytes, new: bytes) -> Callable[[dict[str, bytes]], None]:
    def corrupt(parts: dict[str, bytes]) -> None:
        assert old in parts[part]
        parts[part] = parts[part].replace(old, new, 1)

    return corrupt


def drop(part: str) -> Callable[[dict[str, bytes]], None]:
    return lambda parts: parts.pop(part) and None


# (case id, shared strings, how the workbook is broken, the one problem expected: its start)
CORRUPT = [
    ("sheet XML cut short in row 3", False, cut_in_row(3), "licences.xlsx:3: not a readable XLSX workbook"),
    ("sheet XML cut short in row 2", False, cut_in_row(2), "licences.xlsx:2: not a readable XLSX workbook"),
    (
        "sheet is not XML",
        False,
        lambda parts: parts.update({SHEET: b"\x00garbage"}),
        "licences.xlsx:1: not a ",
    ),
    (
        "a cell left open at the end of row 3",
        False,
        replace(SHEET, b'</c></row><row r="4"', b'</row><row r="4"'),
        "licences.xlsx:3: not a readable XLSX workbook",
    ),
    (
        "shared string out of range",
        True,
        replace(SHEET, b"<v>5</v>", b"<v>999</v>"),
        "licences.xlsx:2: not a readable XLSX workbook",
    ),
    (
        "shared strings not XML",
        True,
        replace("xl/sharedStrings.xml", b"<si>", b"<si"),
        "licences.xlsx:1: not a readable XLSX workbook",
    ),
    ("no sheet part", False, drop(SHEET), "licences.xlsx:1: not a readable XLSX workbook"),
    ("no workbook part", False, drop("xl/workbook.xml"), "licences.xlsx:1: not a readable XLSX workbook"),
    (
        "a number that is not",
        False,
        replace(SHEET, b't="inlineStr"><is><t>active</t></is>', b"><v>1x</v>"),
        "licences.xlsx:2: not a readable XLSX workbook",
    ),
]


@pytest.mark.parametrize(
    ("shared", "corrupt", "expected"), [case[1:] for case in CORRUPT], ids=[case[0] for case in CORRUPT]
)
def test_a_corrupt_xlsx_is_refused_at_the_row_where_reading_failed(
    store_with_register: Store,
    tmp_path: Path,
    shared: bool,
    corrupt: Callable[[dict[str, bytes]], None],
    expected: str,
) -> None:
    parts = workbook_parts(shared=shared)
    write_xlsx(tmp_path / "intact.xlsx", parts)
    assert import_register(store_with_register, tmp_path / "intact.xlsx").row_count == 3  # the case is fair
    corrupt(parts)
    [problem] = refused(store_with_register, write_xlsx(tmp_path / "licences.xlsx", parts))
    assert problem.startswith(expected), problem
    assert "\n" not in problem


def test_a_damaged_zip_member_is_refused(store_with_register: Store, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "licences.xlsx", workbook_parts())
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SHEET)
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle] ^= 0xFF  # one flipped byte in the compressed sheet
    path.write_bytes(bytes(data))
    [problem] = refused(store_with_register, path)
    assert problem.startswith("licences.xlsx:"), problem
    assert "not a readable XLSX workbook" in problem


# --- limits


def bomb(path: Path, expands_to: int, *, declared: int | None = None) -> Path:
    """An XLSX whose sheet is ``expands_to`` bytes of identical licence rows, deflated to a little; the
    ZIP directory declares the sheet's size as ``declared`` (default: the truth)."""
    parts = workbook_parts()
    head, _, tail = parts.pop(SHEET).partition(b"</sheetData>")
    line = b"<row>" + b"".join(b'<c t="inlineStr"><is><t>%s</t></is></c>' % cell.encode()
                               for cell in LICENCE_ROWS[1]) + b"</row>"  # fmt: skip
    chunk = line * (1_000_000 // len(line))
    count = max(0, expands_to - len(head) - len(tail) - 12) // len(chunk)
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    crc = zlib.crc32(head)
    compressed = [packer.compress(head)]
    compressed.extend(packer.compress(chunk) for _ in range(count))
    end = b"</sheetData>" + tail
    compressed += [packer.compress(end), packer.flush()]
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(end, crc)
    size = len(head) + count * len(chunk) + len(end)
    sheet = b"".join(compressed)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
        info = zipfile.ZipInfo(SHEET, (2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.CRC, info.file_size, info.compress_size = crc, declared or size, len(sheet)
        info.header_offset = archive.fp.tell()  # type: ignore[union-attr]
        archive.fp.write(info.FileHeader(zip64=False))  # type: ignore[union-attr]
        archive.fp.write(sheet)  # type: ignore[union-attr]
        archive.start_dir = archive.fp.tell()  # type: ignore[union-attr]
        archive.filelist.append(info)
        archive.NameToInfo[info.filename] = info
    return path


def expanded(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(part.file_size for part in archive.infolist())


def test_a_zip_bomb_is_refused_before_it_is_read(store_with_register: Store, tmp_path: Path) -> None:
    path = bomb(tmp_path / "licences.xlsx", MAX_XLSX_BYTES + 100_000_000)
    assert path.stat().st_size < 5_000_000  # small on disk
    total = expanded(path)
    assert total > MAX_XLSX_BYTES + 90_000_000
    assert refused(store_with_register, path) == [
        f"licences.xlsx:1: the workbook expands to {total / 1e6:.1f} MB, over the 500.0 MB limit for a "
        "register workbook"
    ]


def test_a_bomb_that_declares_a_small_size_is_stopped_while_reading(
    store_with_register: Store, tmp_path: Path
) -> None:
    path = bomb(tmp_path / "licences.xlsx", 30_000_000, declared=1_000_000)
    [problem] = refused(store_with_register, path, max_xlsx_bytes=2_000_000)
    assert problem.startswith("licences.xlsx:"), problem
    assert "not a readable XLSX workbook" in problem or "over the 2.0 MB limit" in problem


def test_the_bytes_inflated_are_counted_too(
    store_with_register: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the ZIP directory's sizes believed, reading would still stop at the limit."""
    monkeypatch.setattr(registerxlsx, "_check_directory", lambda parts, max_bytes: None)
    path = bomb(tmp_path / "licences.xlsx", 30_000_000)
    [problem] = refused(store_with_register, path, max_xlsx_bytes=2_000_000)
    assert re.fullmatch(
        r"licences\.xlsx:\d+: the workbook expands to more than the 2\.0 MB limit for a register workbook",
        problem,
    ), problem
    assert int(problem.split(":")[1]) > 1000  # stopped in the sheet, after the rows that fit


def test_a_sheet_read_twice_counts_once(store_with_register: Store, tmp_path: Path) -> None:
    """openpyxl reads a sheet without a dimension to its end to look for one, then again for its rows."""
    rows = [LICENCE_ROWS[0], *([f"ท{i}-60/2879", "2879-2560", "บริษัท ก จำกัด", "active"] for i in range(6000))]
    parts = workbook_parts(rows)
    parts[SHEET] = re.sub(rb"<dimension [^>]*/>", b"", parts[SHEET])
    path = write_xlsx(tmp_path / "licences.xlsx", parts)
    assert 1_200_000 < expanded(path) < 2_000_000
    assert import_register(store_with_register, path, max_xlsx_bytes=2_000_000).row_count == 6000


def test_a_bomb_under_a_lower_limit_names_the_limit(store_with_register: Store, tmp_path: Path) -> None:
    path = bomb(tmp_path / "licences.xlsx", 3_500_000)
    assert refused(store_with_register, path, max_xlsx_bytes=2_000_000) == [
        f"licences.xlsx:1: the workbook expands to {expanded(path) / 1e6:.1f} MB, over the 2.0 MB limit for "
        "a register workbook"
    ]


def test_an_xlsx_compressed_other_than_excel_does_is_refused(
    store_with_register: Store, tmp_path: Path
) -> None:
    path = tmp_path / "licences.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as archive:
        for name, data in workbook_parts().items():
            archive.writestr(name, data)
    [problem] = refused(store_with_register, path)
    assert problem.startswith("licences.xlsx:1: not a readable XLSX workbook: ")
    assert "compressed with bzip2" in problem


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_more_data_rows_than_the_limit_are_refused_with_one_problem(
    store_with_register: Store, tmp_path: Path, suffix: str
) -> None:
    rows = [["licence_no", "tis_number", "licensee", "status"]]
    rows += [[f"ท{i}-60/2879", "2879-2560", "ก", "bad" if i == 7 else "active"] for i in range(8)]
    path = tmp_path / f"licences.{suffix}"
    if suffix == "csv":
        path.write_text("".join(",".join(cells) + "\n" for cells in rows), encoding="utf-8")
    else:
        write_xlsx(path, workbook_parts(rows))
    assert len(refused(store_with_register, path)) == 1  # the bad last row, under the default limit
    assert refused(store_with_register, path, max_rows=5) == [
        f"licences.{suffix}:7: more than 5 data rows; a register file may hold at most 5"
    ]


def test_a_row_number_past_the_last_spreadsheet_row_is_refused(
    store_with_register: Store, tmp_path: Path
) -> None:
    parts = workbook_parts()
    parts[SHEET] = (
        parts[SHEET].replace(b'<row r="4">', b'<row r="900000000">').replace(b'r="A4"', b'r="A900000000"')
    )
    [problem] = refused(store_with_register, write_xlsx(tmp_path / "licences.xlsx", parts))
    assert problem == "licences.xlsx:1048577: a spreadsheet has no row 1,048,577 (its last row is 1,048,576)"


def test_a_cell_far_right_is_refused(store_with_register: Store, tmp_path: Path) -> None:
    parts = workbook_parts()
    far = b'<c r="ZZZ3" t="inlineStr"><is><t>x</t></is></c></row><row r="4">'
    parts[SHEET] = parts[SHEET].replace(b'</row><row r="4">', far)
    [problem] = refused(store_with_register, write_xlsx(tmp_path / "licences.xlsx", parts))
    assert problem == "licences.xlsx:3:ZZZ: cell beyond column GR: a register file has at most 200 columns"


def test_a_file_wrong_in_every_row_keeps_the_first_problems_and_counts_the_rest(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registercheck, "KEPT_PROBLEMS", 30)
    path = tmp_path / "licences.csv"
    path.write_text(
        HEADER + "".join(row(licence_no=f"ท{i}-60/2879", status="bad") for i in range(50)), "utf-8"
    )
    error = refusal(sqlite_store, path)
    assert (len(error.problems), error.more) == (30, 20)
    assert str(error.problems[-1]).startswith("licences.csv:31:status: unknown status 'bad'")
    lines = str(error).splitlines()
    assert lines[0] == "register file refused, 50 problems; nothing was imported:"
    assert lines[-1] == "... and 30 more"


# --- control characters


def test_shown_escapes_control_and_direction_characters() -> None:
    assert shown("a\x1b[2Jb\nc\td\x85e\x7ff") == "a\\x1b[2Jb\\x0ac\\x09d\\x85e\\x7ff"
    assert (
        shown("\u202egpj.exe \u2066x\u2069 \u2028 \u200f ไทย")
        == "\\u202egpj.exe \\u2066x\\u2069 \\u2028 \\u200f ไทย"
    )


def test_an_ansi_escape_in_a_header_is_shown_escaped(store_with_register: Store, tmp_path: Path) -> None:
    path = tmp_path / "licences.csv"
    path.write_text(
        HEADER.strip() + ",\x1b[2J\x1b[Hcolour\u202e\n" + GOOD.strip() + ",red\n", encoding="utf-8"
    )
    error = refusal(store_with_register, path)
    assert [str(problem) for problem in error.problems] == [
        "licences.csv:1:\\x1b[2J\\x1b[Hcolour\\u202e: unknown column (a licences register has the columns "
        "licence_no, tis_number, licensee, brands, status, issued, expires)"
    ]
    assert "\x1b" not in str(error)
    assert "\u202e" not in str(error)


def test_a_newline_in_a_file_name_cannot_forge_an_error_line(
    store_with_register: Store, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv\nlicences.csv:9:status: forged.csv"
    path.write_text(HEADER + row(status='"bad\nforged"'), encoding="utf-8")
    lines = str(refusal(store_with_register, path)).splitlines()
    assert lines == [
        "register file refused, 1 problem; nothing was imported:",
        "x.csv\\x0alicences.csv:9:status: forged.csv:2:status: unknown status 'bad forged' (accepted: "
        "active, suspended, revoked, expired, ใช้งาน, ปกติ, ใช้ได้, พักใช้, พักใช้ใบอนุญาต, เพิกถอน, ถูกเพิกถอน, "
        "เพิกถอนใบอนุญาต, ยกเลิก, หมดอายุ)",
    ]


def test_a_directory_is_not_a_register_file(store_with_register: Store, tmp_path: Path) -> None:
    (tmp_path / "licences.csv").mkdir()
    assert refused(store_with_register, tmp_path / "licences.csv") == [
        "licences.csv:1: is a directory, not a register file"
    ]


def test_a_pipe_is_not_read(store_with_register: Store, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "licences.csv")  # opening it would wait for a writer for ever
    assert refused(store_with_register, tmp_path / "licences.csv") == [
        "licences.csv:1: is not a regular file"
    ]


def test_the_header_row_of_a_csv_is_read_line_by_line(store_with_register: Store, tmp_path: Path) -> None:
    """A file with a BOM, Windows line ends and a quoted cell spanning two lines still imports."""
    path = tmp_path / "licences.csv"
    body = HEADER + GOOD + row(licence_no="ท2-60/2879", licensee='"บริษัท\nสอง"')
    path.write_bytes(b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode("utf-8"))
    assert import_register(store_with_register, path).row_count == 2
