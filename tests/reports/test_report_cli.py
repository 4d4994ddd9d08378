"""`tisiwatch report daily` and `tisiwatch export findings` through the CLI, asserting what the files hold."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import cli
from core.verdicts import VIOLATIONS
from reports.cells import neutralise
from reports.findings import COLUMNS, findings
from store.db import Store
from tests.reports.report_builders import DAY1, DAY2, World, bkk, two_days

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[str], Store]]:
    """A migrated SQLite store with the two-day scenario, a hostile listing and a second standard."""
    monkeypatch.setattr(cli, "state", cli.State())
    monkeypatch.setenv("COLUMNS", "250")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(url)
    store.migrate()
    with store.session() as session:
        world = World(session)
        two_days(world)
        plug = world.listing("plug", site="shop-b", title="=cmd|' /C calc'!A0 ปลั๊กพ่วง", seller="@ร้านปลั๊ก")
        world.observe(plug, bkk(DAY2, 8), "no_licence_shown", tis_number="2432-2555")
        world.run("shop-b", bkk(DAY2, 6), {"pages": 3, "items": 0}, status="failed")
    yield ["--data-dir", str(tmp_path / "data"), "--database-url", url], store
    store.dispose()


def _export(options: list[str], out: Path, *args: str) -> Any:
    result = runner.invoke(cli.app, [*options, "export", "findings", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return result


def _expected(store: Store, **filters: Any) -> list[dict[str, Any]]:
    with store.session() as session:
        return [finding.record() for finding in findings(session, **filters)]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_export_all_as_jsonl(db: tuple[list[str], Store], tmp_path: Path) -> None:
    options, store = db
    out = tmp_path / "findings.jsonl"
    result = _export(options, out, "--all", "--format", "jsonl")
    rows = _jsonl(out)
    assert f"wrote {len(rows)} findings to {out}" in result.output
    assert rows == _expected(store)
    assert len(rows) == 16  # the scenario's 15 listings and the plug
    assert all(tuple(row) == COLUMNS for row in rows)
    fresh = next(row for row in rows if row["listing_key"] == "shop-a:fresh")
    assert (fresh["verdict"], fresh["licence_status"], fresh["licence_claimed"]) == (
        "invalid_licence", "revoked", "ท1234-56/2879",
    )  # fmt: skip
    assert fresh["url"] == "https://shop-a.test/p/fresh"
    assert fresh["observed_at"] == "2025-03-11T03:00:00Z"  # 10:00 in Bangkok, in UTC
    assert fresh["reasons"][0]["feature"] == "keyword_in_title"
    assert set(fresh["evidence"]) == {"sha256", "warc", "screenshot"}


def test_without_all_only_violations(db: tuple[list[str], Store], tmp_path: Path) -> None:
    options, store = db
    out = tmp_path / "violations.jsonl"
    _export(options, out)  # jsonl is the default format
    rows = _jsonl(out)
    assert rows == _expected(store, verdicts=VIOLATIONS)
    assert rows
    assert {row["verdict"] for row in rows} <= set(VIOLATIONS)


FILTERS = [
    # (options, the listings expected)
    (["--all", "--site", "shop-b"], {"shop-b:other", "shop-b:plug"}),
    (["--all", "--standard", "2432"], {"shop-b:plug"}),
    (["--all", "--standard", "2432-2555"], {"shop-b:plug"}),
    (["--all", "--verdict", "unsafe", "--verdict", "licensed"],
     {"shop-a:gone", "shop-a:interlude", "shop-a:fine", "shop-a:fixed", "shop-a:rematched"}),
    (["--verdict", "unsafe", "--verdict", "licensed"], {"shop-a:gone", "shop-a:interlude"}),
    (["--all", "--since", "2025-03-11", "--site", "shop-b"], {"shop-b:other", "shop-b:plug"}),
    (["--all", "--since", "2025-03-12"], set()),
    (["--site", "shop-a", "--standard", "2432"], set()),
]  # fmt: skip


@pytest.mark.parametrize(("args", "expected"), FILTERS, ids=[" ".join(args) for args, _ in FILTERS])
def test_filters(db: tuple[list[str], Store], tmp_path: Path, args: list[str], expected: set[str]) -> None:
    options, _ = db
    out = tmp_path / "filtered.jsonl"
    _export(options, out, *args)
    assert {row["listing_key"] for row in _jsonl(out)} == expected


def test_since_is_a_bangkok_day(db: tuple[list[str], Store], tmp_path: Path) -> None:
    options, store = db
    out = tmp_path / "since.jsonl"
    _export(options, out, "--all", "--since", DAY2.isoformat())
    keys = {row["listing_key"] for row in _jsonl(out)}
    # "early" was seen at 00:30 on DAY2 in Bangkok — the evening before in UTC; "late" at 23:30 on DAY1
    assert "shop-a:early" in keys
    assert "shop-a:late" not in keys
    assert keys == {row["listing_key"] for row in _expected(store, since=DAY2)}


def test_export_csv_and_parquet(db: tuple[list[str], Store], tmp_path: Path) -> None:
    options, store = db
    expected = _expected(store)
    _export(options, tmp_path / "f.csv", "--all", "--format", "csv")
    with (tmp_path / "f.csv").open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        rows = list(reader)
    assert [row["listing_key"] for row in rows] == [record["listing_key"] for record in expected]
    plug = next(row for row in rows if row["listing_key"] == "shop-b:plug")
    assert plug["title"] == neutralise("=cmd|' /C calc'!A0 ปลั๊กพ่วง") == "'=cmd|' /C calc'!A0 ปลั๊กพ่วง"
    assert plug["seller"] == "'@ร้านปลั๊ก"
    assert plug["tis_number"] == "2432-2555"
    assert json.loads(plug["reasons"])[0]["feature"] == "keyword_in_title"
    _export(options, tmp_path / "f.parquet", "--all", "--format", "parquet")
    table = pq.read_table(tmp_path / "f.parquet")
    assert tuple(table.column_names) == COLUMNS
    assert table.column("listing_key").to_pylist() == [record["listing_key"] for record in expected]
    assert table.column("title").to_pylist()[[r["listing_key"] for r in expected].index("shop-b:plug")] == (
        "=cmd|' /C calc'!A0 ปลั๊กพ่วง"
    )  # Parquet keeps the data as it is: it is not a spreadsheet


BAD = [
    (["--format", "xml"], "--format: 'xml' is not one of jsonl, csv, parquet"),
    (["--verdict", "guilty"], "--verdict: 'guilty' is not one of unsafe, invalid_licence"),
    (["--since", "yesterday"], "--since: 'yesterday' is not a date like"),
]


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_options_are_refused(
    db: tuple[list[str], Store], tmp_path: Path, args: list[str], message: str
) -> None:
    options, _ = db
    out = tmp_path / "x.jsonl"
    result = runner.invoke(cli.app, [*options, "export", "findings", "--out", str(out), *args])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert not out.exists()


def test_report_daily(db: tuple[list[str], Store], tmp_path: Path) -> None:
    options, _ = db
    out = tmp_path / "report"
    result = runner.invoke(
        cli.app, [*options, "report", "daily", "--date", DAY2.isoformat(), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == [
        "findings.csv",
        "findings.json",
        "report.html",
        "report.xlsx",
    ]
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert document["date"] == "2025-03-11"
    assert document["timezone"] == "Asia/Bangkok"
    counts = document["counts"]
    assert (
        f"{counts['new']} new, {counts['continuing']} continuing, {counts['resolved']} resolved"
        in result.output
    )
    assert "alert no_items: shop-b: the latest crawl stored no items" in result.output
    assert document["alerts"] == [
        {"site": "shop-b", "kind": "no_items", "message": "shop-b: the latest crawl stored no items"}
    ]
    statuses = {finding["listing_key"]: finding["status"] for finding in document["findings"]}
    assert statuses["shop-a:fresh"] == "new"
    assert statuses["shop-a:cont"] == "continuing"
    assert statuses["shop-a:gone"] == "resolved"
    assert statuses["shop-b:plug"] == "new"
    day1 = runner.invoke(
        cli.app, [*options, "report", "daily", "--date", DAY1.isoformat(), "--out", str(out)]
    )
    assert day1.exit_code == 0, day1.output
    assert json.loads((out / "findings.json").read_text(encoding="utf-8"))["date"] == "2025-03-10"
    bad = runner.invoke(cli.app, [*options, "report", "daily", "--date", "11/03/2025", "--out", str(out)])
    assert bad.exit_code == 1
    assert "--date: '11/03/2025' is not a date" in bad.output
