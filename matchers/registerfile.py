"""Read a register file (CSV or XLSX) into a header and its rows, or say exactly what is wrong with it.

A problem is reported as ``file:row:column: what is wrong``: ``file`` is the file name, ``row`` the
row number a spreadsheet shows (the header is row 1), ``column`` the header as written in the file
(or the column letter where there is no header). Problems with the whole file have no column:
``licences.csv:1: empty file``. File names, headers and cells come from outside: a problem is printed
with their control and direction characters escaped (``core.text.escaped``), so that a file name with a line
break cannot forge a line and a header with an ANSI escape cannot clear the terminal.

A file is read as it is checked — rows are not gathered first — within :class:`Limits` set well above
any real register: the file's size, an XLSX's decompressed size, and the number of data rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import stat
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from core.text import escaped
from matchers.registerxlsx import MAX_XLSX_BYTES, XlsxError, size_text, xlsx_rows

MAX_FILE_BYTES = 200 * 1024 * 1024
"""Larger files are refused before they are read (a 100,000-row licence register is about 10 MB)."""
MAX_ROWS = 1_000_000
"""Data rows a register file may hold: ten times a large licence register (about 100,000 rows).
Every row is kept in memory until the whole file has passed, so this also bounds memory."""
SHOWN_PROBLEMS = 20
KEPT_PROBLEMS = 1000
"""Problems kept for a refused file; the rest are counted (a file with every row wrong, e.g. columns
in the wrong order, would otherwise keep one for each row)."""

Cell = str | date


@dataclass(frozen=True)
class Limits:
    """How much of a register file is read before it is refused; every limit is named when it is hit."""

    file_bytes: int = MAX_FILE_BYTES
    xlsx_bytes: int = MAX_XLSX_BYTES
    rows: int = MAX_ROWS


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a register file, located as a spreadsheet user would find it."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}:{self.column}" if self.column else f"{self.file}:{self.row}"
        return escaped(f"{where}: {self.message}")


class RegisterError(ValueError):
    """A register file was refused; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Sequence[Problem], more: int = 0) -> None:
        self.problems = list(problems)
        self.more = more
        """Problems found beyond those kept (:data:`KEPT_PROBLEMS`), only counted."""
        lines = [str(problem) for problem in self.problems[:SHOWN_PROBLEMS]]
        count = len(self.problems) + more
        if count > SHOWN_PROBLEMS:
            lines.append(f"... and {count - SHOWN_PROBLEMS} more")
        heading = f"register file refused, {count} problem{'s' if count != 1 else ''}; nothing was imported:"
        super().__init__("\n".join([heading, *lines]))


@dataclass
class Table:
    """A register file being read: its header, and its data rows (with their spreadsheet row numbers)
    read as they are taken, once."""

    name: str
    sha256: str
    header_row: int
    header: list[str]
    rows: Iterator[tuple[int, list[Cell]]]
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


@contextmanager
def open_table(path: Path, limits: Limits = Limits()) -> Iterator[Table]:
    """Open a CSV (UTF-8, with or without BOM) or XLSX file: its header is read, its rows are read as
    they are taken; RegisterError, at once or while the rows are read, if it cannot be read."""
    name = path.name
    data = _read(path, limits.file_bytes)
    digest = hashlib.sha256(data).hexdigest()
    fixed_width = not data.startswith(b"PK\x03\x04")
    rows = _csv_rows(name, data) if fixed_width else _xlsx_rows(name, data, limits.xlsx_bytes)
    if fixed_width and path.suffix.lower() in {".xlsx", ".xlsm"}:
        raise RegisterError([Problem(name, 1, "", "not an XLSX workbook (the file is not a ZIP archive)")])
    if fixed_width and (path.suffix.lower() == ".xls" or data.startswith(b"\xd0\xcf\x11\xe0")):
        message = "old Excel .xls format is not supported; save it as .xlsx or as CSV UTF-8"
        raise RegisterError([Problem(name, 1, "", message)])
    try:
        present = ((number, cells) for number, cells in rows if _present(cells))  # blank rows keep numbers
        first = next(present, None)
        if first is None:
            raise RegisterError([Problem(name, 1, "", "empty file")])
        header_row, header_cells = first  # the first non-empty row
        header = [str(cell).strip() for cell in header_cells]
        while header and not header[-1]:
            header.pop()
        yield Table(name, digest, header_row, header, _at_most(name, present, limits.rows), fixed_width)
    finally:
        rows.close()


def _read(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, if it is a file no larger than ``max_bytes`` (read no further than that)."""
    name = path.name
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise RegisterError([Problem(name, 1, "", "is a directory, not a register file")])
        if not stat.S_ISREG(mode):  # a pipe or a device may never end
            raise RegisterError([Problem(name, 1, "", "is not a regular file")])
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except OSError as exc:
        raise RegisterError([Problem(name, 1, "", f"cannot read the file: {exc.strerror}")]) from None
    if len(data) > max_bytes:
        size = max(len(data), path.stat().st_size)
        message = f"file is {size_text(size)}, over the {size_text(max_bytes)} limit"
        raise RegisterError([Problem(name, 1, "", message)])
    return data


def _at_most(
    name: str, rows: Iterator[tuple[int, list[Cell]]], limit: int
) -> Iterator[tuple[int, list[Cell]]]:
    for count, (number, cells) in enumerate(rows, start=1):
        if count > limit:
            message = f"more than {limit:,} data rows; a register file may hold at most {limit:,}"
            raise RegisterError([Problem(name, number, "", message)])
        yield number, cells


def _present(cells: list[Cell]) -> bool:
    """Whether a row has anything in it (blank rows are skipped but keep their numbers)."""
    return any(not isinstance(cell, str) or cell.strip() for cell in cells) if cells else False


def _csv_rows(name: str, data: bytes) -> Generator[tuple[int, list[Cell]]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RegisterError([Problem(name, 1, "", "file is UTF-16 text; save it as CSV UTF-8")])
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")  # decoded as read
    number = 0
    try:
        for number, cells in enumerate(csv.reader(text), start=1):
            yield number, list(cells)
    except UnicodeDecodeError:
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:  # decoded whole again, to say where
            raise RegisterError([_decode_problem(name, body, exc)]) from None
        raise
    except csv.Error as exc:
        raise RegisterError([Problem(name, number + 1, "", f"not valid CSV: {exc}")]) from None


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


def _xlsx_rows(name: str, data: bytes, max_bytes: int) -> Generator[tuple[int, list[Cell]]]:
    """The first sheet's rows; formulas come back as their text (``=...``) so they can be refused."""
    try:
        for number, values in xlsx_rows(data, max_bytes):
            yield number, [_xlsx_cell(value) for value in values]
    except XlsxError as exc:
        raise RegisterError([Problem(name, exc.row, exc.column, exc.message)]) from None


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
