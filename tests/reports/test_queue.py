"""The review queue: who is in it, in what order, every filter, paging, and what decisions do to it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reports.findings import findings
from reports.queue import QueueError, QueueFilter, queue_page
from store.db import Store
from store.decisions import check, decide
from store.models import Decision, Listing, Observation, Site, User, Verdict
from store.people import add_user
from tests.reports.report_builders import DAY1, DAY2, EXPECTED, World, bkk, two_days

INJECTIONS = [
    "' OR '1'='1",
    "x'; DROP TABLE listings; --",
    '" OR ""="',
    "1) UNION SELECT username, password_hash FROM users --",
    "%",
    "_",
    "\\",
    "2879' --",
]


def scenario(session: Session) -> dict[str, Listing]:
    """The two-day scenario of the findings tests, each listing first seen at its first observation."""
    listings = two_days(World(session))
    for listing in listings.values():
        first = session.scalar(
            select(func.min(Observation.observed_at)).where(Observation.listing_id == listing.id)
        )
        if first is not None:
            listing.first_seen = first
    session.flush()
    return listings


def keys(page: object) -> list[str]:
    return [row.listing_key.split(":", 1)[1] for row in page.rows]  # type: ignore[attr-defined]


def officer(session: Session, name: str = "officer") -> User:
    return add_user(session, name, "officer", "correct horse battery")


@pytest.mark.postgres
def test_the_queue_holds_the_violations_and_reviews_with_the_findings_status(any_store: Store) -> None:
    with any_store.session() as session:
        scenario(session)
        page = queue_page(session, QueueFilter(), day=DAY2)
        found = {f.listing_key: f for f in findings(session, DAY2)}
    expected = {
        key
        for key, (_, day2) in EXPECTED.items()
        if found[f"{'shop-b' if key == 'other' else 'shop-a'}:{key}"].verdict
        in ("no_licence_shown", "invalid_licence", "unsafe", "needs_review")
        and day2 != "resolved"
    }
    assert set(keys(page)) == expected
    assert "fine" not in expected
    assert "gone" not in expected
    assert "fixed" not in expected
    for row in page.rows:
        assert row.status == found[row.listing_key].status == EXPECTED[row.listing_key.split(":")[1]][1]


@pytest.mark.postgres
def test_the_days_new_come_first_then_the_continuing(any_store: Store) -> None:
    with any_store.session() as session:
        scenario(session)
        rows = queue_page(session, QueueFilter(), day=DAY2).rows
    fresh = [row.fresh for row in rows]
    assert fresh == sorted(fresh, reverse=True), "a continuing listing before a new one"
    assert {row.listing_key for row in rows if row.fresh} == {
        "shop-a:fresh", "shop-a:review", "shop-a:early", "shop-b:other"
    }  # fmt: skip
    status = {row.listing_key: row.status for row in rows}
    assert status["shop-a:cont"] == "continuing"
    assert status["shop-a:relapse"] == "new"  # opened again: new, placed by its first sighting
    assert [row.first_seen for row in rows] == sorted((row.first_seen for row in rows), reverse=True)


FILTERS = [
    (QueueFilter(site="shop-b"), {"other"}),
    (QueueFilter(verdict="needs_review"), {"review"}),
    (QueueFilter(verdict="invalid_licence"), {"fresh", "promoted"}),
    (QueueFilter(licence_status="revoked"), {"fresh"}),
    (QueueFilter(standard="369"), {"cont"}),
    (QueueFilter(standard="369-2557"), {"cont"}),
    (QueueFilter(standard="36"), set()),
    (QueueFilter(seller="ร้านอื่น"), {"cont"}),
    (QueueFilter(first_seen=DAY1), {"cont", "promoted", "late"}),
    (QueueFilter(observed=DAY1), {"late"}),
    (QueueFilter(site="shop-a", verdict="no_licence_shown", first_seen=DAY1), {"cont", "late"}),
]


@pytest.mark.postgres
@pytest.mark.parametrize(("wanted", "expected"), FILTERS)
def test_every_filter(any_store: Store, wanted: QueueFilter, expected: set[str]) -> None:
    with any_store.session() as session:
        listings = scenario(session)
        listings["cont"].seller_name = "ร้านอื่น"
        for observation in session.scalars(
            select(Observation).where(Observation.listing_id == listings["cont"].id)
        ):
            observation.seller_name = None  # the listing's seller shows
        for verdict in session.scalars(select(Verdict).where(Verdict.listing_id == listings["cont"].id)):
            verdict.tis_number = "369-2557"
        session.flush()
        assert set(keys(queue_page(session, wanted, day=DAY2))) == expected


@pytest.mark.postgres
@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_strings_in_every_filter_match_nothing_and_change_nothing(
    any_store: Store, text: str
) -> None:
    with any_store.session() as session:
        scenario(session)
        before = session.scalar(select(func.count()).select_from(Listing))
        for name in ("site", "standard", "verdict", "licence_status", "seller"):
            assert queue_page(session, QueueFilter(**{name: text}), day=DAY2).rows == [], name
        with pytest.raises(QueueError):
            queue_page(session, QueueFilter(), after=text, day=DAY2)
        with pytest.raises(QueueError):
            queue_page(session, QueueFilter(view=text), day=DAY2)
        assert session.scalar(select(func.count()).select_from(Listing)) == before
        assert session.scalar(select(func.count()).select_from(Site)) == 2


@pytest.mark.postgres
def test_pages_follow_each_other_without_gaps_or_repeats(any_store: Store) -> None:
    with any_store.session() as session:
        world = World(session)
        world.register(bkk(date(2025, 1, 1)))
        for n in range(37):
            listing = world.listing(f"p{n:02d}")
            listing.first_seen = bkk(DAY1, n % 5)  # ties on first_seen: the id breaks them
            world.observe(listing, bkk(DAY2), "no_licence_shown" if n % 4 else "licensed")
        whole = keys(queue_page(session, QueueFilter(), size=1000, day=DAY2))
        seen: list[str] = []
        after = None
        while True:
            page = queue_page(session, QueueFilter(), after=after, size=10, day=DAY2)
            seen += keys(page)
            if page.next_after is None:
                break
            after = page.next_after
    assert len(whole) == 27
    assert seen == whole


@pytest.mark.postgres
def test_a_dismissal_holds_until_the_judged_content_changes(any_store: Store) -> None:
    with any_store.session() as session:
        listings = scenario(session)
        user = officer(session)
        cont, fresh = listings["cont"], listings["fresh"]
        decide(session, user, [cont.id, fresh.id], "dismissed", reason="licence_valid")
        open_keys = keys(queue_page(session, QueueFilter(), day=DAY2))
        assert "cont" not in open_keys
        assert "fresh" not in open_keys
        assert {"cont", "fresh"} <= set(keys(queue_page(session, QueueFilter(view="decided"), day=DAY2)))
        world = World(session)
        # later that day: the price of one changed (still out), the title of the other (back, marked)
        world.observe(cont, bkk(DAY2, 20), "no_licence_shown", price=Decimal("1.00"))
        world.observe(fresh, bkk(DAY2, 20), "invalid_licence", licence_status="revoked", title="ชื่อใหม่",
                      licence_claimed="ท1234-56/2879")  # fmt: skip
        rows = {row.listing_key: row for row in queue_page(session, QueueFilter(), day=DAY2).rows}
    assert "shop-a:cont" not in rows
    assert rows["shop-a:fresh"].mark == "changed"


@pytest.mark.postgres
def test_the_licence_shown_changing_brings_a_dismissal_back(any_store: Store) -> None:
    with any_store.session() as session:
        listings = scenario(session)
        decide(session, officer(session), [listings["fresh"].id], "dismissed", reason="other", note="ดูแล้ว")
        World(session).observe(
            listings["fresh"], bkk(DAY2, 20), "invalid_licence", licence_claimed="ท5555-55/2879"
        )
        assert "fresh" in keys(queue_page(session, QueueFilter(), day=DAY2))


@pytest.mark.postgres
def test_confirmations_needs_information_and_the_supervisors_check(any_store: Store) -> None:
    with any_store.session() as session:
        listings = scenario(session)
        user = officer(session)
        boss = add_user(session, "boss", "supervisor", "correct horse battery")
        cont, fresh, review = listings["cont"], listings["fresh"], listings["review"]
        decide(session, user, [cont.id, fresh.id], "confirmed")
        decide(session, user, [review.id], "needs_information", note="ขอรูปฉลาก")

        def view(name: str, qc: bool = True) -> dict[str, object]:
            page = queue_page(session, QueueFilter(view=name), qc=qc, day=DAY2)
            return {row.listing_key.split(":")[1]: row.mark for row in page.rows}

        assert "cont" not in view("open")
        assert view("open")["review"] == "needs_information"
        assert set(view("to_check")) == {"cont", "fresh"}
        assert set(view("to_check", qc=False)) == set()
        assert {"cont", "fresh"} <= set(view("decided"))
        decisions = {d.listing_id: d.id for d in session.scalars(select(Decision))}
        check(session, boss, decisions[cont.id], "passed")
        check(session, boss, decisions[fresh.id], "returned", "ไม่มีหลักฐานพอ")
        assert set(view("to_check")) == set()
        assert view("open")["fresh"] == "returned"
        assert "cont" in view("decided")
        assert "fresh" not in view("decided")
        all_keys = set(view("all"))
    assert {"cont", "fresh", "review"} <= all_keys


def test_a_bad_view_is_refused(sqlite_store: Store) -> None:
    with sqlite_store.session() as session, pytest.raises(QueueError, match="view"):
        queue_page(session, QueueFilter(view="everything"))


@pytest.mark.postgres
def test_the_decided_view_shows_the_latest_decided_first_page_by_page(any_store: Store) -> None:
    with any_store.session() as session:
        listings = scenario(session)
        user = officer(session)
        for key in ("cont", "fresh", "interlude"):
            decide(session, user, [listings[key].id], "confirmed" if key != "fresh" else "dismissed",
                   reason=None if key != "fresh" else "duplicate")  # fmt: skip
        decide(session, user, [listings["review"].id], "needs_information")
        first = queue_page(session, QueueFilter(view="decided"), size=2, day=DAY2)
        assert keys(first) == ["interlude", "fresh"]
        assert first.next_after is not None
        assert first.next_after.startswith("d")
        second = queue_page(session, QueueFilter(view="decided"), after=first.next_after, size=2, day=DAY2)
        assert keys(second) == ["cont"]
        assert second.next_after is None
        with pytest.raises(QueueError):
            queue_page(session, QueueFilter(view="decided"), after="2025-03-10T00:00:00~5", day=DAY2)
        filtered = queue_page(session, QueueFilter(view="decided", verdict="unsafe"), day=DAY2)
        assert keys(filtered) == ["interlude"]
