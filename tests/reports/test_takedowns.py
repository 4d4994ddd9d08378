"""Time to takedown: the two-working-day window (Mon–Fri, Asia/Bangkok), the median days and the
share per site, read from the store."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from core.decisions import SENT, STILL_ONLINE, TAKEN_DOWN
from reports.takedowns import (
    SentCase,
    figures,
    sent_cases,
    site_takedowns,
    within_working_days,
    working_deadline,
)
from store.clock import BANGKOK
from store.db import Store
from store.takedowns import record_sends, update_sends
from tests.reports.report_builders import World, bkk

MON = date(2026, 11, 23)  # a Monday
TUE, WED, THU, FRI, SAT, SUN = (MON + timedelta(days=n) for n in range(1, 7))
NEXT_MON, NEXT_TUE = MON + timedelta(days=7), MON + timedelta(days=8)


def _case(sent: datetime, status: str = SENT, at: datetime | None = None, site: str = "shop-a") -> SentCase:
    return SentCase("c-1", f"{site}:1", site, "t", "cases.zip", sent, status, at)


@pytest.mark.parametrize(
    ("sent", "deadline_day"),
    [
        (bkk(MON, 10), WED),  # Tue, Wed
        (bkk(THU, 10), NEXT_MON),  # Fri, (weekend), Mon
        (bkk(FRI, 23, 30), NEXT_TUE),  # Mon, Tue
        (bkk(SAT, 10), NEXT_TUE),  # sent on a weekend: Mon, Tue
        (bkk(SUN, 10), NEXT_TUE),
        (bkk(MON, 0, 30), WED),  # early Monday in Bangkok is still Sunday in UTC: the local day counts
    ],
)
def test_the_deadline_is_the_end_of_the_second_working_day(sent: datetime, deadline_day: date) -> None:
    deadline = working_deadline(sent)
    assert deadline.astimezone(BANGKOK) == bkk(deadline_day + timedelta(days=1), 0)


@pytest.mark.parametrize(
    ("sent", "taken", "now", "within"),
    [
        (bkk(MON, 10), bkk(WED, 23, 59), bkk(NEXT_MON), True),
        (bkk(MON, 10), bkk(THU, 0, 1), bkk(NEXT_MON), False),
        (bkk(FRI, 16), bkk(NEXT_TUE, 9), bkk(NEXT_TUE, 10), True),  # the weekend is not counted
        (bkk(FRI, 16), bkk(SUN, 9), bkk(NEXT_TUE, 10), True),  # taken down on a Sunday
        (bkk(THU, 16), bkk(NEXT_TUE, 9), bkk(NEXT_TUE, 10), False),  # Fri + Mon were its two days
        (bkk(MON, 10), None, bkk(WED, 20), None),  # open, window not passed: not counted
        (bkk(MON, 10), None, bkk(THU, 1), False),  # open past its window
    ],
)
def test_taken_down_within_two_working_days(
    sent: datetime, taken: datetime | None, now: datetime, within: bool | None
) -> None:
    case = _case(sent, TAKEN_DOWN if taken else SENT, taken)
    assert within_working_days(case, now) is within


def test_median_days_and_share_per_site() -> None:
    now = bkk(NEXT_TUE, 12)
    cases = [
        _case(bkk(MON, 10), TAKEN_DOWN, bkk(MON, 22)),  # 0.5 days, within
        _case(bkk(MON, 10), TAKEN_DOWN, bkk(TUE, 10)),  # 1 day, within
        _case(bkk(MON, 10), TAKEN_DOWN, bkk(FRI, 10)),  # 4 days, late
        _case(bkk(MON, 10), STILL_ONLINE, bkk(NEXT_MON, 10)),  # late
        _case(bkk(NEXT_MON, 10)),  # open, its window not passed: not judged
        _case(bkk(FRI, 10), TAKEN_DOWN, bkk(NEXT_MON, 10), site="shop-b"),  # 3 days, but within
    ]
    a, b = figures(cases, now)
    assert (a.site, a.sent, a.taken_down, a.still_online, a.open) == ("shop-a", 5, 3, 1, 2)
    assert a.median_days == pytest.approx(1.0)
    assert (a.within, a.judged, a.within_share) == (2, 4, 0.5)
    assert (b.site, b.median_days, b.within_share) == ("shop-b", pytest.approx(3.0), 1.0)
    assert figures([], now) == []
    [none] = figures([_case(bkk(NEXT_TUE, 10))], now)
    assert (none.median_days, none.within_share) == (None, None)


def test_sent_cases_and_figures_from_the_store(any_store: Store) -> None:
    sent_at = bkk(MON, 10)
    with any_store.session() as session:
        world = World(session)
        listings = [
            world.listing(name, site=site)
            for name, site in (("1", "shop-a"), ("2", "shop-a"), ("3", "shop-b"))
        ]
        for listing in listings:
            world.observe(listing, bkk(MON, 9), "no_licence_shown")
        record_sends(
            session, {item.id: f"c-{item.marketplace_id}" for item in listings}, "cases-mon.zip", sent_at
        )
        world.observe(listings[0], bkk(TUE, 10), gone=True)
        world.observe(listings[2], bkk(NEXT_TUE, 10), "no_licence_shown")
        update_sends(session, 7, now=bkk(NEXT_TUE, 12))
    with any_store.session() as session:
        cases = sent_cases(session)
        assert [(c.listing_key, c.status, c.export_name) for c in sorted(cases, key=lambda c: c.case_id)] == [
            ("shop-a:1", TAKEN_DOWN, "cases-mon.zip"),
            ("shop-a:2", SENT, "cases-mon.zip"),
            ("shop-b:3", STILL_ONLINE, "cases-mon.zip"),
        ]
        assert cases[0].sent_at == sent_at
        assert [c.listing_key for c in sent_cases(session, site="shop-b")] == ["shop-b:3"]
        a, b = site_takedowns(session, now=bkk(NEXT_TUE, 12))
    assert (a.site, a.taken_down, a.median_days, a.within, a.judged) == (
        "shop-a",
        1,
        pytest.approx(1.0),
        1,
        2,
    )
    assert (b.site, b.still_online, b.within_share) == ("shop-b", 1, 0.0)


def test_the_daily_report_has_a_takedown_section(sqlite_store: Store, tmp_path: Path) -> None:
    from reports.daily import build_daily_report

    with sqlite_store.session() as session:
        world = World(session)
        listing = world.listing("1")
        world.observe(listing, bkk(MON, 9), "no_licence_shown")
        record_sends(session, {listing.id: "c-1"}, "cases.zip", bkk(MON, 10))
        world.observe(listing, bkk(TUE, 22), gone=True)
        update_sends(session, 7, now=bkk(WED))
    html = build_daily_report(sqlite_store, tmp_path / "out", WED).html.read_text("utf-8")
    section = html[html.index('<section id="takedowns">') :]
    section = section[: section.index("</section>")]
    assert "Takedowns after sending to ETDA" in section
    assert "1.5" in section  # median days
    assert "100%" in section  # within two working days
    before = build_daily_report(sqlite_store, tmp_path / "before", MON - timedelta(days=1)).html
    assert "ยังไม่มีคดีที่ส่ง" in before.read_text("utf-8")  # nothing was sent by then
