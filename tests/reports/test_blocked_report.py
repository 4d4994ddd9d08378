"""A crawl the site blocked (status ``blocked``): the alert and the daily report's health section say so,
for how long, and what share of the run's plan was left for the next run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import openpyxl

from config import Settings
from reports.alerts import crawl_alerts
from reports.daily import build_daily_report
from store.db import Store
from tests.reports.report_builders import DAY2, World, bkk

GOOD = {"pages": 100, "items": 100, "requests": 100, "errors": {}, "failed_urls": 0,
        "coverage": {"title": 1.0, "price": 0.9, "seller": 0.8, "licence_text": 0.3}}  # fmt: skip
BLOCKED = {**GOOD, "pages": 60, "items": 55, "requests": 60, "finish_reason": "blocked",
           "blocked": {"left": 140, "for_s": 725.0, "why": "HTTP 429", "delay_s": 60.0}}  # fmt: skip
NOTE = "blocked after 12 min of block signals; 140 requests (70% of the plan) left for the next run"


def _history(store: Store) -> None:
    with store.session() as session:
        world = World(session)
        for back in range(1, 4):
            world.run("shop-a", bkk(DAY2 - timedelta(days=back), 6), GOOD)
            world.run("shop-b", bkk(DAY2 - timedelta(days=back), 6), GOOD)
        world.run("shop-a", bkk(DAY2, 6), BLOCKED, status="blocked")
        world.run(
            "shop-b", bkk(DAY2, 6), {**BLOCKED, "finish_reason": "finished"}
        )  # the same counts, not blocked


def test_a_blocked_crawl_raises_an_alert_saying_for_how_long_and_what_was_left(
    any_store: Store, settings: Settings
) -> None:
    _history(any_store)
    with any_store.session() as session:
        alerts = crawl_alerts(session, DAY2, settings)
    assert [(alert.site, alert.kind) for alert in alerts] == [("shop-a", "blocked")]
    assert alerts[0].message == f"shop-a: the site blocked the crawl: {NOTE}"


def test_the_health_section_shows_the_blocked_run(sqlite_store: Store, tmp_path: Path) -> None:
    _history(sqlite_store)
    report = build_daily_report(sqlite_store, tmp_path / "r", DAY2)
    html = report.html.read_text("utf-8")
    health = html[html.index('<section id="health">') :]
    assert "เว็บไซต์ปิดกั้นการเก็บข้อมูล" in health  # the alert's name
    assert health.count(NOTE) == 2  # in the alert, and beside the run's status
    assert f'<td>blocked<br><small class="note">{NOTE}</small></td>' in health
    workbook = openpyxl.load_workbook(report.xlsx, read_only=True)
    rows = [row for row in workbook["health"].iter_rows(values_only=True) if row[0]]
    workbook.close()
    site_a = next(row for row in rows if row[0] == "shop-a")
    assert (site_a[2], site_a[-1]) == ("blocked", NOTE)
    assert next(row for row in rows if row[0] == "shop-b")[-1] is None
