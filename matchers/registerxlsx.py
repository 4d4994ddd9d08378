"""Stream the rows of an XLSX workbook's first sheet within limits that an untrusted file cannot get past.

openpyxl reads the workbook read-only, parsing the sheet as it is read. Before it starts, the ZIP's
directory is checked: every part stored or deflated, as Excel writes them (bzip2 and LZMA inflate a
whole read at once), and their declared sizes adding up to at most ``max_bytes``. While openpyxl
reads, every byte it inflates is counted against the same limit, so a part whose declared size lies
is stopped there too. A few bytes of XML can stand for millions of empty cells, so a row number past
a spreadsheet's last row and a cell past :data:`MAX_COLUMNS` stop the reading as well.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from openpyxl.reader.excel import ExcelReader
from openpyxl.utils import get_column_letter

MAX_XLSX_BYTES = 500_000_000
"""An XLSX's decompressed size: a 100,000-row licence register written by openpyxl expands to about
58 MB (text written in each cell; Excel's shared strings make it smaller), so this is eight times that."""
MAX_COLUMNS = 200
"""Columns a register sheet may use: a register has at most ten, an export with notes a few more."""
MAX_PARTS = 10_000
"""Parts of a workbook: Excel writes about ten, plus one per sheet, chart or picture."""
LAST_ROW = 1_048_576
"""A spreadsheet's last row."""
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}


class XlsxError(Exception):
    """The workbook was not read to the end: ``row`` is where reading stopped (1: the whole workbook)."""

    def __init__(self, row: int, message: str, column: str = "") -> None:
        super().__init__(message)
        self.row, self.message, self.column = row, message, column


class _OverLimit(Exception):  # not a ValueError: openpyxl rewrites those
    pass


def xlsx_rows(data: bytes, max_bytes: int = MAX_XLSX_BYTES) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The first sheet's rows as (spreadsheet row number, values, formulas as their ``=`` text);
    XlsxError says where reading stopped and why."""
    archive = _open_archive(data, max_bytes)
    number = 0
    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=False)
        reader.archive.close()
        reader.archive = archive  # openpyxl reads every part through the counting archive
        reader.read()
        sheet = reader.wb.worksheets[0]
        sheet.reset_dimensions()  # the dimension a sheet declares would pad every row to its width
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > LAST_ROW:
                raise XlsxError(number, f"a spreadsheet has no row {number:,} (its last row is {LAST_ROW:,})")
            yield number, _narrow(number, values) if len(values) > MAX_COLUMNS else values
    except XlsxError:
        raise
    except _OverLimit:
        message = (
            f"the workbook expands to more than the {size_text(max_bytes)} limit for a register workbook"
        )
        raise XlsxError(number + 1, message) from None
    except Exception as exc:  # whatever openpyxl or the XML parser make of a broken file
        raise XlsxError(number + 1, f"not a readable XLSX workbook ({_why(exc)})") from None
    finally:
        archive.close()


def _open_archive(data: bytes, max_bytes: int) -> _CountingZip:
    """The workbook's ZIP archive, once its directory promises nothing over the limits."""
    try:
        archive = _CountingZip(io.BytesIO(data), max_bytes)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise XlsxError(1, f"not a readable XLSX workbook ({_why(exc)})") from None
    problem = _check_directory(archive.infolist(), max_bytes)
    if problem is not None:
        archive.close()
        raise XlsxError(1, problem)
    return archive


def _check_directory(parts: list[zipfile.ZipInfo], max_bytes: int) -> str | None:
    """What is wrong with the parts the archive's directory lists, or None."""
    odd = next((part for part in parts if part.compress_type not in _METHODS), None)
    if len(parts) > MAX_PARTS:
        return f"not a readable XLSX workbook: {len(parts):,} parts, over the {MAX_PARTS:,} limit"
    if odd is not None:
        method = _METHOD_NAMES.get(odd.compress_type, f"method {odd.compress_type}")
        return (
            f"not a readable XLSX workbook: {odd.filename!r} is compressed with {method}, not as Excel does"
        )
    if (total := sum(part.file_size for part in parts)) > max_bytes:
        return f"the workbook expands to {size_text(total)}, over the {size_text(max_bytes)} limit for a register workbook"
    return None


class _CountingZip(zipfile.ZipFile):
    """A ZIP archive that counts the bytes inflated from it and stops once they pass ``budget``. A part
    read twice counts once (openpyxl reads a sheet without a dimension to its end to look for one,
    then again for its rows): the count is the sum over the parts of the most read of each."""

    def __init__(self, file: IO[bytes], budget: int) -> None:
        super().__init__(file)
        self.budget = budget
        self.inflated: dict[str, int] = {}

    def open(self, name: Any, mode: Any = "r", pwd: bytes | None = None, *, force_zip64: bool = False) -> Any:
        part = super().open(name, mode, pwd, force_zip64=force_zip64)
        return _CountedPart(part, self) if isinstance(part, zipfile.ZipExtFile) else part

    def count(self, name: str, read: int) -> None:
        """Part ``name`` has been inflated to ``read`` bytes in this reading of it."""
        before = self.inflated.get(name, 0)
        if read > before:
            self.inflated[name] = read
            self.budget -= read - before
            if self.budget < 0:
                raise _OverLimit


class _CountedPart(io.RawIOBase):
    """One part of the archive as it is inflated, a read at a time, each counted."""

    def __init__(self, part: zipfile.ZipExtFile, archive: _CountingZip) -> None:
        self._part, self._archive, self._read = part, archive, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._part.read(len(buffer))
        self._read += len(data)
        self._archive.count(self._part.name, self._read)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._part.close()
        super().close()


def _narrow(number: int, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row cut to :data:`MAX_COLUMNS`; XlsxError if a cell past them holds a value."""
    beyond = next((index for index in range(MAX_COLUMNS, len(values)) if values[index] is not None), None)
    if beyond is not None:
        message = (
            f"cell beyond column {get_column_letter(MAX_COLUMNS)}: a register file has at most "
            f"{MAX_COLUMNS} columns"
        )
        raise XlsxError(number, message, get_column_letter(beyond + 1))
    return values[:MAX_COLUMNS]


def _why(exc: BaseException) -> str:
    """The first line of the innermost cause of an error (openpyxl wraps what the parser said)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    said = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {said[0]}" if said else type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"


def size_text(count: int) -> str:
    """A size as a message gives it: bytes up to a megabyte, then MB."""
    return f"{count:,} bytes" if count < 1_000_000 else f"{count / 1e6:,.1f} MB"
