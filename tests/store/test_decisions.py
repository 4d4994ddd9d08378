"""Officers' decisions: appended in bulk with few statements, never changed, and what they stand for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from core.decisions import judged_hash
from store.db import Store
from store.decisions import DecisionError, decide, observation_hash, observation_hashes, standing_decisions
from store.models import Decision, Listing, Observation
from store.people import add_user
from tests.reports.report_builders import DAY2, World, bkk


@contextmanager
def counted(session: Session) -> Iterator[list[str]]:
    """The SQL statements run on ``session``'s connection meanwhile."""
    statements: list[str] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def many(session: Session, count: int) -> list[Listing]:
    world = World(session)
    world.register(bkk(date(2025, 1, 1)))
    listings = [world.listing(f"m{n:04d}") for n in range(count)]
    for n, listing in enumerate(listings):
        world.observe(listing, bkk(DAY2), "no_licence_shown", licence_claimed=f"x{n}" if n % 2 else None)
    return listings


@pytest.mark.postgres
def test_a_thousand_decisions_at_once_in_a_few_statements(any_store: Store) -> None:
    with any_store.session() as session:
        listings = many(session, 1000)
        user = add_user(session, "officer", "officer", "correct horse battery")
        ids = [listing.id for listing in listings]
        with counted(session) as statements:
            made = decide(session, user, ids, "dismissed", reason="duplicate", note="  ร้านเดียวกัน  ")
        assert len(made) == 1000
        assert len(statements) <= 20, f"{len(statements)} statements: not batched"
        assert {d.note for d in made} == {"ร้านเดียวกัน"}
        # each decision carries the hash of what it judged, the licence shown included
        some = made[1]
        observation = session.get(Observation, some.observation_id)
        assert observation is not None
        assert some.judged_hash == judged_hash(observation.title, "", {}, "x1", [])
        assert some.judged_hash == observation_hash(session, some.observation_id)


@pytest.mark.postgres
def test_decisions_are_appended_never_updated(any_store: Store) -> None:
    with any_store.session() as session:
        listings = many(session, 3)
        user = add_user(session, "officer", "officer", "correct horse battery")
        ids = [listing.id for listing in listings]
        first = decide(session, user, ids, "needs_information")
        before = [(d.id, d.decision, d.decided_at) for d in first]
        decide(session, user, ids[:2], "confirmed")
        session.flush()
        rows = session.scalars(select(Decision).order_by(Decision.id)).all()
        assert len(rows) == 5
        assert [(d.id, d.decision, d.decided_at) for d in rows[:3]] == before
        standing = standing_decisions(session, ids)
    assert [standing[i].decision for i in ids] == ["confirmed", "confirmed", "needs_information"]


def test_hashes_in_bulk_equal_one_at_a_time(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        listings = many(session, 5)
        ids = session.scalars(
            select(Observation.id).where(Observation.listing_id.in_([x.id for x in listings]))
        )
        ids_ = list(ids)
        assert observation_hashes(session, ids_) == {i: observation_hash(session, i) for i in ids_}
        assert observation_hashes(session, [999_999]) == {}
        with pytest.raises(DecisionError):
            observation_hash(session, 999_999)


def test_a_listing_without_an_observation_is_refused_and_nothing_is_written(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        listings = many(session, 2)
        bare = World(session).listing("bare", site="shop-z")
        user = add_user(session, "officer", "officer", "correct horse battery")
        with pytest.raises(DecisionError, match="no observation"):
            decide(session, user, [listings[0].id, bare.id], "confirmed")
        assert session.scalar(select(func.count()).select_from(Decision)) == 0
        with pytest.raises(DecisionError, match="reason"):
            decide(session, user, [listings[0].id], "dismissed")
        with pytest.raises(DecisionError, match="note"):
            decide(session, user, [listings[0].id], "dismissed", reason="other", note=" ")
