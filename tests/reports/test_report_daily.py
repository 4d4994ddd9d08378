from __future__ import annotations

import csv
import gc
import json
import multiprocessing
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, inspect, select

import reports.page
from reports.daily import build_daily_report
from reports.health import crawl_health
from reports.page import card_id
from store.db import Store
from store.models import Base
from tests.reports.report_builders import DAY0, DAY1, DAY2, EXPECTED, World, bkk, two_days

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
        world.run("shop-a", bkk(DAY0, 6), {"pages": 100, "items": 100, "errors": {},
                  "coverage": {"title": 1.0, "price": 0.95, "seller": 0.9, "licence_text": 0.3}})  # fmt: skip
        world.run("shop-a", bkk(DAY1, 6), {"pages": 1})
        world.run("shop-a", bkk(DAY2, 6), stats, failures=2)
        world.run("shop-a", bkk(DAY2 + (DAY2 - DAY1), 6), {"pages": 999})  # after the day: not shown
        world.run("shop-b", bkk(DAY2, 7), {}, status="failed")


def _row_counts(store: Store) -> dict[str, int]:
    existing = set(inspect(store.engine).get_table_names())
    with store.session() as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
            if t.name in existing
        }


def test_daily_report_writes_every_file(any_store: Store, tmp_path: Path) -> None:
    _scenario(any_store)
    before = _row_counts(any_store)
    out = tmp_path / "data" / "reports" / DAY2.isoformat()
    report = build_daily_report(any_store, out, DAY2, evidence_root=tmp_path / "data")
    assert _row_counts(any_store) == before  # the report only reads
    assert gc.isenabled()  # paused while the report was built, and on again
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
        "dismissed",
        "sellers",
        "health",
    ]
    assert workbook["new"].max_row == report.new + 1
    workbook.close()


def test_html_has_thai_sections_in_order_with_evidence_and_health(any_store: Store, tmp_path: Path) -> None:
    _scenario(any_store)
    out = tmp_path / "data" / "reports" / DAY2.isoformat()
    html = build_daily_report(any_store, out, DAY2, evidence_root=tmp_path / "data").html.read_text("utf-8")
    headings = ["การละเมิดใหม่", "แก้ไขแล้ว", "รอการตัดสินของเจ้าหน้าที่", "การละเมิดต่อเนื่อง", "ผู้ขายที่มีการละเมิด"]
    positions = [html.index(f'<h2><span lang="th">{thai}</span>') for thai in headings]
    assert positions == sorted(positions)
    assert '<span lang="en">New violations</span>' in html
    assert "2025-03-11" in html
    assert "Asia/Bangkok" in html
    assert "Noto Sans Thai" in html
    assert "<svg" in html
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


def _card(html: str, listing_key: str) -> str:
    start = html.index(f'id="{card_id(listing_key)}"')
    return html[start : html.index("</article>", start)]


def test_each_violation_shows_what_an_officer_needs(any_store: Store, tmp_path: Path) -> None:
    _scenario(any_store)
    out = tmp_path / "data" / "reports" / DAY2.isoformat()
    html = build_daily_report(any_store, out, DAY2, evidence_root=tmp_path / "data").html.read_text("utf-8")
    card = _card(html, "shop-a:fresh")
    assert "พาวเวอร์แบงค์ fresh" in card  # title
    assert "<bdi>ร้านดี</bdi>" in card  # seller
    assert "399.00 THB" in card  # price
    assert "<bdi>shop-a</bdi>" in card  # site
    assert "มอก. <bdi>2879-2560</bdi> — แบตเตอรี่สำรอง" in card  # standard, with its name
    assert "<bdi>ท1234-56/2879</bdi>" in card  # the licence shown ...
    assert "ถูกเพิกถอน" in card  # ... and its status
    assert '<span lang="th">ใบอนุญาตที่แสดงถูกเพิกถอนแล้ว</span>' in card  # the verdict's reason in words
    # each feature of the verdict's reasons in plain words, with the detail the matcher recorded
    assert (
        '<span lang="th">ชื่อสินค้ามีคำที่ระบุสินค้าควบคุม</span> · <span lang="en">The title names a controlled product</span>'
        in card
    )
    assert "คำว่า “พาวเวอร์แบงค์” ในชื่อ (invalid_licence)" in card
    # the category score in words: how sure the matcher is, and what each feature added to it
    assert (
        '<span lang="th">ความมั่นใจว่าเป็นสินค้าควบคุม</span> · <span lang="en">Certainty that it is a '
        'controlled product</span></dt><dd><span lang="th">สูง</span> · <span lang="en">high</span> '
        "<small>(0.90)</small>" in card
    )
    assert (
        '(keyword_in_title · <span lang="th">เพิ่มความมั่นใจ +0.90</span> · '
        '<span lang="en">adds 0.90 to the certainty</span>)' in card
    )
    assert "คะแนน" not in card
    assert 'href="https://shop-a.test/p/fresh"' in card  # the listing
    assert "เปิดหน้าประกาศขาย" in card
    assert '<a class="workspace" href="http://127.0.0.1:8800/listing?key=shop-a%3Afresh">' in card
    # a continuing violation is one row of the table, linking to its page in the workspace (which has its
    # evidence; the workbook too)
    start = html.index(f'<tr id="{card_id("shop-a:cont")}">')
    row = html[start : html.index("</tr>", start)]
    assert '<a href="http://127.0.0.1:8800/listing?key=shop-a%3Acont">' in row
    assert "<article" not in row
    assert "<bdi>ร้านดี</bdi>" in row
    assert "2025-03-10" in row  # violating since


def test_charts_by_standard_site_and_seller(any_store: Store, tmp_path: Path) -> None:
    _scenario(any_store)
    html = build_daily_report(any_store, tmp_path / "r", DAY2).html.read_text("utf-8")
    charts = {}
    for name in ("ตามมาตรฐาน (มอก.)", "ตามเว็บไซต์", "ตามผู้ขาย"):
        start = html.index(
            '<svg class="chart" xmlns="http://www.w3.org/2000/svg"',
            html.index(f'<figcaption><span lang="th">{name}'),
        )
        charts[name] = html[start : html.index("</svg>", start)]
    violations = STATUS_COUNTS["new"] + STATUS_COUNTS["continuing"]
    assert f"<title>2879-2560 แบตเตอรี่สำรอง: {violations}</title>" in charts["ตามมาตรฐาน (มอก.)"]
    assert f"<title>shop-a: {violations - 1}</title>" in charts["ตามเว็บไซต์"]
    assert "<title>shop-b: 1</title>" in charts["ตามเว็บไซต์"]
    assert f"<title>ร้านดี: {violations}</title>" in charts["ตามผู้ขาย"]  # both sites, one seller
    assert all("<rect" in chart for chart in charts.values())


def test_alerts_show_in_the_health_section_and_the_files(any_store: Store, tmp_path: Path) -> None:
    _scenario(any_store)
    report = build_daily_report(any_store, tmp_path / "r", DAY2)
    assert [(a.site, a.kind) for a in report.alerts] == [
        ("shop-a", "coverage_drop"), ("shop-a", "error_spike"), ("shop-b", "no_items"),
    ]  # fmt: skip
    html = report.html.read_text("utf-8")
    health = html[html.index('<section id="health">') :]
    assert 'การแจ้งเตือน</span> · <span lang="en">Alerts</span> <span class="count">(3)</span>' in health
    assert "ความครบของข้อมูลลดลง" in health
    assert "shop-a: seller coverage 50%, 7-day median 90%" in health
    assert "ข้อผิดพลาดเพิ่มขึ้นผิดปกติ" in health
    assert "ไม่ได้ข้อมูลสินค้าเลย" in health
    assert [a["kind"] for a in json.loads(report.json.read_text("utf-8"))["alerts"]] == [
        "coverage_drop", "error_spike", "no_items",
    ]  # fmt: skip
    workbook = openpyxl.load_workbook(report.xlsx, read_only=True)
    cells = [row for row in workbook["health"].iter_rows(values_only=True) if row[0]]
    workbook.close()
    assert cells[-3][:2] == ("ความครบของข้อมูลลดลง · Field coverage dropped", "shop-a")
    assert cells[-1][:2] == ("ไม่ได้ข้อมูลสินค้าเลย · No items stored", "shop-b")


def test_a_day_without_alerts_says_so(sqlite_store: Store, tmp_path: Path) -> None:
    html = build_daily_report(sqlite_store, tmp_path / "r", DAY2).html.read_text("utf-8")
    assert "ไม่มีการแจ้งเตือน" in html


def test_a_capped_page_says_so_and_the_files_hold_every_row(
    any_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _scenario(any_store)
    monkeypatch.setattr(reports.page, "CARDS_PER_SECTION", 1)
    report = build_daily_report(any_store, tmp_path / "r", DAY2)
    html = report.html.read_text("utf-8")
    assert STATUS_COUNTS["new"] > 1
    new = html[html.index('<section id="new">') : html.index('<section id="resolved">')]
    assert new.count("<article ") == 1
    assert f"(1 / {STATUS_COUNTS['new']})" in new
    assert "หน้านี้แสดงไม่เกิน 1 รายการต่อหมวด" in html
    assert "This page shows at most 1 listings per section" in html
    workbook = openpyxl.load_workbook(report.xlsx, read_only=True)
    assert workbook["new"].max_row == STATUS_COUNTS["new"] + 1
    workbook.close()
    monkeypatch.undo()
    assert "หน้านี้แสดงไม่เกิน" not in build_daily_report(any_store, tmp_path / "r3", DAY2).html.read_text("utf-8")


def test_the_workbook_written_beside_the_other_files_is_the_same(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import reports.daily

    if threading.active_count() > 1:
        pytest.skip("other threads are running: the workbook would be written in this process")
    _scenario(sqlite_store)
    here = build_daily_report(sqlite_store, tmp_path / "here", DAY2)
    monkeypatch.setattr(reports.daily, "PARALLEL_ROWS", 0)
    started = len(multiprocessing.active_children())
    beside = build_daily_report(sqlite_store, tmp_path / "beside", DAY2)
    assert len(multiprocessing.active_children()) == started  # the child has been waited for

    def cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
        workbook = openpyxl.load_workbook(path, read_only=True)
        sheets = {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets}
        workbook.close()
        sheets["summary"] = [row for row in sheets["summary"] if "สร้างเมื่อ" not in str(row[0])]
        return sheets

    assert cells(beside.xlsx) == cells(here.xlsx)

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(reports.daily, "write_workbook", broken)
    with pytest.raises(RuntimeError, match="broken failed: OSError: disk full"):
        build_daily_report(sqlite_store, tmp_path / "broken", DAY2)
    assert (tmp_path / "broken" / "report.html").exists()  # the other files were written
