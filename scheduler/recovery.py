"""Recovery: what is done about runs that did not end by themselves.

A run whose process died (killed, the machine restarted) is marked ``interrupted`` — at the next
scheduler start, or by the next ``schedule trigger`` — and the crawl runs its crawl step left open are
closed as interrupted too, so that the crawl can be continued. A job whose latest run was interrupted
recently enough (``schedule.misfire_grace_s``) is run again at the scheduler's start, its crawl step
continuing those crawls where they stopped (:class:`scheduler.crawlstep.CrawlStep`, ``resume="own"``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from scheduler.plan import JOBS
from store import journal
from store.clock import as_utc, utcnow
from store.db import Store
from store.models import CrawlRun, PipelineRun

log = logging.getLogger("tisiwatch.scheduler")


def recover(store: Store, *, scheduler_starting: bool = False) -> list[int]:
    """Mark as ``interrupted`` every run whose process is gone. At a scheduler's start every run a
    scheduler began is gone — one scheduler runs per database. Returns the ids of the runs marked."""
    marked = []
    with store.session() as session:
        for run in journal.unfinished(session):
            if journal.process_gone(run) or (scheduler_starting and run.trigger != "manual"):
                left = interrupt_run(
                    session, run, f"its process ({run.host}, pid {run.pid}) ended before the run did"
                )
                marked.append(run.id)
                log.warning("%s: run %s was interrupted (its process is gone); crawl runs left: %s", run.job,
                            run.id, left or "none")  # fmt: skip
    return marked


def interrupt_run(session: Session, run: PipelineRun, why: str) -> list[int]:
    """Close a run that will not go on: the crawl runs its crawl step left open are closed as
    ``interrupted`` (resumable, and remembered in the step as ``left_runs``), its running step is
    ``interrupted``, the rest ``skipped``. Returns the crawl runs left."""
    from crawler.scaleout import settle_run

    left: list[int] = []
    for step in run.steps:
        if step.name == "crawl" and step.status == "running":
            left = journal.left_crawl_runs(session, step)
            for crawl_run in session.scalars(select(CrawlRun).where(CrawlRun.id.in_(left))):
                settle_run(
                    session, crawl_run.id, list((crawl_run.stats or {}).get("workers") or {}) or ["w0"]
                )
            step.stats = {**(step.stats or {}), "left_runs": left}
    journal.interrupt(session, run, why)
    return left


def jobs_to_catch_up(settings: Settings, store: Store, next_runs: Mapping[str, datetime | None]) -> list[str]:
    """The jobs to run again at the scheduler's start: enabled (``next_runs``: each stored job's next
    run time), not due anyway, and whose latest run was interrupted recently enough."""
    since = utcnow() - timedelta(seconds=settings.schedule.misfire_grace_s)
    jobs = []
    with store.session() as session:
        for plan in JOBS.values():
            if plan.id not in next_runs:
                continue
            next_run = next_runs[plan.id]
            if next_run and next_run <= datetime.now(UTC):
                continue
            last = journal.latest(session, plan.id)
            interrupted = last is not None and last.status == "interrupted" and last.trigger != "manual"
            if interrupted and last is not None and as_utc(last.started_at) >= since:
                jobs.append(plan.id)
    return jobs
