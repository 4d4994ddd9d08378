"""The scheduler: APScheduler runs the pipeline's jobs on the timetable of ``settings.toml``.

Three jobs, each a fixed sequence of named steps that call the same stage functions as the CLI:

- ``daily``: crawl the sites → match → report (and the crawl-health alerts) → ETDA case file;
- ``recheck``: re-check the sites' known listings → match;
- ``register``: import each configured register file whose content changed → match.

Every run is recorded with its steps (``store.journal``; ``tisiwatch schedule history``). A step that
fails is recorded with its reason and the later steps still run; so do later runs. The jobs live in
APScheduler's SQLAlchemy job store in the project database under fixed ids, replaced at every start
(keeping the stored next run time while the timetable is unchanged, so that a run missed while the
scheduler was down is made up for within ``schedule.misfire_grace_s``), coalesced, one instance at a
time, and run one after another. SIGTERM or SIGINT stops the scheduler cleanly: the running job ends
its current step, records the rest as skipped and the run as ``interrupted``; a second signal stops at
once. At start the scheduler marks runs whose process died as interrupted, closes the crawl runs they
left open, and runs an interrupted job again — continuing its crawls where they stopped — unless that
is more than ``misfire_grace_s`` late.

Cron expressions are standard crontab (minute hour day month weekday, 0 or 7 = Sunday), read by
``ScheduleConfig.trigger``: APScheduler 3 would count weekday numbers from Monday.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from types import FrameType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from apscheduler.schedulers import SchedulerNotRunningError
from sqlalchemy import Column, Float, MetaData, String, Table, func, inspect, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from config import Settings
from store import journal
from store.clock import as_utc, local_day, utcnow
from store.db import Store
from store.lock import DatabaseLock, LockHeld
from store.models import CrawlRun, PipelineRun

log = logging.getLogger("tisiwatch.scheduler")
T = TypeVar("T")

JOBSTORE_TABLE = "apscheduler_jobs"
JOURNAL_TRIES = 6
"""A journal write is tried this often (waiting 1, 2, 4 … s) while the database cannot be reached."""


@dataclass(frozen=True)
class JobPlan:
    """A job of the timetable: its fixed id, the ``[schedule]`` key of its cron expression, its steps."""

    id: str
    cron_key: str
    steps: tuple[str, ...]
    title: str


_PLANS = [
    JobPlan(
        "daily", "daily", ("crawl", "match", "report", "cases"), "crawl, match, report and alerts, case file"
    ),
    JobPlan("recheck", "recheck", ("crawl", "match"), "re-check the known listings, match"),
    JobPlan("register", "register_check", ("register", "match"), "import changed register files, match"),
]
JOBS: dict[str, JobPlan] = {plan.id: plan for plan in _PLANS}


class StepFailed(Exception):
    """A step did part of its work and failed in part: the message says what failed."""

    def __init__(self, message: str, stats: dict[str, Any]) -> None:
        super().__init__(message)
        self.stats = stats


class StepSkipped(Exception):
    """A step had nothing to do (the message says why)."""


class StepInterrupted(StepFailed):
    """A step was stopped by the scheduler's stop (SIGTERM/SIGINT); its work can be continued."""


@dataclass
class RunContext:
    """One run in progress: its ids, the local day it reports on, and what its steps found."""

    run_id: int
    job: str
    day: date
    imported: int = 0


@dataclass(frozen=True)
class RunOutcome:
    run_id: int
    job: str
    status: str
    steps: list[tuple[str, str, str | None]]
    """(name, status, why: the error of a failed step, the reason of a skipped one) of every step."""


class Pipeline:
    """Runs the jobs of :data:`JOBS`: each step in turn, each recorded, none able to stop the others."""

    def __init__(self, settings: Settings, store: Store, stopping: threading.Event | None = None) -> None:
        self.settings = settings
        self.store = store
        self.stopping = stopping or threading.Event()
        self.stop_reason = "the scheduler was stopping"

    # --- running a job and recording it

    def run(self, job: str, trigger: str = "manual") -> RunOutcome:
        """Run ``job`` now; the run and every step are recorded whatever happens."""
        plan = JOBS[job]
        run = self._write(lambda s: journal.open_run(s, job, trigger, plan.steps))
        step_ids = [step.id for step in run.steps]
        zone = ZoneInfo(self.settings.report.timezone)
        context = RunContext(run.id, job, local_day(run.started_at, zone))
        log.info("%s: run %s started (%s)", job, run.id, trigger)
        outcome: list[tuple[str, str, str | None]] = []
        stopped = False
        try:
            for name, step_id in zip(plan.steps, step_ids, strict=True):
                if self.stopping.is_set():
                    stopped = True
                    why = {"reason": f"not started: {self.stop_reason}"}
                    self._write(partial(journal.end_step, step_id=step_id, status="skipped", stats=why))
                    outcome.append((name, "skipped", None))
                    continue
                outcome.append((name, *self._step(context, name, step_id)))
        except BaseException as exc:  # Ctrl-C in `schedule trigger`, or an exit: the run is interrupted
            cause = f"interrupted ({type(exc).__name__})"
            self._write(lambda s: interrupt_run(s, s.get_one(PipelineRun, context.run_id), cause))
            raise
        statuses = {status for _, status, _ in outcome}
        stopped = stopped or "interrupted" in statuses
        status = "interrupted" if stopped else "failed" if "failed" in statuses else "finished"
        failed = [f"{name}: {error}" for name, state, error in outcome if error and state == "failed"]
        error = "; ".join(failed) or (f"stopped: {self.stop_reason}" if stopped else None)
        self._write(lambda s: journal.close_run(s, context.run_id, status, error and error[:4000]))
        log.log(
            logging.INFO if status == "finished" else logging.WARNING,
            "%s: run %s %s%s",
            job,
            context.run_id,
            status,
            f": {error}" if error else "",
        )
        return RunOutcome(context.run_id, job, status, outcome)

    def _step(self, context: RunContext, name: str, step_id: int) -> tuple[str, str | None]:
        self._write(lambda s: journal.start_step(s, step_id))
        error: str | None = None
        try:
            stats, status = self._call(context, name, step_id), "ok"
        except StepSkipped as skipped:
            stats, status, error = {"reason": str(skipped)}, "skipped", str(skipped)
        except StepInterrupted as stopped:
            stats, status, error = stopped.stats, "interrupted", str(stopped)
        except StepFailed as failed:
            stats, status, error = failed.stats, "failed", str(failed)
        except Exception as exc:  # a failing step never takes the run down
            log.exception("%s: step %s failed", context.job, name)
            stats, status, error = {}, "failed", f"{type(exc).__name__}: {exc}"
        recorded = None if status == "skipped" else error and error[:4000]
        self._write(lambda s: journal.end_step(s, step_id, status, stats, recorded))
        return status, error

    def _call(self, context: RunContext, name: str, step_id: int) -> dict[str, Any]:
        if name == "crawl":
            return self.crawl(context, step_id, recheck=context.job == "recheck")
        if name == "match":
            if context.job == "register" and not context.imported:
                raise StepSkipped("no register file was imported")
            return self.match()
        step: Callable[[RunContext], dict[str, Any]] = getattr(self, name)
        return step(context)

    def _write(self, action: Callable[[Session], T]) -> T:
        """A journal write in its own short transaction, tried again while the database is unreachable
        (a PostgreSQL restart) or busy beyond its timeout."""
        for attempt in range(JOURNAL_TRIES):
            try:
                with self.store.session() as session:
                    return action(session)
            except OperationalError as exc:
                if attempt == JOURNAL_TRIES - 1:
                    raise
                log.warning("journal write failed (%s); trying again", str(exc).splitlines()[0])
                time.sleep(2**attempt)
        raise AssertionError("unreachable")

    # --- the steps: each calls one stage function, as the CLI does

    def crawl(self, context: RunContext, step_id: int, *, recheck: bool) -> dict[str, Any]:
        """Crawl the scheduled sites (``recheck``: their known listings); continue this job's own crawls
        that an interruption left unfinished."""
        from crawler.profile import ProfileError, load_profile
        from crawler.runner import crawl

        names = self.settings.schedule.sites or self.settings.sites.enabled
        problems: dict[str, str] = {}
        profiles = []
        for name in names:
            try:
                profiles.append(load_profile(name, self.settings.crawl.profiles_dir))
            except ProfileError as exc:
                problems[name] = str(exc)
        with self.store.session() as session:
            after = session.scalar(select(func.max(CrawlRun.id))) or 0
            resumable = journal.resumable_sites(
                session, context.job, names, self.settings.schedule.misfire_grace_s
            )
        # written before crawling: after a kill, recovery finds this step's crawl runs by it
        self._write(lambda s: journal.note_step(s, step_id, {"sites": list(names), "after_crawl_run": after}))
        runs: dict[str, dict[str, Any]] = {}
        for resume in (True, False):
            group = [profile for profile in profiles if (profile.name in resumable) == resume]
            if not group:
                continue
            try:
                results = crawl(self.settings, group, recheck=recheck, store=self.store, resume=resume)
            except Exception as exc:
                log.exception("%s: crawl of %s failed", context.job, ", ".join(p.name for p in group))
                problems.update({p.name: f"{type(exc).__name__}: {exc}" for p in group})
                continue
            for result in results:
                runs[result.site] = {
                    "run": result.run_id,
                    "status": result.status,
                    "resumed": result.resumed,
                    **{k: result.stats.get(k, 0) for k in ("items", "pages", "failed_urls")},
                }
                if result.status != "finished":
                    why = result.stats.get("reason")
                    problems[result.site] = f"run {result.run_id} {result.status}" + (
                        f": {why}" if why else ""
                    )
        stats = {"runs": runs, "problems": problems}
        said = "; ".join(p if p.startswith(f"{site}:") else f"{site}: {p}" for site, p in problems.items())
        if problems and self.stopping.is_set():
            raise StepInterrupted(f"stopped: {said}", stats)
        if problems:
            raise StepFailed(said, stats)
        return stats

    def match(self) -> dict[str, Any]:
        from matchers.match import MatchError, RegisterMissing, match_pending

        try:
            summary = match_pending(self.store, self.settings)
        except (RegisterMissing, MatchError) as exc:
            raise StepFailed(str(exc), {}) from None
        return {
            "judged": summary.judged,
            "register_version": summary.register_version,
            "by_verdict": dict(summary.by_verdict),
            **({"made_without": summary.missing} if summary.missing else {}),
        }

    def report(self, context: RunContext) -> dict[str, Any]:
        """The day's report into ``<data_dir>/reports/<day>/``; then the crawl-health alerts, which
        are sent even when the report could not be written."""
        from reports.alerts import crawl_alerts, send_alerts
        from reports.daily import build_daily_report

        out = self.settings.data_dir / "reports" / context.day.isoformat()
        stats: dict[str, Any] = {
            "day": context.day.isoformat(),
            "out": str(out.relative_to(self.settings.data_dir)),
        }
        failure: Exception | None = None
        alerts = None
        try:
            report = build_daily_report(self.store, out, context.day, timezone=self.settings.report.timezone,
                                        evidence_root=self.settings.data_dir, settings=self.settings)  # fmt: skip
            stats["counts"] = report.counts
            alerts = list(report.alerts)
        except Exception as exc:
            log.exception("%s: the daily report failed", context.job)
            failure = exc
        try:
            if alerts is None:  # the report failed: the alerts are read on their own
                with self.store.session() as session:
                    alerts = crawl_alerts(session, context.day, self.settings)
            send_alerts(alerts, self.settings)
            stats["alerts"] = [f"{alert.kind}: {alert.message}" for alert in alerts]
        except Exception as exc:
            log.exception("%s: the crawl-health alerts failed", context.job)
            failure = failure or exc
        if failure is not None:
            raise StepFailed(f"{type(failure).__name__}: {failure}", stats)
        return stats

    def cases(self, context: RunContext) -> dict[str, Any]:
        """The signed ETDA case file of the violations seen on the day: ``<data_dir>/cases/cases-<day>.zip``."""
        from reports.casefile import export_cases

        out = self.settings.data_dir / "cases" / f"cases-{context.day.isoformat()}.zip"
        out.parent.mkdir(parents=True, exist_ok=True)
        summary = export_cases(self.store, self.settings, since=context.day, out=out)
        return {
            "out": str(out.relative_to(self.settings.data_dir)),
            "cases": summary.cases,
            "size": summary.size,
            "evidence_problems": len(summary.problems),
        }

    def register(self, context: RunContext) -> dict[str, Any]:
        """Import each of ``schedule.register_files`` whose content (SHA-256) is not in the register in
        force, all or nothing per file, each on its own: a file that fails, however, is recorded with
        its reason and the others go on. A file refused once — rejected, unreadable, or failing the
        import — is not tried again until its content changes; one that failed because the database
        could not be written is tried again at the next check."""
        from matchers.register import RegisterError, import_register
        from matchers.registerfile import shown

        files = self.settings.schedule.register_files  # relative to the data directory, or absolute
        if not files:
            raise StepSkipped("no register files are configured (schedule.register_files)")
        with self.store.session() as session:
            in_force, refused = journal.register_hashes(session)
        results: dict[str, dict[str, Any]] = {}
        problems = []
        for name in files:
            path = self.settings.data_dir / name
            try:
                with path.open("rb") as file:
                    digest = hashlib.file_digest(file, "sha256").hexdigest()
            except OSError as exc:
                problems.append(f"{shown(name)}: cannot be read ({exc.strerror})")
                results[name] = {"result": "unreadable", "reason": exc.strerror}
                continue
            if digest in in_force:
                results[name] = {"result": "unchanged", "sha256": digest}
                continue
            if name in refused and refused[name][0] == digest:
                results[name] = {"result": "rejected before", "sha256": digest, "reason": refused[name][1]}
                continue
            try:
                version = import_register(self.store, path)
            except RegisterError as exc:
                problems.append(f"{shown(name)} rejected, nothing imported: {exc}")
                results[name] = {"result": "rejected", "sha256": digest, "reason": str(exc)[:2000]}
                continue
            except Exception as exc:  # one file's failure never stops the others
                log.exception("%s: import of %s failed", context.job, shown(name))
                reason = shown(f"{type(exc).__name__}: {exc}")[:2000]
                problems.append(f"{shown(name)} failed, nothing imported: {reason}")
                results[name] = {"result": "failed", "reason": reason}
                if not _database_down(exc):  # the file's fault: held back like a rejected file
                    results[name]["sha256"] = digest
                continue
            context.imported += 1
            results[name] = {
                "result": "imported",
                "sha256": digest,
                "version": version.id,
                "kind": version.kind,
                "rows": version.row_count,
            }
        stats = {"files": results, "imported": context.imported}
        if problems:
            raise StepFailed("; ".join(problems), stats)
        return stats


def _database_down(exc: Exception) -> bool:
    """Whether an import failed because the database could not be reached or written, not because of
    the file (a server restart, a lock held too long)."""
    from sqlalchemy.exc import DBAPIError, InterfaceError

    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


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


# --- the timetable


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


# --- the scheduler process

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
        since = utcnow() - timedelta(seconds=self.settings.schedule.misfire_grace_s)
        jobs = []
        with self.store.session() as session:
            for plan in JOBS.values():
                stored = self.apscheduler.get_job(plan.id, jobstore="default")
                if stored is None or (stored.next_run_time and stored.next_run_time <= datetime.now(UTC)):
                    continue
                last = journal.latest(session, plan.id)
                interrupted = last is not None and last.status == "interrupted" and last.trigger != "manual"
                if interrupted and last is not None and as_utc(last.started_at) >= since:
                    jobs.append(plan.id)
        return jobs

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
