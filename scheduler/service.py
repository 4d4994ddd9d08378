"""The scheduler service: APScheduler runs the jobs of :data:`scheduler.plan.JOBS` on the timetable of
``settings.toml``, one at a time, while it holds the database's scheduler lock.

The jobs live in APScheduler's SQLAlchemy job store in the project database under fixed ids, replaced at
every start (keeping the stored next run time while the timetable is unchanged, so that a run missed
while the scheduler was down is made up for within ``schedule.misfire_grace_s``), coalesced, one
instance at a time, and run one after another. SIGTERM or SIGINT stops the scheduler cleanly: the
running job ends its current step, records the rest as skipped and the run as ``interrupted``; a second
signal stops at once. At start the scheduler recovers (:mod:`scheduler.recovery`): it marks runs whose
process died as interrupted, closes the crawl runs they left open, and runs an interrupted job again —
continuing its crawls where they stopped — unless that is more than ``misfire_grace_s`` late.

Cron expressions are standard crontab (minute hour day month weekday, 0 or 7 = Sunday), read by
``ScheduleConfig.trigger``: APScheduler 3 would count weekday numbers from Monday.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable
from contextlib import suppress
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.schedulers import SchedulerNotRunningError
from sqlalchemy.exc import DBAPIError

from config import Settings
from scheduler.pipeline import JOURNAL_TRIES, Pipeline
from scheduler.plan import JOBS
from scheduler.recovery import jobs_to_catch_up, recover
from scheduler.timetable import JOBSTORE_TABLE
from store.db import Store
from store.lock import DatabaseLock, LockHeld

log = logging.getLogger("tisiwatch.scheduler")

_scheduler: Scheduler | None = None

LOCK_TRIES = JOURNAL_TRIES
"""A lost lock is tried for this often (waiting 1, 2, 4 … s) while the database cannot be reached."""


class SchedulerFailed(RuntimeError):
    """The scheduler stopped by itself: it lost its database lock for good (another scheduler took
    it, or the database could not be reached to take it again), or its timetable thread ended."""


def scheduled_job(job: str) -> None:
    """What APScheduler calls for a job of the timetable (stored by reference in the job store)."""
    if _scheduler is None:
        log.error("%s: no scheduler to run it (the scheduler is not running in this process)", job)
        return
    _scheduler.run_job(job, "schedule")


class Scheduler:
    """The timetable on a BackgroundScheduler whose jobs are stored in the project database.

    It holds the database's scheduler lock (:class:`store.lock.DatabaseLock`) while it runs, and
    checks every ``schedule.lock_check_s`` and before every job that it still does: a PostgreSQL
    restart ends the session that holds it. A lost lock that is free is taken again (a WARNING); one
    that another scheduler took meanwhile, or that cannot be taken again while the database stays
    unreachable, stops this scheduler (an ERROR): it hands out no more jobs, the running job ends
    its current step and skips the rest (its run ``interrupted``), and :attr:`ended` is set. So
    does APScheduler's thread ending on an error, which would otherwise leave a scheduler that
    holds the lock and runs nothing."""

    def __init__(self, settings: Settings, store: Store) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        self.settings, self.store = settings, store
        self.stopping = threading.Event()
        self.ended = threading.Event()
        """Set when the scheduler is to end: it failed (then :attr:`failure` says why), or
        :func:`run_forever` got a signal."""
        self.failure: str | None = None
        self.pipeline = Pipeline(settings, store, self.stopping)
        self.lock = DatabaseLock(store, "scheduler")
        self._guard = threading.Lock()  # one lock check at a time: the watchdog's or a job's
        self._watchdog: threading.Thread | None = None
        self.apscheduler = BackgroundScheduler(
            timezone=ZoneInfo(settings.schedule.timezone),
            jobstores={
                "default": SQLAlchemyJobStore(engine=store.engine, tablename=JOBSTORE_TABLE),
                "once": MemoryJobStore(),
            },
            executors={"default": ThreadPoolExecutor(max_workers=1)},  # one job at a time
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": settings.schedule.misfire_grace_s,
            },
        )

    def start(self, now: Iterable[str] = ()) -> None:
        """Recover from an earlier death, store the timetable, and start (jobs in ``now`` right away).
        Raises :class:`store.lock.LockHeld`, changing nothing, while another scheduler runs on the database."""
        global _scheduler
        self.lock.acquire()
        recover(self.store, scheduler_starting=True)
        _scheduler = self
        scheduler = self.apscheduler
        scheduler.start(paused=True)
        for plan in JOBS.values():
            cron = getattr(self.settings.schedule, plan.cron_key)
            existing = scheduler.get_job(plan.id, jobstore="default")
            if not cron:
                if existing is not None:
                    scheduler.remove_job(plan.id, jobstore="default")
                continue
            trigger = self.settings.schedule.trigger(plan.cron_key)
            keep = existing is not None and repr(existing.trigger) == repr(trigger)
            options = {"next_run_time": existing.next_run_time} if keep and existing is not None else {}
            scheduler.add_job(
                "scheduler:scheduled_job",
                trigger,
                args=[plan.id],
                id=plan.id,
                name=plan.title,
                jobstore="default",
                replace_existing=True,
                **options,
            )
        for job in scheduler.get_jobs(jobstore="default"):
            if job.id not in JOBS:
                job.remove()
        for job, trigger in [*((j, "now") for j in now), *((j, "catch-up") for j in self._catch_up())]:
            scheduler.add_job(
                self.run_job,
                args=[job, trigger],
                id=f"{job}-{trigger}",
                jobstore="once",
                replace_existing=True,
            )
        self._watchdog = threading.Thread(target=self._watch, name="scheduler-watchdog", daemon=True)
        self._watchdog.start()
        scheduler.resume()
        for job in scheduler.get_jobs(jobstore="default"):
            log.info("job %s: next run %s", job.id, job.next_run_time)

    def run_job(self, job: str, trigger: str) -> None:
        """Run ``job`` unless the scheduler is stopping or no longer holds its database lock."""
        if self.stopping.is_set():
            log.info("%s: not started, the scheduler is stopping", job)
            return
        if not self.keep_lock():
            log.error("%s: not started, the scheduler lost its database lock", job)
            return
        self.pipeline.run(job, trigger)

    def _watch(self) -> None:
        """Every ``schedule.lock_check_s``: the lock still held, and APScheduler's thread alive (a
        database error where APScheduler expects none — a restart at the wrong moment — ends it,
        and the timetable with it)."""
        while not self.stopping.wait(self.settings.schedule.lock_check_s):
            if self.keep_lock() and not self._timetable_alive():
                self._give_up("the scheduler's timetable thread (APScheduler) ended on an error (logged "
                              "before this): it stops", "the scheduler's timetable thread ended")  # fmt: skip

    def _timetable_alive(self) -> bool:
        from apscheduler.schedulers.base import STATE_STOPPED

        thread: threading.Thread | None = getattr(self.apscheduler, "_thread", None)
        stopped = self.stopping.is_set() or self.apscheduler.state == STATE_STOPPED
        return stopped or thread is None or thread.is_alive()

    def keep_lock(self) -> bool:
        """Whether this scheduler still holds its database's lock, taking a lost one again while it
        is free; otherwise the scheduler stops (see the class)."""
        with self._guard:
            if self.failure is not None:
                return False
            if self.lock.check():
                return True
            for attempt in range(LOCK_TRIES):
                try:
                    self.lock.retake()
                except LockHeld:
                    self._give_up("the scheduler lost its database lock when its PostgreSQL session ended "
                                  "(a database restart?) and another scheduler took it: this one stops")  # fmt: skip
                    return False
                except DBAPIError as exc:  # the database cannot be reached (yet)
                    if self.stopping.is_set():
                        return False  # stopping anyway
                    if attempt < LOCK_TRIES - 1:
                        self.stopping.wait(2**attempt)
                        continue
                    said = (str(exc).splitlines() or [type(exc).__name__])[0]
                    self._give_up(f"the scheduler lost its database lock when its PostgreSQL session ended "
                                  f"and could not take it again ({said}): it stops")  # fmt: skip
                    return False
                log.warning("the scheduler's database lock was lost (its PostgreSQL session ended: a "
                            "database restart?) and taken again")  # fmt: skip
                return True
            raise AssertionError("unreachable")

    def _give_up(self, why: str, reason: str = "the scheduler lost its database lock") -> None:
        """Stop as on SIGTERM, by itself: no job is handed out any more, the running one ends its
        current step and skips the rest (``reason``: why, in its run's record)."""
        self.failure = why
        log.error("%s", why)
        self.pipeline.stop_reason = reason
        self.stopping.set()
        with suppress(SchedulerNotRunningError):  # (a stop under way)
            self.apscheduler.pause()  # due jobs stay due in the job store, for the scheduler that holds it
        self.ended.set()

    def _catch_up(self) -> list[str]:
        """Enabled jobs whose latest run was interrupted recently enough, and which are not due anyway."""
        stored = {job.id: job.next_run_time for job in self.apscheduler.get_jobs(jobstore="default")}
        return jobs_to_catch_up(self.settings, self.store, stored)

    def stop(self) -> None:
        """Stop taking jobs; the running one ends its current step; wait for it."""
        self.stopping.set()
        scheduler = self.apscheduler
        if scheduler.running:
            # APScheduler 3 hands due jobs to the executor under its job stores' lock and then removes
            # each one-off job; once shut down, that removal fails in its thread (JobLookupError, an
            # upstream race). Its thread may already be waiting for the lock, past the paused check:
            # so under the lock the one-off jobs not yet started are dropped too, leaving it nothing
            # to hand over or remove. A "now" or catch-up job that has not started does not start.
            with scheduler._jobstores_lock:
                scheduler.pause()
                scheduler.remove_all_jobs(jobstore="once")
            scheduler.shutdown(wait=True)
        if self._watchdog is not None:
            self._watchdog.join()
        self.lock.release()


def run_forever(
    settings: Settings, store: Store, now: Iterable[str] = (), started: Callable[[], object] = lambda: None
) -> None:
    """The scheduler in the foreground until SIGTERM or SIGINT (a second one stops at once);
    ``started`` is called once it runs. Raises :class:`store.lock.LockHeld` while another runs, and
    :class:`SchedulerFailed` once it has stopped by itself (see :class:`Scheduler`)."""
    scheduler = Scheduler(settings, store)
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning(
                "%s again: stopping at once", signal.Signals(number).name
            )  # its run: interrupted at the next start
            os._exit(130)
        name = signal.Signals(number).name
        log.warning("%s: stopping after the running step", name)
        scheduler.pipeline.stop_reason = f"the scheduler got {name}"
        scheduler.stopping.set()
        stop.set()
        scheduler.ended.set()

    previous = {number: signal.signal(number, on_signal) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.start(now)
        started()
        while not scheduler.ended.wait(3600):
            pass
    finally:
        scheduler.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)
    if scheduler.failure is not None:
        raise SchedulerFailed(scheduler.failure)
    log.info("scheduler stopped")
