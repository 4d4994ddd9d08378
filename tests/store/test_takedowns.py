"""Cases sent to ETDA: recorded once while open, taken down when the listing is found gone (with the
date), still online after ``takedown_days``; and the daily plan re-checks them first."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.decisions import SENT, STILL_ONLINE, TAKEN_DOWN
from store.db import Store
from store.models import CaseSend, Listing
from store.planning import known_listings
from store.takedowns import open_sends, record_sends, sent_listings, update_sends
from tests.reports.report_builders import DAY1, World, bkk

SENT_AT = bkk(DAY1, 12)


def _world(store: Store) -> dict[str, int]:
    """Four violating listings seen on the morning of DAY1."""
    with store.session() as session:
        world = World(session)
        world.register(standards={"2879-2560": "แบตเตอรี่สำรอง"})
        ids = {}
        for name in ("a", "b", "c", "d"):
            listing = world.listing(name)
            world.observe(listing, bkk(DAY1, 9), "no_licence_shown")
            ids[name] = listing.id
        return ids


def _observe(store: Store, listing_id: int, at_days: float, *, gone: bool = False) -> None:
    with store.session() as session:
        world = World(session)
        listing = session.get_one(Listing, listing_id)
        world.observe(
            listing, SENT_AT + timedelta(days=at_days), None if gone else "no_licence_shown", gone=gone
        )


def _status(store: Store, listing_id: int) -> tuple[str, object]:
    with store.session() as session:
        send = session.scalars(
            select(CaseSend).where(CaseSend.listing_id == listing_id).order_by(CaseSend.id.desc())
        ).first()
        assert send is not None
        return send.status, send.status_at


def test_a_case_is_recorded_once_while_it_is_open(any_store: Store) -> None:
    ids = _world(any_store)
    with any_store.session() as session:
        made = record_sends(session, {ids["a"]: "c-a", ids["b"]: "c-b"}, "cases-1.zip", SENT_AT)
        assert [(s.case_id, s.status, s.export_name) for s in made] == [
            ("c-a", SENT, "cases-1.zip"),
            ("c-b", SENT, "cases-1.zip"),
        ]
    with any_store.session() as session:
        again = record_sends(session, {ids["a"]: "c-a", ids["c"]: "c-c"}, "cases-2.zip", SENT_AT)
        assert [s.case_id for s in again] == ["c-c"]  # a is sent and open: not twice
        assert session.scalar(select(func.count()).select_from(CaseSend)) == 3
        assert set(open_sends(session)) == {ids["a"], ids["b"], ids["c"]}


def test_taken_down_when_gone_with_the_date_and_still_online_after_the_days(any_store: Store) -> None:
    ids = _world(any_store)
    with any_store.session() as session:
        record_sends(session, {ids[n]: f"c-{n}" for n in "abcd"}, "cases.zip", SENT_AT)
    _observe(any_store, ids["a"], 1.5, gone=True)  # gone a day and a half after it was sent
    _observe(any_store, ids["b"], 3)  # online 3 days later: not yet 7
    _observe(any_store, ids["c"], 7.25)  # online 7¼ days later
    _observe(any_store, ids["c"], 8)
    with any_store.session() as session:
        update = update_sends(session, 7, now=SENT_AT + timedelta(days=9))
    assert (update.checked, update.taken_down, update.still_online) == (4, 1, 1)
    status, at = _status(any_store, ids["a"])
    assert status == TAKEN_DOWN
    assert at is not None
    assert abs((at - (SENT_AT + timedelta(days=1.5))).total_seconds()) < 1
    assert _status(any_store, ids["b"]) == (SENT, None)
    status, at = _status(any_store, ids["c"])
    assert status == STILL_ONLINE  # at its first sighting on or after day 7
    assert abs((at - (SENT_AT + timedelta(days=7.25))).total_seconds()) < 1  # type: ignore[operator]
    assert _status(any_store, ids["d"]) == (SENT, None)  # never seen again: nothing is known
    # still online is still watched: gone later, it is taken down then
    _observe(any_store, ids["c"], 10, gone=True)
    with any_store.session() as session:
        update = update_sends(session, 7, now=SENT_AT + timedelta(days=11))
    assert (update.checked, update.taken_down) == (3, 1)
    assert _status(any_store, ids["c"])[0] == TAKEN_DOWN
    # a taken-down listing that is exported again (it came back) is a new send
    with any_store.session() as session:
        assert [s.case_id for s in record_sends(session, {ids["a"]: "c-a"}, "later.zip")] == ["c-a"]


def test_a_gone_sighting_before_the_send_does_not_count(any_store: Store) -> None:
    ids = _world(any_store)
    _observe(any_store, ids["a"], -0.1, gone=True)  # gone before it was sent …
    _observe(any_store, ids["a"], -0.05)  # … and back (a flaky page)
    with any_store.session() as session:
        record_sends(session, {ids["a"]: "c-a"}, "cases.zip", SENT_AT)
        update = update_sends(session, 7, now=SENT_AT + timedelta(days=1))
    assert update.taken_down == 0
    assert _status(any_store, ids["a"]) == (SENT, None)


def test_the_daily_plan_rechecks_sent_cases_first(any_store: Store) -> None:
    ids = _world(any_store)
    _observe(any_store, ids["b"], 0.1)
    with any_store.session() as session:
        world = World(session)
        world.observe(session.get_one(Listing, ids["b"]), SENT_AT + timedelta(days=0.2), "licensed")
        site_id = session.get_one(Listing, ids["b"]).site_id
        before = {k.marketplace_id: k.first for k in known_listings(session, site_id)}
        assert before == {"a": True, "b": False, "c": True, "d": True}  # b's violation is resolved
        record_sends(session, {ids["b"]: "c-b"}, "cases.zip", SENT_AT)
        after = {k.marketplace_id: (k.open_violation, k.sent_case) for k in known_listings(session, site_id)}
        assert after["b"] == (False, True)  # not violating now, but its case is open: re-checked first
        assert [mid for mid, _, _ in sent_listings(session, site_id)] == ["b"]
    _observe(any_store, ids["b"], 1, gone=True)
    with any_store.session() as session:
        update_sends(session, 7, now=SENT_AT + timedelta(days=2))
        assert sent_listings(session, site_id) == []
        assert "b" not in {k.marketplace_id for k in known_listings(session, site_id)}
