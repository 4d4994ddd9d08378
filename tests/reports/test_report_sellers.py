"""Sellers grouped across sites and days, repeat offenders first — in the summary, the page and the workbook."""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path

import openpyxl
import pytest

from core.sellers import seller_key
from reports.daily import build_daily_report
from reports.findings import findings
from reports.sellers import violation_days
from reports.summary import summarise
from store.clock import BANGKOK, day_bounds
from store.db import Store
from tests.reports.report_builders import DAY0, DAY1, DAY2, World, bkk

# seller -> (open, resolved today, violating listings over all days, days seen violating, sites, repeat)
EXPECTED = [
    ("ร้านซ้ำ", 1, 0, 2, 2, ("shop-a", "shop-b"), True),  # another listing on another site, days apart
    ("ร้านเดิม", 1, 0, 1, 2, ("shop-a",), True),  # one listing violating on two days
    ("ร้านเที่ยงคืน", 1, 0, 1, 2, ("shop-a",), True),  # one listing, 23:30 and 00:30 Bangkok: two days
    ("ร้านใหม่", 1, 0, 1, 1, ("shop-b",), False),
    ("ร้านแก้แล้ว", 0, 1, 1, 1, ("shop-a",), False),  # resolved today
    ("ร้านเก่า", 0, 0, 1, 1, ("shop-a",), False),  # resolved before today: still in the seller's history
]


def _scenario(store: Store) -> None:
    with store.session() as session:
        world = World(session)
        world.register()
        observe = world.observe
        old = world.listing("old", seller="ร้านซ้ำ")
        observe(old, bkk(DAY0), "no_licence_shown")
        observe(old, bkk(DAY1), "licensed", licence_status="valid")
        observe(world.listing("again", site="shop-b", seller=" ร้านซ้ำ "), bkk(DAY2), "unsafe")
        midnight = world.listing("midnight", seller="ร้านเที่ยงคืน")
        observe(midnight, bkk(DAY1, 23, 30), "no_licence_shown")
        observe(midnight, bkk(DAY2, 0, 30), "no_licence_shown")
        observe(midnight, bkk(DAY2, 9), "no_licence_shown")  # the same day again: still two days
        same = world.listing("same", seller="ร้านเดิม")
        observe(same, bkk(DAY1), "invalid_licence", licence_status="revoked")
        observe(same, bkk(DAY2), "invalid_licence", licence_status="revoked")
        observe(world.listing("fresh", site="shop-b", seller="ร้านใหม่"), bkk(DAY2), "no_licence_shown")
        fixed = world.listing("fixed", seller="ร้านแก้แล้ว")
        observe(fixed, bkk(DAY1), "no_licence_shown")
        observe(fixed, bkk(DAY2), "licensed", licence_status="valid")
        past = world.listing("past", seller="ร้านเก่า")
        observe(past, bkk(DAY0), "no_licence_shown")
        observe(past, bkk(DAY1), "not_controlled")
        honest = world.listing("honest", seller="ร้านสุจริต")
        observe(honest, bkk(DAY1), "licensed", licence_status="valid")
        observe(world.listing("queue", seller="ร้านรอ"), bkk(DAY2), "needs_review")


def test_sellers_over_sites_and_days_repeat_offenders_first(any_store: Store) -> None:
    _scenario(any_store)
    _, end = day_bounds(DAY2, BANGKOK)
    with any_store.session() as session:
        rows = findings(session, DAY2)
        days = violation_days(session, end, BANGKOK)
    assert days[seller_key("ร้านเที่ยงคืน")] == frozenset({DAY1, DAY2})  # Bangkok days, not UTC dates
    assert days[seller_key("ร้านซ้ำ")] == frozenset({DAY0, DAY2})
    assert seller_key("ร้านสุจริต") not in days
    assert {row.listing_key: row.first_violation for row in rows}["shop-a:old"] == bkk(DAY0).astimezone(UTC)
    sellers = summarise(rows, days, BANGKOK).sellers
    got = [(s.name, s.open, s.resolved, s.listings, s.days, s.sites, s.repeat) for s in sellers]
    assert got == EXPECTED
    assert sellers[0].first_violation == bkk(DAY0).astimezone(UTC)
    assert sellers[0].open_keys == ("shop-b:again",)


def test_the_history_ends_with_the_report_day(sqlite_store: Store) -> None:
    _scenario(sqlite_store)
    _, end = day_bounds(DAY1, BANGKOK)
    with sqlite_store.session() as session:
        sellers = summarise(findings(session, DAY1), violation_days(session, end, BANGKOK), BANGKOK).sellers
    by_name = {s.name: s for s in sellers}
    assert "ร้านใหม่" not in by_name  # first seen on DAY2
    assert (by_name["ร้านเที่ยงคืน"].days, by_name["ร้านเที่ยงคืน"].repeat) == (1, False)
    assert (by_name["ร้านซ้ำ"].open, by_name["ร้านซ้ำ"].resolved, by_name["ร้านซ้ำ"].listings) == (0, 1, 1)


def test_page_and_workbook_list_sellers_in_the_same_order(any_store: Store, tmp_path: Path) -> None:
    _scenario(any_store)
    report = build_daily_report(any_store, tmp_path / "report", DAY2)
    html = report.html.read_text(encoding="utf-8")
    section = html[html.index('<section id="sellers">') : html.index('<section id="health">')]
    names = [
        re.sub(r"\s+", " ", name).strip()
        for name in re.findall(r"<tr class=\"\w+\">\s*<td><bdi>([^<]*)</bdi>", section)
    ]
    assert names == [row[0] for row in EXPECTED]
    assert section.count('<tr class="repeat">') == 3
    assert section.count("กระทำซ้ำ") == 3
    # the repeat offender's open listing links to its card on the page
    anchor = re.search(r'<a href="#(f-[0-9a-f]{16})"><code><bdi>shop-b:again</bdi>', section)
    assert anchor is not None
    assert f'id="{anchor.group(1)}"' in html
    workbook = openpyxl.load_workbook(report.xlsx, read_only=True)
    sheet = list(workbook["sellers"].iter_rows(values_only=True))
    workbook.close()
    header, body = sheet[0], sheet[1:]
    assert header[:8] == (
        "ผู้ขาย · Seller", "กระทำซ้ำ · repeat offender", "เว็บไซต์ · Sites", "การละเมิดที่ยังอยู่ · Open violations",
        "การละเมิดใหม่ · New violations", "แก้ไขวันนี้ · Resolved today",
        "ประกาศที่เคยละเมิด · Violating listings, all days", "จำนวนวันที่พบการละเมิด · Days seen violating",
    )  # fmt: skip
    assert [row[0] for row in body] == [row[0] for row in EXPECTED]
    assert [(row[3], row[5], row[6], row[7]) for row in body] == [(e[1], e[2], e[3], e[4]) for e in EXPECTED]
    assert [bool(row[1]) for row in body] == [e[6] for e in EXPECTED]
    assert body[0][2] == "shop-a, shop-b"


@pytest.mark.parametrize("day", [DAY1, DAY2])
def test_the_seller_chart_counts_open_violations(sqlite_store: Store, tmp_path: Path, day: object) -> None:
    _scenario(sqlite_store)
    html = build_daily_report(sqlite_store, tmp_path / "r", day).html.read_text(encoding="utf-8")  # type: ignore[arg-type]
    chart = html[html.index('aria-label="ตามผู้ขาย') :]
    chart = chart[: chart.index("</svg>")]
    assert "ร้านเก่า" not in chart  # nothing open: not in the chart, still in the table
    assert ("ร้านใหม่" in chart) == (day == DAY2)
