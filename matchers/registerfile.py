"""Read a register file (CSV or XLSX) into a header and rows, or say exactly what is wrong with it.

A problem is reported as ``file:row:column: what is wrong``: ``file`` is the file name, ``row`` the
row number a spreadsheet shows (the header is row 1), ``column`` the header as written in the file
(or the column letter where there is no header). Problems with the whole file have no column:
``licences.csv:1: empty file``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

MAX_FILE_BYTES = 200 * 1024 * 1024
"""Larger files are refused before they are read (a 100,000-row licence register is about 10 MB)."""
SHOWN_PROBLEMS = 20

Cell = str | date


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a register file, located as a spreadsheet user would find it."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}:{self.column}" if self.column else f"{self.file}:{self.row}"
        return f"{where}: {self.message}"


class RegisterError(ValueError):
    """A register file was refused; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = [str(problem) for problem in self.problems[:SHOWN_PROBLEMS]]
        count = len(self.problems)
        if count > SHOWN_PROBLEMS:
            lines.append(f"... and {count - SHOWN_PROBLEMS} more")
        heading = f"register file refused, {count} problem{'s' if count != 1 else ''}; nothing was imported:"
        super().__init__("\n".join([heading, *lines]))


@dataclass
class Table:
    """A register file as read: the header row and the data rows with their spreadsheet row numbers."""

    name: str
    sha256: str
    header_row: int
    header: list[str]
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)
    fixed_width: bool = True
    """CSV rows must have as many cells as the header; XLSX rows may end early."""


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def read_table(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Table:
    """Read a CSV (UTF-8, with or without BOM) or XLSX file; RegisterError if it cannot be read."""
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise RegisterError([Problem(name, 1, "", f"cannot read the file: {exc.strerror}")]) from None
    if size > max_bytes:
        message = f"file is {_size(size)}, over the {_size(max_bytes)} limit"
        raise RegisterError([Problem(name, 1, "", message)])
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    fixed_width = not data.startswith(b"PK\x03\x04")
    if not fixed_width:
        rows = _xlsx_rows(name, data)
    elif suffix in {".xlsx", ".xlsm"}:
        raise RegisterError([Problem(name, 1, "", "not an XLSX workbook (the file is not a ZIP archive)")])
    elif suffix == ".xls" or data.startswith(b"\xd0\xcf\x11\xe0"):
        message = "old Excel .xls format is not supported; save it as .xlsx or as CSV UTF-8"
        raise RegisterError([Problem(name, 1, "", message)])
    else:
        rows = _csv_rows(name, data)
    rows = [(number, cells) for number, cells in rows if _present(cells)]
    if not rows:
        raise RegisterError([Problem(name, 1, "", "empty file")])
    header_row, header_cells = rows[0]  # the first non-empty row; rows keep their own numbers
    header = [str(cell).strip() for cell in header_cells]
    while header and not header[-1]:
        header.pop()
    return Table(name, digest, header_row, header, rows[1:], fixed_width)


def _size(count: int) -> str:
    return f"{count:,} bytes" if count < 1_000_000 else f"{count / 1e6:,.1f} MB"


def _present(cells: list[Cell]) -> bool:
    """Whether a row has anything in it (blank rows are skipped but keep their numbers)."""
    return any(not isinstance(cell, str) or cell.strip() for cell in cells) if cells else False


def _csv_rows(name: str, data: bytes) -> list[tuple[int, list[Cell]]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RegisterError([Problem(name, 1, "", "file is UTF-16 text; save it as CSV UTF-8")])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegisterError([_decode_problem(name, data, exc)]) from None
    rows: list[tuple[int, list[Cell]]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            rows.append((number, list(cells)))
    except csv.Error as exc:
        raise RegisterError([Problem(name, number + 1, "", f"not valid CSV: {exc}")]) from None
    return rows


def _decode_problem(name: str, data: bytes, exc: UnicodeDecodeError) -> Problem:
    """Say where UTF-8 decoding failed, as a row and a column, and guess the real encoding."""
    before = data[: exc.start].decode("utf-8", errors="replace")
    records = list(csv.reader(io.StringIO(before, newline="")))
    if not records or before.endswith(("\n", "\r")):
        row, index = len(records) + 1, 0
    else:
        row, index = len(records), len(records[-1]) - 1
    header = records[0] if row > 1 else []
    column = header[index].strip() if index < len(header) and header[index].strip() else column_letter(index)
    byte = data[exc.start]
    message = f"not UTF-8 text (byte 0x{byte:02X})"
    try:
        data.decode("cp874")
    except UnicodeDecodeError:
        message += "; save the file as CSV UTF-8"
    else:
        message += "; it looks like Thai Windows-874/TIS-620: save it as CSV UTF-8"
    return Problem(name, row, column, message)


def _xlsx_rows(name: str, data: bytes) -> list[tuple[int, list[Cell]]]:
    """The first sheet's rows; formulas come back as their text (``=...``) so they can be refused."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        message = f"not a readable XLSX workbook ({type(exc).__name__}: {exc})"
        raise RegisterError([Problem(name, 1, "", message)]) from None
    try:
        sheet = workbook.worksheets[0]
        rows: list[tuple[int, list[Cell]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((number, [_xlsx_cell(value) for value in values]))
        return rows
    finally:
        workbook.close()


def _xlsx_cell(value: object) -> Cell:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
