from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
from sqlalchemy import func, select

from reports.daily import build_daily_report
from reports.health import crawl_health
from store.db import Store
from store.models import Base
from tests.reports.report_builders import DAY1, DAY2, EXPECTED, World, bkk, two_days

STATUS_COUNTS = {
    status: sum(1 for _, day2 in EXPECTED.values() if day2 == status)
    for status in ("new", "continuing", "resolved")
}


def _scenario(store: Store) -> None:
    with store.session() as session:
        world = World(session)
        two_days(world)
        stats = {"pages": 120, "items": 100, "errors": {"TimeoutError": 2, "DNSLookupError": 1},
                 "coverage": {"title": 1.0, "price": 0.95, "seller": 0.5, "licence_text": 0.25}}  # fmt: skip
        world.run("shop-a", bkk(DAY1, 6), {"pages": 1})
        world.run("shop-a", bkk(DAY2, 6), stats, failures=2)
        world.run("shop-a", bkk(DAY2 + (DAY2 - DAY1), 6), {"pages": 999})  # after the day: not shown
        world.run("shop-b", bkk(DAY2, 7), {}, status="failed")


def _row_counts(store: Store) -> dict[str, int]:
    with store.session() as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def test_daily_report_writes_every_file(any_store: Store, tmp_path: Path) -> None:
    _scenario(any_store)
    before = _row_counts(any_store)
    out = tmp_path / "data" / "reports" / DAY2.isoformat()
    report = build_daily_report(any_store, out, DAY2, evidence_root=tmp_path / "data")
    assert _row_counts(any_store) == before  # the report only reads
    assert sorted(path.name for path in out.iterdir()) == [
        "findings.csv",
        "findings.json",
        "report.html",
        "report.xlsx",
    ]
    assert (report.new, report.continuing, report.resolved) == (
        STATUS_COUNTS["new"], STATUS_COUNTS["continuing"], STATUS_COUNTS["resolved"]
    )  # fmt: skip
    assert report.needs_review == 1  # "review"; "pending" is not matched yet
    assert report.day == DAY2
    assert report.register_version is not None

    document = json.loads(report.json.read_text(encoding="utf-8"))
    assert document["date"] == "2025-03-11"
    assert document["register_version"] == report.register_version
    statuses = [finding["status"] for finding in document["findings"]]
    assert statuses.count("new") == report.new
    assert statuses.count("resolved") == report.resolved
    assert len(document["findings"]) == report.new + report.continuing + report.resolved + report.needs_review
    with report.csv.open(encoding="utf-8-sig", newline="") as stream:
        assert len(list(csv.DictReader(stream))) == len(document["findings"])

    workbook = openpyxl.load_workbook(report.xlsx, read_only=True)
    assert workbook.sheetnames == [
        "summary",
        "new",
        "continuing",
        "resolved",
        "needs_review",
        "sellers",
        "health",
    ]
    assert workbook["new"].max_row == report.new + 1
    workbook.close()


def test_html_has_thai_sections_in_order_with_evidence_and_health(any_store: Store, tmp_path: Path) -> None:
    _scenario(any_store)
    out = tmp_path / "data" / "reports" / DAY2.isoformat()
    html = build_daily_report(any_store, out, DAY2, evidence_root=tmp_path / "data").html.read_text("utf-8")
    headings = ["การละเมิดใหม่", "การละเมิดต่อเนื่อง", "แก้ไขแล้ว", "รอเจ้าหน้าที่ตรวจสอบ", "ผู้ขายที่มีการละเมิด"]
    positions = [html.index(f'<h2><span lang="th">{thai}</span>') for thai in headings]
    assert positions == sorted(positions)
    assert '<span lang="en">New violations</span>' in html
    assert "2025-03-11" in html
    assert "Asia/Bangkok" in html
    assert "Noto Sans Thai" in html
    assert "<svg" in html
    assert 'href="../../warc/run-2.warc.gz"' in html  # evidence, relative to the report folder
    assert 'href="https://shop-a.test/p/fresh"' in html
    assert "ใบอนุญาตที่แสดงถูกเพิกถอนแล้ว" in html  # the reason of the revoked licence, in words
    assert "ประกาศขายถูกลบหรือไม่พบแล้ว" in html  # the gone listing, resolved
    assert "ท1234-56/2879" in html
    assert "แบตเตอรี่สำรอง" in html  # the standard's name from the register
    # crawl health: the latest run of each site up to the end of the day
    assert "95%" in html
    assert "25%" in html
    assert ">999<" not in html
    # the seller "ร้านดี" sells on two sites: a repeat offender
    assert "กระทำซ้ำ" in html


def test_crawl_health_tolerates_missing_and_odd_stats(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        world = World(session)
        world.run(
            "a",
            bkk(DAY1),
            {"pages": 3, "items": "lots", "errors": 4, "coverage": {"title": 80, "price": "x"}},
        )
        world.run("b", bkk(DAY1), {"coverage": [1, 2]}, failures=3)
        world.run("c", bkk(DAY1), [])  # type: ignore[arg-type]
    with sqlite_store.session() as session:
        health = {site.site: site for site in crawl_health(session)}
    assert (health["a"].pages, health["a"].items, health["a"].errors) == (3, None, 4)
    assert health["a"].coverage == {"title": 0.8, "price": None, "seller": None, "licence_text": None}
    assert health["b"].failed_urls == 3
    assert health["b"].pages is None
    assert health["c"].coverage == {"title": None, "price": None, "seller": None, "licence_text": None}


def test_report_of_an_empty_store(sqlite_store: Store, tmp_path: Path) -> None:
    report = build_daily_report(sqlite_store, tmp_path / "out")
    html = report.html.read_text(encoding="utf-8")
    assert "ไม่มีรายการ" in html
    assert "ยังไม่มีการเก็บข้อมูล" in html
    assert report.new == report.continuing == report.resolved == 0
    assert report.register_version is None
    assert json.loads(report.json.read_text(encoding="utf-8"))["findings"] == []
