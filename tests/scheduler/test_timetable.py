"""The timetable: standard cron in Asia/Bangkok, fixed job ids in the project database's job store,
replaced at each start with their options; missed and interrupted runs made up for."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload
from typer.testing import CliRunner

import cli
from config import ConfigError, ScheduleConfig, Settings, load_settings
from scheduler import JOBS, JOBSTORE_TABLE, Scheduler
from store import journal
from store.clock import utcnow
from store.db import Store
from store.lock import LockHeld
from store.models import PipelineRun
from tests.scheduler.conftest import Make, dead_pid

BANGKOK = ZoneInfo("Asia/Bangkok")
WEDNESDAY = datetime(2026, 11, 25, 0, 0, tzinfo=BANGKOK)

CRONS = [
    ("0 3 * * 0", "sun", "2026-11-29 03:00"),  # crontab: 0 is Sunday (APScheduler 3 alone: Monday)
    ("0 3 * * 7", "sun", "2026-11-29 03:00"),
    ("0 3 * * 1-5", "mon,tue,wed,thu,fri", "2026-11-25 03:00"),
    ("0 3 * * */2", "sun,tue,thu,sat", "2026-11-26 03:00"),
    ("30 6 * * sat,sun", "sun,sat", "2026-11-28 06:30"),
    ("0 6 * * *", "*", "2026-11-25 06:00"),
]


@pytest.mark.parametrize(("cron", "weekdays", "first"), CRONS)
def test_cron_expressions_are_standard_crontab_in_bangkok_time(cron: str, weekdays: str, first: str) -> None:
    trigger = ScheduleConfig(daily=cron).trigger("daily")
    assert str(trigger.fields[4]) == weekdays
    assert f"{trigger.get_next_fire_time(None, WEDNESDAY):%Y-%m-%d %H:%M}" == first
    assert ScheduleConfig(daily="").trigger("daily") is None  # "" switches a job off


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"daily": "0 6 * *"}, "daily: '0 6 * *' is not a cron expression (4 fields"),
        ({"recheck": "0 3 * * 8"}, "recheck: '0 3 * * 8' is not a cron expression"),
        ({"register_check": "61 * * * *"}, "register_check: '61 * * * *' is not a cron expression"),
        ({"timezone": "Mars/Olympus"}, "timezone: 'Mars/Olympus' is not a time zone"),
        ({"misfire_grace_s": 0}, "schedule.misfire_grace_s"),
    ],
)
def test_a_bad_timetable_stops_at_start_naming_the_key(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match="schedule") as error:
        load_settings(overrides={"schedule": section}, environ={})
    assert message in str(error.value)


def _stored(store: Store) -> dict[str, float]:
    with store.engine.connect() as connection:
        return dict(connection.execute(text(f"SELECT id, next_run_time FROM {JOBSTORE_TABLE}")).all())


def test_the_jobs_are_stored_under_fixed_ids_with_their_options(make_settings: Make, store: Store) -> None:
    settings = make_settings(schedule={"misfire_grace_s": 1800})
    scheduler = Scheduler(settings, store)
    scheduler.start()
    try:
        jobs = {job.id: job for job in scheduler.apscheduler.get_jobs(jobstore="default")}
        assert set(jobs) == set(JOBS)
        for job in jobs.values():
            assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 1800)
            assert job.func_ref == "scheduler:scheduled_job"
            assert "Asia/Bangkok" in repr(job.trigger)
        assert f"{jobs['daily'].next_run_time.astimezone(BANGKOK):%H:%M}" == "06:00"
    finally:
        scheduler.stop()
    assert set(_stored(store)) == set(JOBS)  # in the project database
    again = Scheduler(make_settings(schedule={"register_check": ""}), store)  # replaced, not added
    again.start()
    again.stop()
    assert set(_stored(store)) == {"daily", "recheck"}  # a job switched off is removed


def _set_next_run(settings: Settings, store: Store, job: str, at: datetime) -> None:
    """What a scheduler that went down before ``at`` leaves in its job store (the job's pickled state
    and its indexed column agree)."""
    scheduler = Scheduler(settings, store)
    scheduler.start()
    scheduler.stop()
    with store.engine.begin() as connection:
        query = text(f"SELECT job_state FROM {JOBSTORE_TABLE} WHERE id = :id")
        state = pickle.loads(connection.execute(query, {"id": job}).scalar_one())
        state["next_run_time"] = at
        connection.execute(
            text(f"UPDATE {JOBSTORE_TABLE} SET job_state = :state, next_run_time = :at WHERE id = :id"),
            {"state": pickle.dumps(state), "at": at.timestamp(), "id": job},
        )


def _wait_for_run(store: Store, job: str, trigger: str, timeout: float = 30.0) -> PipelineRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.session() as session:
            run = session.scalar(select(PipelineRun).where(PipelineRun.job == job, PipelineRun.trigger == trigger,
                                                           PipelineRun.status != "running").options(selectinload(PipelineRun.steps)))  # fmt: skip
            if run is not None:
                return run
        time.sleep(0.1)
    raise AssertionError(f"no {trigger} run of {job} within {timeout:.0f} s")


def test_a_run_missed_while_the_scheduler_was_down_is_made_up_within_the_grace_time(
    make_settings: Make, store: Store
) -> None:
    settings = make_settings(schedule={"misfire_grace_s": 3600})
    _set_next_run(settings, store, "register", datetime.now(UTC) - timedelta(minutes=10))  # it was down then
    second = Scheduler(settings, store)
    second.start()
    try:
        run = _wait_for_run(store, "register", "schedule")
    finally:
        second.stop()
    assert run.status == "finished"
    assert [(step.name, step.status) for step in run.steps] == [("register", "skipped"), ("match", "skipped")]
    assert _stored(store)["register"] > time.time()  # the next run is in the future again


def test_a_run_missed_by_more_than_the_grace_time_waits_for_its_next_time(
    make_settings: Make, store: Store
) -> None:
    # a job due rarely: no later time of it falls within the grace time, whenever the test runs
    settings = make_settings(schedule={"misfire_grace_s": 60, "register_check": "0 4 29 2 *"})
    _set_next_run(settings, store, "register", datetime.now(UTC) - timedelta(minutes=10))
    second = Scheduler(settings, store)
    second.start()
    time.sleep(1.0)
    second.stop()
    with store.session() as session:
        assert session.scalar(select(PipelineRun)) is None
    assert _stored(store)["register"] > time.time()


def test_an_interrupted_scheduled_run_is_caught_up_at_start_but_not_a_manual_one(
    make_settings: Make, store: Store
) -> None:
    with store.session() as session:
        manual = journal.open_run(session, "recheck", "manual", JOBS["recheck"].steps)
        manual.pid = dead_pid()
        scheduled = journal.open_run(session, "register", "schedule", JOBS["register"].steps)
        scheduled.host = "another-host"  # a scheduler's own run is dead at a scheduler's start, wherever
    scheduler = Scheduler(make_settings(), store)
    scheduler.start()
    try:
        caught_up = _wait_for_run(store, "register", "catch-up")
    finally:
        scheduler.stop()
    assert caught_up.status == "finished"
    with store.session() as session:
        statuses = {
            run.id: (run.job, run.trigger, run.status) for run in session.scalars(select(PipelineRun))
        }
    assert statuses == {
        manual.id: ("recheck", "manual", "interrupted"),
        scheduled.id: ("register", "schedule", "interrupted"),
        caught_up.id: ("register", "catch-up", "finished"),
    }


def test_an_interrupted_run_older_than_the_grace_time_is_not_caught_up(
    make_settings: Make, store: Store
) -> None:
    with store.session() as session:
        old = journal.open_run(session, "register", "schedule", JOBS["register"].steps)
        old.started_at = utcnow() - timedelta(hours=2)
    scheduler = Scheduler(make_settings(schedule={"misfire_grace_s": 3600}), store)
    scheduler.start()
    time.sleep(1.0)
    scheduler.stop()
    with store.session() as session:
        assert [run.status for run in session.scalars(select(PipelineRun))] == ["interrupted"]


def test_schedule_list_shows_the_timetable_and_the_stored_next_runs(
    make_settings: Make, store: Store, cli_state: None
) -> None:
    options = ["--data-dir", str(make_settings().data_dir)]
    runner = CliRunner()
    before = runner.invoke(cli.app, [*options, "schedule", "list"])
    assert before.exit_code == 0, before.output
    assert "daily" in before.output
    assert "0 6 * * *" in before.output
    assert "crawl → match → takedowns → report → cases" in before.output
    assert "has not stored its jobs yet" in before.output
    _set_next_run(make_settings(), store, "recheck", datetime(2031, 1, 2, 3, 4, tzinfo=UTC))  # as stored
    after = runner.invoke(cli.app, [*options, "schedule", "list"])
    assert after.exit_code == 0, after.output
    assert "2031-01-02 10:04" in after.output  # in Asia/Bangkok
    assert "has not stored its jobs yet" not in after.output


def test_the_scheduler_process_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """`tisiwatch schedule run` in the foreground, idle: SIGTERM ends it at once with exit code 0."""
    root = Path(__file__).resolve().parents[2]
    Store(f"sqlite:///{tmp_path / 'tisiwatch.db'}").migrate()  # what `tisiwatch init` does
    command = [sys.executable, "-m", "cli", "--data-dir", str(tmp_path), "schedule", "run"]
    log = tmp_path / "scheduler.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=root, stdout=output, stderr=subprocess.STDOUT)
        try:
            store = Store(f"sqlite:///{tmp_path / 'tisiwatch.db'}")
            deadline = time.monotonic() + 60
            while "job daily: next run" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert set(_stored(store)) == set(JOBS)
            store.dispose()
            process.terminate()
            assert process.wait(30) == 0
        finally:
            process.kill()
            process.wait()
    text_ = log.read_text()
    assert "scheduler started" in text_
    assert "SIGTERM: stopping after the running step" in text_
    assert "scheduler stopped" in text_


def test_an_unchanged_timetable_keeps_the_stored_next_run(make_settings: Make, store: Store) -> None:
    later = datetime.now(UTC) + timedelta(days=3)
    _set_next_run(make_settings(), store, "daily", later)
    again = Scheduler(make_settings(), store)
    again.start()
    again.stop()
    assert _stored(store)["daily"] == pytest.approx(later.timestamp())
    changed = Scheduler(make_settings(schedule={"daily": "0 7 * * *"}), store)
    changed.start()
    changed.stop()
    assert datetime.fromtimestamp(_stored(store)["daily"], BANGKOK).hour == 7


def test_a_second_scheduler_on_the_database_is_refused_and_changes_nothing(
    make_settings: Make, store: Store, cli_state: None
) -> None:
    first = Scheduler(make_settings(), store)
    first.start()
    try:
        with store.session() as session:
            running = journal.open_run(session, "daily", "schedule", JOBS["daily"].steps)
        second = Scheduler(make_settings(), store)
        with pytest.raises(LockHeld, match="another scheduler holds"):
            second.start()
        second.stop()
        result = CliRunner().invoke(cli.app, ["--data-dir", str(make_settings().data_dir), "schedule", "run"])
        assert result.exit_code == 1
        assert "one scheduler runs per database" in result.output
        assert "scheduler started" not in result.output
        with store.session() as session:  # the first scheduler's run was not taken for dead
            assert session.get(PipelineRun, running.id).status == "running"  # type: ignore[union-attr]
            journal.close_run(session, running.id, "finished")
    finally:
        first.stop()
    again = Scheduler(make_settings(), store)  # free again once the first has stopped
    again.start()
    again.stop()


def test_stopping_just_as_a_one_off_job_starts_raises_nothing_in_the_scheduler_thread(
    make_settings: Make, store: Store
) -> None:
    """APScheduler 3 shut down while it hands a one-off job to the executor fails in its own thread
    (JobLookupError); pytest turns such a thread error into a failure of this test."""
    scheduler = Scheduler(make_settings(), store)  # once letting the job run, so a run is written
    scheduler.start(now=["register"])
    try:
        _wait_for_run(store, "register", "now")
    finally:
        scheduler.stop()
    for _ in range(5):  # then stopped at once: the job may or may not have started
        scheduler = Scheduler(make_settings(), store)
        scheduler.start(now=["register"])
        scheduler.stop()
    with store.session() as session:
        runs = list(session.scalars(select(PipelineRun).where(PipelineRun.trigger == "now")))
    assert runs
    assert all(run.status in ("finished", "interrupted") for run in runs)
