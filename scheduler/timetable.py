"""The timetable as ``tisiwatch schedule list`` shows it: every job, its cron expression, its next run
(the scheduler's, from its job store, once it has stored its jobs) and its latest run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, Float, MetaData, String, Table, inspect, select

from config import Settings
from scheduler.plan import JOBS, JobPlan
from store import journal
from store.db import Store
from store.models import PipelineRun

JOBSTORE_TABLE = "apscheduler_jobs"
"""The table of APScheduler's job store in the project database."""


@dataclass(frozen=True)
class TimetableEntry:
    """A job as ``tisiwatch schedule list`` shows it."""

    plan: JobPlan
    cron: str
    next_run: datetime | None
    stored: bool
    """Whether ``next_run`` is the scheduler's (from its job store) rather than computed from the settings."""
    last: PipelineRun | None


def timetable(settings: Settings, store: Store) -> list[TimetableEntry]:
    """Every job, its cron expression ("" = off), its next run and its latest run."""
    stored: dict[str, float | None] = {}
    if inspect(store.engine).has_table(JOBSTORE_TABLE):
        table = Table(JOBSTORE_TABLE, MetaData(), Column("id", String(191)), Column("next_run_time", Float))
        with store.engine.connect() as connection:
            stored = {
                job_id: at for job_id, at in connection.execute(select(table.c.id, table.c.next_run_time))
            }
    entries = []
    now = datetime.now(UTC)
    with store.session() as session:
        for plan in JOBS.values():
            cron = getattr(settings.schedule, plan.cron_key)
            if plan.id in stored:
                at = stored[plan.id]
                next_run = None if at is None else datetime.fromtimestamp(at, UTC)
            else:
                trigger = settings.schedule.trigger(plan.cron_key)
                next_run = trigger.get_next_fire_time(None, now) if trigger is not None else None
            entries.append(
                TimetableEntry(plan, cron, next_run, plan.id in stored, journal.latest(session, plan.id))
            )
    return entries
