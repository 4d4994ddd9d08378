"""Check every row of a register file and turn it into database records, or refuse the whole file.

Nothing is written here: :func:`read_register` either returns all the records of a file or raises
:class:`~matchers.registerfile.RegisterError` listing every problem it found, row by row. The rows are
checked as they are read; only the records of the rows that passed are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matchers.registercolumn import COLUMNS, DEFAULTS, KINDS, Column, check_cell, header_index, header_key
from matchers.registerfile import (
    KEPT_PROBLEMS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    MAX_XLSX_BYTES,
    Cell,
    Limits,
    Problem,
    RegisterError,
    Table,
    column_letter,
    open_table,
)

CACHE_LIMIT = 50_000
"""Distinct values remembered per column while checking a file."""
# kind → (record field that must be unique, column it is read from, what to call it)
_UNIQUE = {
    "standards": ("tis_canonical", "tis_number", "TIS number"),
    "licences": ("licence_canonical", "licence_no", "licence number"),
}


@dataclass(frozen=True)
class CheckedRegister:
    """A register file that passed every check: its kind, name, hash and the records to insert."""

    kind: str
    name: str
    sha256: str
    records: list[dict[str, Any]]


def read_register(
    path: Path,
    kind: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    *,
    max_xlsx_bytes: int = MAX_XLSX_BYTES,
    max_rows: int = MAX_ROWS,
) -> CheckedRegister:
    """Read and check a register file; the kind comes from its header unless given."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown register kind {kind!r}; expected one of {', '.join(KINDS)}")
    with open_table(path, Limits(max_bytes, max_xlsx_bytes, max_rows)) as table:
        keys = [header_key(name) for name in table.header]
        kind = kind or _detect_kind(table, keys)
        if not any(key in header_index(kind) for key in keys):
            raise RegisterError([_no_header(table)])
        positions = _positions(keys, kind)
        unnamed = [position for position, written in enumerate(table.header) if not written]
        records, problems, skipped, used, count = _check_rows(table, kind, positions, unnamed)
        problems = [*_check_header(table, keys, kind, used, count), *problems]
    if problems:
        more = max(0, len(problems) - KEPT_PROBLEMS) + skipped
        raise RegisterError(problems[:KEPT_PROBLEMS], more)
    return CheckedRegister(kind=kind, name=table.name, sha256=table.sha256, records=records)


def _detect_kind(table: Table, keys: list[str]) -> str:
    """The one kind whose required columns are all in the header, else the closest one."""
    scores: dict[str, tuple[bool, int, int]] = {}
    for kind in KINDS:
        index = header_index(kind)
        found = {index[key] for key in keys if index.get(key)}
        required = {column.name for column in COLUMNS[kind] if column.required}
        scores[kind] = (required <= found, len(found & required), len(found))
    ranked = sorted(KINDS, key=lambda kind: scores[kind], reverse=True)
    best, second = scores[ranked[0]], scores[ranked[1]]
    if best[2] == 0:
        raise RegisterError([_no_header(table)])
    if best == second or (best[0] and second[0]):
        message = f"cannot tell from the header whether this is a {ranked[0]} or a {ranked[1]} register"
        raise RegisterError([Problem(table.name, table.header_row, "", message + "; give the kind")])
    return ranked[0]


def _no_header(table: Table) -> Problem:
    first = table.header[0] if table.header else ""
    message = (
        f"no header row: none of the cells of row {table.header_row} is a column name "
        f"(it starts with {first!r}); the first row must name the columns, "
        "e.g. licence_no,tis_number,licensee,status"
    )
    return Problem(table.name, table.header_row, "", message)


def _positions(keys: list[str], kind: str) -> dict[str, int]:
    """The position of each known column (its first, if a file names it twice)."""
    index = header_index(kind)
    positions: dict[str, int] = {}
    for position, key in enumerate(keys):
        if (name := index.get(key)) and name not in positions:
            positions[name] = position
    return positions


def _check_header(
    table: Table, keys: list[str], kind: str, used: dict[int, int], count: int
) -> list[Problem]:
    """Problems with the header, once the rows are read: ``used`` says where each column without a
    name first has a value, ``count`` how many data rows there are."""
    index = header_index(kind)
    expected = ", ".join(column.name for column in COLUMNS[kind])
    row = table.header_row
    problems: list[Problem] = []
    positions: dict[str, int] = {}
    for position, (written, key) in enumerate(zip(table.header, keys, strict=True)):
        if not written:
            if position in used:  # an empty spacer column without a name is fine
                message = f"column has no name but has values (row {used[position]})"
                problems.append(Problem(table.name, row, column_letter(position), message))
        elif key not in index:
            message = f"unknown column (a {kind} register has the columns {expected})"
            problems.append(Problem(table.name, row, written, message))
        elif (name := index[key]) and name in positions:
            other = table.header[positions[name]]
            problems.append(
                Problem(table.name, row, written, f"column {name} appears twice (also as {other!r})")
            )
        elif name:
            positions[name] = position
    for column in COLUMNS[kind]:
        if column.required and column.name not in positions:
            problems.append(Problem(table.name, row, "", f"missing required column {column.name}"))
    if not count:
        problems.append(Problem(table.name, row + 1, "", "no data rows under the header"))
    return problems


def _check_rows(
    table: Table, kind: str, positions: dict[str, int], unnamed: list[int]
) -> tuple[list[dict[str, Any]], list[Problem], int, dict[int, int], int]:
    """Check every cell of every row as it is read: the records of the rows that passed, the problems
    (the first :data:`KEPT_PROBLEMS`) and how many more there are, the first row with a value in each
    column without a name, and the number of data rows."""
    width = len(table.header)
    columns = [(column, positions[column.name]) for column in COLUMNS[kind] if column.name in positions]
    unique_field, unique_column, unique_what = _UNIQUE.get(kind, ("", "", ""))
    first_seen: dict[str, int] = {}
    # a register repeats most cells (status, TIS number, dates, licensee): read each distinct value once
    caches: list[dict[Cell, dict[str, Any]]] = [{} for _ in columns]
    records: list[dict[str, Any]] = []
    problems: list[Problem] = []
    used: dict[int, int] = {}
    count = skipped = 0
    for number, cells in table.rows:
        count += 1
        if len(problems) > KEPT_PROBLEMS:
            skipped += len(problems) - KEPT_PROBLEMS
            del problems[KEPT_PROBLEMS:]
        for position in unnamed:
            if position not in used and _filled(cells, position):
                used[position] = number
        extra = None
        if len(cells) > width:
            extra = next((i for i in range(width, len(cells)) if str(cells[i]).strip()), None)
        if extra is not None:
            message = f"cell outside the header's {width} columns (a separator too many?)"
            problems.append(Problem(table.name, number, column_letter(extra), message))
            continue
        if table.fixed_width and len(cells) < width:
            message = f"row has {len(cells)} cells but the header has {width} (a separator missing?)"
            problems.append(
                Problem(table.name, number, table.header[len(cells)] or column_letter(len(cells)), message)
            )
            continue
        record = dict(DEFAULTS[kind])
        valid = True
        for (column, position), cache in zip(columns, caches, strict=True):
            raw = cells[position] if position < len(cells) else ""
            fields = cache.get(raw)
            if fields is None:
                try:
                    fields = _read_cell(column, raw)
                except ValueError as exc:
                    problems.append(Problem(table.name, number, table.header[position], str(exc)))
                    valid = False
                    continue
                if len(cache) < CACHE_LIMIT:
                    cache[raw] = fields
            record.update(fields)
        issued, expires = record.get("issued"), record.get("expires")
        if issued and expires and expires < issued:
            message = f"expires {expires.isoformat()} is before issued {issued.isoformat()}"
            problems.append(Problem(table.name, number, table.header[positions["expires"]], message))
            valid = False
        key = record.get(unique_field)
        if key in first_seen:
            message = f"duplicate {unique_what} {key} (first on row {first_seen[key]})"
            problems.append(Problem(table.name, number, table.header[positions[unique_column]], message))
            valid = False
        elif key:
            first_seen[key] = number
        if valid and not problems:  # a refused file's records are of no use
            records.append(record)
    return records, problems, skipped, used, count


def _filled(cells: list[Cell], position: int) -> bool:
    return position < len(cells) and bool(str(cells[position]).strip())


def _read_cell(column: Column, raw: Cell) -> dict[str, Any]:
    """The fields one cell fills ({} when an optional cell is empty); ValueError says what is wrong."""
    value = check_cell(raw)
    if value is None:
        if column.required:
            raise ValueError(f"empty cell; {column.name} is required")
        return {}
    return column.parse(value)
