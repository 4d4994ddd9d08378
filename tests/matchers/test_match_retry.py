"""The match stage survives its PostgreSQL connection being lost (a server restart ends every
session; here the sessions of the test's own database are ended, as a restart would): it goes on
from what it had committed and ends with the verdicts of an undisturbed run, none twice. A
connection that stays lost ends with one clear error that quotes no listing or verdict."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, event, func, select, text
from sqlalchemy.pool import NullPool

from config import Settings
from matchers import match
from matchers.match import MatchError, match_pending
from matchers.register import ensure_default_register
from store.db import Store
from store.models import Verdict
from store.writer import Sighting, ensure_site, start_run, store_sightings
from tests.conftest import POSTGRES_ADMIN_URL, small_registers
from tests.store.sessions import cut_sessions

pytestmark = pytest.mark.postgres

TITLES = [
    "พาวเวอร์แบงค์ 20000mAh ชาร์จเร็ว ร้านลับ",
    "ปลั๊กพ่วง 4 ช่อง 3 เมตร มีมอก.",
    "เคสซิลิโคน สำหรับพาวเวอร์แบงค์",
    "หมวกกันน็อค เต็มใบ ใบอนุญาต ท1234-56/2879",
]
SIGHTINGS = [
    Sighting(str(n), f"http://shop.test/p/{n}", f"{TITLES[n % len(TITLES)]} รุ่น {n}") for n in range(1, 12)
]


@pytest.fixture
def store(postgres_store: Store, settings: Settings, tmp_path: Path) -> Store:
    ensure_default_register(postgres_store)
    small_registers(postgres_store, tmp_path)
    with postgres_store.session() as session:
        site = ensure_site(session, "shop", "html", "http://shop.test")
        run = start_run(session, site)
        store_sightings(session, site, run.id, SIGHTINGS)
    return postgres_store


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(match, "BATCH", 3)  # 11 listings: four batches
    monkeypatch.setattr(match, "RETRY_WAIT_S", 0.05)


def _verdicts(store: Store) -> list[tuple[Any, ...]]:
    with store.session() as session:
        rows = session.execute(
            select(
                Verdict.observation_id,
                Verdict.verdict,
                Verdict.licence_status,
                Verdict.tis_number,
                Verdict.score,
                Verdict.reasons,
            ).order_by(Verdict.observation_id)
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def undisturbed(store: Store, settings: Settings) -> list[tuple[Any, ...]]:
    """The verdicts of a run nothing disturbed; then judged again from nothing."""
    assert match_pending(store, settings).judged == len(SIGHTINGS)
    verdicts = _verdicts(store)
    with store.session() as session:
        session.execute(delete(Verdict))
    return verdicts


def _cut_at(store: Store, when: str, nth: int) -> list[int]:
    """End every session of the database just before the ``nth`` statement that starts with
    ``when``; returns the cuts made (how many sessions each ended)."""
    cuts: list[int] = []
    seen = [0]

    @event.listens_for(store.engine, "before_cursor_execute")
    def cut(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.upper().startswith(when):
            seen[0] += 1
            if seen[0] == nth:
                cuts.append(cut_sessions(store.url))

    return cuts


@pytest.mark.parametrize(
    ("when", "nth"),
    [
        ("INSERT INTO VERDICTS", 2),  # the second batch's verdicts are being written
        ("SELECT OBSERVATIONS.LISTING_ID", 2),  # the first batch is committed, the next is being found
    ],
)
def test_match_goes_on_from_what_it_committed_when_its_connection_is_cut(
    store: Store,
    settings: Settings,
    undisturbed: list[tuple[Any, ...]],
    when: str,
    nth: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cuts = _cut_at(store, when, nth)
    summary = match_pending(store, settings)
    assert cuts  # the connection was cut
    assert summary.judged == len(SIGHTINGS)
    assert _verdicts(store) == undisturbed  # the same verdicts, none twice
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "match" in r.name]
    assert len(warnings) == 1
    assert "going on from what was committed" in warnings[0]
    assert "ร้านลับ" not in caplog.text


def test_match_commit_cut_is_judged_again_not_twice(
    store: Store, settings: Settings, undisturbed: list[tuple[Any, ...]]
) -> None:
    """The connection ends as a batch commits: the batch was not committed, and is judged again."""
    commits = [0]

    @event.listens_for(store.engine, "commit")
    def cut(connection: Any) -> None:
        commits[0] += 1
        if commits[0] == 2:
            cut_sessions(store.url)

    assert match_pending(store, settings).judged == len(SIGHTINGS)
    assert _verdicts(store) == undisturbed


def test_match_whose_connection_stays_lost_ends_with_one_clear_error(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses connections (a server that does not come back) once a batch is committed."""
    monkeypatch.setattr(match, "MATCH_TRIES", 3)
    name = store.url.rsplit("/", 1)[-1]
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    inserts = [0]

    @event.listens_for(store.engine, "before_cursor_execute")
    def refuse(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO verdicts"):
            inserts[0] += 1
            if inserts[0] == 2:
                with admin.connect() as connection_:
                    connection_.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                cut_sessions(store.url)

    try:
        with pytest.raises(MatchError) as caught:
            match_pending(store, settings)
    finally:
        event.remove(store.engine, "before_cursor_execute", refuse)
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    error = caught.value
    said = str(error)
    assert "\n" not in said
    assert said.startswith("the match stage lost its database connection and could not reach it again")
    assert "3 listings judged and committed, the rest stay pending" in said
    shown = "".join(traceback.format_exception(error))
    assert error.__cause__ is None
    assert error.__suppress_context__  # the driver's error is not chained: no SQL, no rows
    assert "INSERT INTO" not in shown
    assert "ร้านลับ" not in shown
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Verdict)) == 3  # the first batch stays
    assert match_pending(store, settings).judged == len(SIGHTINGS) - 3  # and the rest is judged later
