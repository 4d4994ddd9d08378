"""Check every row of a register file and turn it into database records, or refuse the whole file.

Nothing is written here: :func:`read_register` either returns all the records of a file or raises
:class:`~matchers.registerfile.RegisterError` listing every problem it found, row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matchers.registercolumn import COLUMNS, DEFAULTS, KINDS, Column, check_cell, header_index, header_key
from matchers.registerfile import (
    MAX_FILE_BYTES,
    Cell,
    Problem,
    RegisterError,
    Table,
    column_letter,
    read_table,
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


def read_register(path: Path, kind: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> CheckedRegister:
    """Read and check a register file; the kind comes from its header unless given."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown register kind {kind!r}; expected one of {', '.join(KINDS)}")
    table = read_table(path, max_bytes)
    keys = [header_key(name) for name in table.header]
    kind = kind or _detect_kind(table, keys)
    if not any(key in header_index(kind) for key in keys):
        raise RegisterError([_no_header(table)])
    problems, positions = _check_header(table, keys, kind)
    records = _check_rows(table, kind, positions, problems)
    if problems:
        raise RegisterError(problems)
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


def _check_header(table: Table, keys: list[str], kind: str) -> tuple[list[Problem], dict[str, int]]:
    """Problems with the header, and the position of each known column."""
    index = header_index(kind)
    expected = ", ".join(column.name for column in COLUMNS[kind])
    row = table.header_row
    problems: list[Problem] = []
    positions: dict[str, int] = {}
    for position, (written, key) in enumerate(zip(table.header, keys, strict=True)):
        if not written:
            used = next((number for number, cells in table.rows if _filled(cells, position)), None)
            if used is not None:  # an empty spacer column without a name is fine
                message = f"column has no name but has values (row {used})"
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
    if not table.rows:
        problems.append(Problem(table.name, row + 1, "", "no data rows under the header"))
    return problems, positions


def _check_rows(
    table: Table, kind: str, positions: dict[str, int], problems: list[Problem]
) -> list[dict[str, Any]]:
    """Check every cell of every row; append the problems, return the records."""
    width = len(table.header)
    columns = [(column, positions[column.name]) for column in COLUMNS[kind] if column.name in positions]
    unique_field, unique_column, unique_what = _UNIQUE.get(kind, ("", "", ""))
    first_seen: dict[str, int] = {}
    # a register repeats most cells (status, TIS number, dates, licensee): read each distinct value once
    caches: list[dict[Cell, dict[str, Any]]] = [{} for _ in columns]
    records: list[dict[str, Any]] = []
    for number, cells in table.rows:
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
        if valid:
            records.append(record)
    return records


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
