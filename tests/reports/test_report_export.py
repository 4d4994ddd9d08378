from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from core.verdicts import VIOLATIONS
from reports.cells import neutralise
from reports.export import export_findings
from reports.findings import COLUMNS, findings
from store.db import Store
from tests.reports.report_builders import DAY1, World, bkk, two_days

HOSTILE_TITLE = '=HYPERLINK("http://evil.test","ลดราคา") <script>alert(1)</script>'


def _scenario(store: Store) -> None:
    with store.session() as session:
        world = World(session)
        two_days(world)
        hostile = world.listing("../../etc/passwd", title=HOSTILE_TITLE, seller="+cmd|' /C calc'!A0")
        reasons = [{"feature": "x", "score": 1.0, "detail": "-1+1"}, "plain reason"]
        world.observe(
            hostile, bkk(DAY1, 12), "no_licence_shown", licence_claimed="@SUM(1)", price=None, reasons=reasons
        )


def _expected(store: Store, **filters: Any) -> list[dict[str, Any]]:
    with store.session() as session:
        return [finding.record() for finding in findings(session, **filters)]


def test_jsonl_round_trip(any_store: Store, tmp_path: Path) -> None:
    _scenario(any_store)
    out = tmp_path / "findings.jsonl"
    written = export_findings(any_store, out, "jsonl")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert written == len(lines) == 16
    rows = [json.loads(line) for line in lines]
    assert all(tuple(row) == COLUMNS for row in rows)
    assert rows == _expected(any_store)
    assert "พาวเวอร์แบงค์" in out.read_text(encoding="utf-8")  # not \u escapes
    hostile = next(row for row in rows if row["listing_key"] == "shop-a:../../etc/passwd")
    assert hostile["title"] == HOSTILE_TITLE  # JSON keeps the data as it was
    assert hostile["reasons"][1] == {"detail": "plain reason"}


def test_csv_round_trip_with_neutralised_cells(any_store: Store, tmp_path: Path) -> None:
    _scenario(any_store)
    out = tmp_path / "findings.csv"
    assert export_findings(any_store, out, "csv") == 16
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Thai text as UTF-8
    with out.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        rows = list(reader)
    for row, record in zip(rows, _expected(any_store), strict=True):
        for column in COLUMNS:
            value = record[column]
            if column in ("reasons", "evidence"):
                assert json.loads(row[column]) == value
            elif value is None:
                assert row[column] == ""
            elif isinstance(value, str):
                assert row[column] == neutralise(value)
            else:
                assert float(row[column]) == value
    hostile = next(row for row in rows if row["listing_key"] == "shop-a:../../etc/passwd")
    assert hostile["title"].startswith("'=HYPERLINK")
    assert hostile["seller"].startswith("'+cmd")
    assert hostile["licence_claimed"] == "'@SUM(1)"
    assert not any(value.lstrip()[:1] in "=+-@" for row in rows for value in row.values() if value)


def test_parquet_round_trip(any_store: Store, tmp_path: Path) -> None:
    _scenario(any_store)
    out = tmp_path / "findings.parquet"
    assert export_findings(any_store, out, "parquet") == 16
    table = pq.read_table(out)
    assert tuple(table.column_names) == COLUMNS
    for row, record in zip(table.to_pylist(), _expected(any_store), strict=True):
        for column in ("observed_at", "first_seen", "last_seen"):
            assert row[column].isoformat().replace("+00:00", "Z") == record[column]
        assert json.loads(row["reasons"]) == record["reasons"]
        plain = {c: row[c] for c in COLUMNS if c not in ("observed_at", "first_seen", "last_seen", "reasons")}
        assert plain == {c: record[c] for c in plain}
    frame = pd.read_parquet(out)
    assert str(frame["observed_at"].dt.tz) == "UTC"
    assert len(frame) == 16


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_filters_and_violations_only(sqlite_store: Store, tmp_path: Path, fmt: Any) -> None:
    _scenario(sqlite_store)
    out = tmp_path / f"x.{fmt}"
    assert export_findings(sqlite_store, out, fmt, site="shop-b") == 1
    violations = _expected(sqlite_store, verdicts=VIOLATIONS)
    assert export_findings(sqlite_store, out, fmt, all_=False) == len(violations)
    assert export_findings(sqlite_store, out, fmt, all_=False, verdicts=["unsafe", "licensed"]) == 2
    assert export_findings(sqlite_store, out, fmt, since=DAY1, day=DAY1) == len(
        _expected(sqlite_store, day=DAY1)
    )
    assert not list(tmp_path.glob(".*partial"))


def test_empty_export_and_unknown_format(sqlite_store: Store, tmp_path: Path) -> None:
    for fmt in ("jsonl", "csv", "parquet"):
        assert export_findings(sqlite_store, tmp_path / f"empty.{fmt}", fmt) == 0  # type: ignore[arg-type]
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0
    with pytest.raises(ValueError, match="unknown findings format"):
        export_findings(sqlite_store, tmp_path / "x.xml", "xml")  # type: ignore[arg-type]
