"""Findings export (``tisiwatch export findings``): JSONL, CSV or Parquet, the SPEC's columns in order.

- JSONL: one JSON object per line, UTF-8, non-ASCII kept as it is.
- CSV: UTF-8 with a byte-order mark (so Excel reads Thai correctly); ``reasons`` and ``evidence`` as JSON
  text; every text cell neutralised against formula injection (see :mod:`reports.cells`).
- Parquet: typed columns — timestamps as UTC timestamps, ``price`` and ``category_score`` as floats,
  ``evidence`` as a struct, ``reasons`` as JSON text (its dicts have no fixed shape).

The officer's decision (``officer_decision``, ``decided_by``, ``decided_at``; empty when no officer has
decided) ends each row; in CSV its cells are neutralised like every text cell (a username is typed by an
administrator, not by tisiwatch).

Files are written next to their target and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from core.verdicts import VIOLATIONS
from reports.cells import cell, neutralise
from reports.findings import COLUMNS, Finding, findings
from store.db import Store

Format = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "parquet")
_OURS = frozenset({"observed_at", "verdict", "licence_status", "status", "first_seen", "last_seen"})
"""Columns whose text tisiwatch writes itself (timestamps and names from fixed lists)."""

_TEXT = pa.string()
_TIME = pa.timestamp("us", tz="UTC")
PARQUET_SCHEMA = pa.schema(
    [
        ("listing_key", _TEXT), ("site", _TEXT), ("url", _TEXT), ("title", _TEXT), ("seller", _TEXT),
        ("price", pa.float64()), ("currency", _TEXT), ("observed_at", _TIME), ("verdict", _TEXT),
        ("licence_status", _TEXT), ("tis_number", _TEXT), ("category_score", pa.float64()),
        ("licence_claimed", _TEXT), ("reasons", _TEXT), ("status", _TEXT), ("first_seen", _TIME),
        ("last_seen", _TIME), ("register_version", pa.int64()),
        ("evidence", pa.struct([("sha256", _TEXT), ("warc", _TEXT), ("screenshot", _TEXT)])),
        ("officer_decision", _TEXT), ("decided_by", _TEXT), ("decided_at", _TIME),
    ]
)  # fmt: skip


def export_findings(
    store: Store,
    out: Path,
    fmt: Format | str,
    *,
    all_: bool = True,
    site: str | None = None,
    verdicts: Iterable[str] | None = None,
    since: date | datetime | None = None,
    standard: str | None = None,
    day: date | None = None,
    timezone: str = "Asia/Bangkok",
) -> int:
    """Write the findings to ``out`` in ``fmt`` (jsonl, csv, parquet); returns the number of rows written.

    ``all_`` exports every listing; otherwise only violations (``verdicts`` narrows either); ``site``,
    ``since`` and ``standard`` filter as in :func:`reports.findings.findings`. ``day`` takes the state at
    the end of that local day (default: everything observed so far); days are cut in ``timezone``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown findings format {fmt!r}; use one of {', '.join(FORMATS)}")
    wanted = None if verdicts is None else set(verdicts)
    if not all_:
        wanted = set(VIOLATIONS) if wanted is None else wanted & set(VIOLATIONS)
    with store.sessions() as session:
        rows = findings(session, day, site=site, verdicts=wanted, since=since, standard=standard, tz=timezone)
    if fmt == "parquet":
        write_parquet(rows, out)
    else:
        (write_jsonl if fmt == "jsonl" else write_csv)([finding.record() for finding in rows], out)
    return len(rows)


def write_jsonl(records: Iterable[dict[str, Any]], out: Path) -> None:
    """One finding record (:meth:`Finding.record`) per line."""
    with replacing(out, "w", encoding="utf-8", newline="\n") as stream:
        for record in records:
            stream.write(encode_json(record) + "\n")


encode_json = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
"""JSON text of a value, non-ASCII kept as it is (one encoder for every call: ``json.dumps`` with options
builds a new one each time; no check for circular references, which data decoded from JSON cannot have)."""

_JSON_COLUMNS = ("reasons", "evidence")
_TEXT_AT = tuple(
    at for at, column in enumerate(COLUMNS) if column not in _OURS and column not in _JSON_COLUMNS
)
_JSON_AT = tuple(COLUMNS.index(column) for column in _JSON_COLUMNS)
_values = itemgetter(*COLUMNS)


def csv_row(record: dict[str, Any]) -> list[Any]:
    """A finding record as CSV cells: lists and mappings as JSON text, every text that came from a
    marketplace neutralised (our own values — verdicts, statuses, timestamps — cannot need it)."""
    row = list(_values(record))
    for at in _TEXT_AT:
        value = row[at]
        row[at] = neutralise(value) if type(value) is str else cell(value)
    for at in _JSON_AT:
        row[at] = neutralise(encode_json(row[at]))
    return row


def write_csv(records: Iterable[dict[str, Any]], out: Path) -> None:
    """Finding records (:meth:`Finding.record`) as CSV, one row each, under a header of the columns."""
    with replacing(out, "w", encoding="utf-8", newline="") as stream:
        stream.write("\ufeff")  # the byte-order mark, as "utf-8-sig" would write it (its codec is slower)
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        writer.writerows(csv_row(record) for record in records)


def write_parquet(rows: Sequence[Finding], out: Path) -> None:
    columns: dict[str, list[Any]] = {column: [] for column in COLUMNS}
    for finding in rows:
        record = finding.record()
        record.update(
            observed_at=finding.observed_at,
            first_seen=finding.first_seen,
            last_seen=finding.last_seen,
            reasons=encode_json(record["reasons"]),
            decided_at=None if finding.standing is None else finding.standing.decided_at,
        )
        for column in COLUMNS:
            columns[column].append(record[column])
    table = pa.Table.from_pydict(columns, schema=PARQUET_SCHEMA)
    with replacing(out, "wb") as stream:
        pq.write_table(table, stream)


@contextmanager
def replacing(out: Path, mode: str, **options: Any) -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``out`` and move it into place on success."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        with partial.open(mode, **options) as stream:
            yield stream
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
