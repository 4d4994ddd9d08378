"""Running a job: its plan's steps in turn, every one recorded in the journal (``store.journal``;
``tisiwatch schedule history``), none able to stop the others.

A step that fails is recorded with its reason and the later steps still run. When the run is to stop
(:attr:`Pipeline.stopping`: SIGTERM, a lost lock) the running step ends, the rest are recorded as
skipped and the run as ``interrupted``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from config import Settings
from scheduler.plan import JOBS, job_steps
from scheduler.recovery import interrupt_run
from scheduler.steps import StepContext, StepResult
from store import journal
from store.clock import local_day
from store.db import Store
from store.models import PipelineRun

log = logging.getLogger("tisiwatch.scheduler")
T = TypeVar("T")

JOURNAL_TRIES = 6
"""A journal write is tried this often (waiting 1, 2, 4 … s) while the database cannot be reached."""


@dataclass(frozen=True)
class RunOutcome:
    run_id: int
    job: str
    status: str
    steps: list[tuple[str, str, str | None]]
    """(name, status, why: the error of a failed step, the reason of a skipped one) of every step."""
    results: tuple[StepResult[Any], ...] = ()
    """The results of the steps that ran."""


class Pipeline:
    """Runs the jobs of :data:`scheduler.plan.JOBS`, each step recorded."""

    def __init__(self, settings: Settings, store: Store, stopping: threading.Event | None = None) -> None:
        self.settings = settings
        self.store = store
        self.stopping = stopping or threading.Event()
        self.stop_reason = "the scheduler was stopping"

    def run(self, job: str, trigger: str = "manual") -> RunOutcome:
        """Run ``job`` now; the run and every step are recorded whatever happens."""
        plan = JOBS[job]
        run = self._write(lambda s: journal.open_run(s, job, trigger, plan.steps))
        run_id, step_ids = run.id, [step.id for step in run.steps]
        steps = job_steps(
            job, self.settings, local_day(run.started_at, ZoneInfo(self.settings.report.timezone))
        )
        context = StepContext(self.settings, self.store, job=job, contain=True, stopping=self.stopping)
        log.info("%s: run %s started (%s)", job, run_id, trigger)
        outcome: list[tuple[str, str, str | None]] = []
        stopped = False
        try:
            for step, step_id in zip(steps, step_ids, strict=True):
                if self.stopping.is_set():
                    stopped = True
                    why = {"reason": f"not started: {self.stop_reason}"}
                    self._write(partial(journal.end_step, step_id=step_id, status="skipped", stats=why))
                    outcome.append((step.name, "skipped", None))
                    continue
                self._write(partial(journal.start_step, step_id=step_id))
                context.note = partial(self._note, step_id)
                result = step.run(context)
                context.results[step.name] = result
                recorded = None if result.status == "skipped" else result.error and result.error[:4000]
                self._write(partial(journal.end_step, step_id=step_id, status=result.status,
                                    stats=dict(result.counts), error=recorded))  # fmt: skip
                log.info(
                    "%s: step %s %s%s",
                    job,
                    step.name,
                    result.status,
                    f": {result.summary}" if result.summary else "",
                )
                outcome.append((step.name, result.status, result.error))
        except BaseException as exc:  # Ctrl-C in `schedule trigger`, or an exit: the run is interrupted
            cause = f"interrupted ({type(exc).__name__})"
            self._write(lambda s: interrupt_run(s, s.get_one(PipelineRun, run_id), cause))
            raise
        statuses = {status for _, status, _ in outcome}
        stopped = stopped or "interrupted" in statuses
        status = "interrupted" if stopped else "failed" if "failed" in statuses else "finished"
        failed = [f"{name}: {error}" for name, state, error in outcome if error and state == "failed"]
        error = "; ".join(failed) or (f"stopped: {self.stop_reason}" if stopped else None)
        self._write(lambda s: journal.close_run(s, run_id, status, error and error[:4000]))
        log.log(logging.INFO if status == "finished" else logging.WARNING, "%s: run %s %s%s",
                job, run_id, status, f": {error}" if error else "")  # fmt: skip
        return RunOutcome(run_id, job, status, outcome, tuple(context.results.values()))

    def _note(self, step_id: int, stats: Mapping[str, Any]) -> None:
        self._write(lambda s: journal.note_step(s, step_id, stats))

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
