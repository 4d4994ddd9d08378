"""The scheduler when PostgreSQL restarts (every session ends; here the sessions of the test's own
database are ended, as a restart would): its lock, lost with its session, is taken again while it
is free; when another scheduler took it meanwhile, this one stops instead of running beside it.
Nor does it go on holding the lock when a restart has ended APScheduler's thread."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.pool import NullPool

import scheduler.service
from config import Settings
from scheduler import Scheduler
from scheduler.registerstep import RegisterStep
from scheduler.steps import StepContext, StepResult
from store.db import Store
from store.lock import LockHeld
from store.models import PipelineRun
from tests.conftest import POSTGRES_ADMIN_URL
from tests.scheduler.conftest import Make
from tests.store.sessions import Rival, cut_sessions, lock_holders

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_settings(make_settings: Make, postgres_store: Store) -> Callable[..., Settings]:
    """Settings on the PostgreSQL test database; ``check_s``: the lock check's interval."""

    def make(check_s: float = 0.1) -> Settings:
        return make_settings(database={"url": postgres_store.url}, schedule={"lock_check_s": check_s})

    return make


@pytest.fixture
def rival(postgres_store: Store) -> Iterator[Rival]:
    rival = Rival(postgres_store.url)
    yield rival
    rival.close()


def _until(condition: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within 30 s: {what}")
        time.sleep(0.02)


def _runs(store: Store) -> list[tuple[str, str, str | None, list[tuple[str, str]]]]:
    with store.session() as session:
        return [
            (run.job, run.status, run.error, [(step.name, step.status) for step in run.steps])
            for run in session.scalars(select(PipelineRun).order_by(PipelineRun.id))
        ]


def test_a_lock_lost_in_a_restart_is_taken_again_and_a_second_scheduler_is_still_refused(
    pg_settings: Callable[..., Settings], postgres_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    url = postgres_store.url
    first = Scheduler(pg_settings(), postgres_store)
    first.start()
    try:
        [before] = lock_holders(url)
        assert cut_sessions(url) >= 1  # the restart: every session of the database ends
        _until(lambda: lock_holders(url) not in ([], [before]), "the lock taken again")
        second = Scheduler(pg_settings(), postgres_store)
        with pytest.raises(LockHeld, match="another scheduler holds"):
            second.start()
        second.stop()
        assert not first.stopping.is_set()
        assert first.apscheduler.state == 1  # STATE_RUNNING: still handing out jobs
    finally:
        first.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("database lock was lost" in m and "taken again" in m for m in warnings)
    assert first.failure is None
    assert lock_holders(url) == []


def test_a_scheduler_whose_lock_another_took_ends_its_running_step_and_starts_nothing_more(
    pg_settings: Callable[..., Settings],
    postgres_store: Store,
    rival: Rival,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The restart comes while the register job's first step runs; another scheduler's session gets
    the lock first. The step ends, the match step after it does not start, the run is interrupted;
    no job is handed out any more."""
    in_step, go_on = threading.Event(), threading.Event()

    def register(self: RegisterStep, context: StepContext) -> StepResult[Any]:
        in_step.set()
        go_on.wait(60)
        return self.done("imported 1 of 1 register files", {"imported": 1}, {})

    monkeypatch.setattr(RegisterStep, "perform", register)
    first = Scheduler(pg_settings(), postgres_store)
    first.start(now=["register"])
    try:
        assert in_step.wait(60)
        rival.queue()
        cut_sessions(postgres_store.url, only=lock_holders(postgres_store.url))
        assert rival.got.wait(10)
        assert first.ended.wait(30)
        assert first.stopping.is_set()
        assert first.apscheduler.state == 2  # STATE_PAUSED: no job handed out any more
        go_on.set()
    finally:
        go_on.set()
        first.stop()
    assert first.failure is not None
    assert "another scheduler took it" in first.failure
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [first.failure]
    [(job, status, error, steps)] = _runs(postgres_store)
    assert (job, status, steps) == ("register", "interrupted", [("register", "ok"), ("match", "skipped")])
    assert error == "stopped: the scheduler lost its database lock"
    assert lock_holders(postgres_store.url) == [rival.pid]  # the rival's lock was left alone


def test_a_job_due_after_the_lock_was_taken_by_another_is_not_run(
    pg_settings: Callable[..., Settings], postgres_store: Store, rival: Rival
) -> None:
    """Checked before every job: here the interval is long, so the check before the job finds it."""
    first = Scheduler(pg_settings(check_s=3600), postgres_store)
    first.start()
    try:
        rival.queue()
        cut_sessions(postgres_store.url, only=lock_holders(postgres_store.url))
        assert rival.got.wait(10)
        first.apscheduler.add_job(first.run_job, args=["register", "now"], jobstore="once")
        assert first.ended.wait(30)
    finally:
        first.stop()
    assert first.failure is not None
    assert "another scheduler took it" in first.failure
    assert _runs(postgres_store) == []


def test_a_lock_that_cannot_be_taken_again_while_the_database_is_unreachable_stops_the_scheduler(
    pg_settings: Callable[..., Settings], postgres_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses connections (as while a server is down) for longer than the tries."""
    monkeypatch.setattr(scheduler.service, "LOCK_TRIES", 2)  # 1 s between the tries
    name = postgres_store.url.rsplit("/", 1)[-1]
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    first = Scheduler(pg_settings(), postgres_store)
    first.start()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        cut_sessions(postgres_store.url)
        assert first.ended.wait(30)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
        first.stop()
    assert first.failure is not None
    assert "could not take it again" in first.failure
    assert lock_holders(postgres_store.url) == []


def test_schedule_run_exits_with_one_error_line_when_another_scheduler_took_its_lock(
    tmp_path: Path, postgres_store: Store, rival: Rival
) -> None:
    env = {**os.environ, "TISIWATCH_SCHEDULE_LOCK_CHECK_S": "0.1", "PYTHAINLP_READ_ONLY": "1"}
    command = [sys.executable, "-m", "cli", "--data-dir", str(tmp_path), "--database-url", postgres_store.url,
               "schedule", "run"]  # fmt: skip
    log = tmp_path / "scheduler.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            _until(lambda: "scheduler started" in log.read_text() or process.poll() is not None, "a start")
            rival.queue()
            cut_sessions(postgres_store.url, only=lock_holders(postgres_store.url))
            assert process.wait(60) == 1
        finally:
            process.kill()
            process.wait()
    lines = log.read_text().splitlines()
    assert "Traceback" not in log.read_text()
    [error] = [line for line in lines if line.startswith("error:")]
    assert error.startswith("error: the scheduler lost its database lock when its PostgreSQL session ended")
    assert error.endswith("another scheduler took it: this one stops")
    assert lines[-1] == error
    assert any(line.startswith("ERROR tisiwatch.scheduler:") for line in lines)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_scheduler_whose_timetable_thread_a_restart_ended_stops(
    pg_settings: Callable[..., Settings], postgres_store: Store
) -> None:
    """APScheduler's loop survives a failing look for due jobs, not a failing look for the next run
    time: a restart between the two ends its thread (here the job store's session is ended then)."""
    first = Scheduler(pg_settings(), postgres_store)
    first.start()
    cuts: list[int] = []

    def cut(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("SELECT apscheduler_jobs.next_run_time") and not cuts:
            cuts.append(
                cut_sessions(
                    postgres_store.url, only=[connection.connection.dbapi_connection.info.backend_pid]
                )
            )

    event.listen(postgres_store.engine, "before_cursor_execute", cut)
    try:
        first.apscheduler.wakeup()  # the loop looks again
        assert first.ended.wait(30)
    finally:
        event.remove(postgres_store.engine, "before_cursor_execute", cut)
        first.stop()
    assert cuts == [1]
    assert first.failure is not None
    assert first.failure.startswith("the scheduler's timetable thread (APScheduler) ended on an error")
    assert lock_holders(postgres_store.url) == []  # released: another scheduler may start
