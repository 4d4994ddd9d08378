"""The journal of pipeline runs: the scheduler's record of each job run and its steps.

A run is a fixed sequence of named steps, all written as ``pending`` when the run opens, so that
``tisiwatch schedule history`` shows what was planned as well as what happened. Every change is its
own short transaction: a crawl or an analyst's command writing to the same SQLite file waits at most
for one of them. A run records the host and process that runs it, so that a run whose process died
(SIGKILL, power loss) can be told from one still going and marked ``interrupted``
(:func:`process_gone`); a crawl step notes, before it crawls, what recovery needs to find the crawl
runs it leaves (:func:`left_crawl_runs`), so that the job's next run continues them
(:func:`resumable_sites`). :func:`register_hashes` tells a changed register file from one in force.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from store.clock import utcnow
from store.models import CrawlRun, PipelineRun, PipelineStep, Site
from store.register import in_force_hashes

RUN_ENDS = ("finished", "failed", "interrupted")
STEP_ENDS = ("ok", "failed", "skipped", "interrupted")


def this_process() -> tuple[str, int]:
    """The host name and process id a run started here records."""
    return socket.gethostname()[:255], os.getpid()


def open_run(session: Session, job: str, trigger: str, steps: Sequence[str]) -> PipelineRun:
    """A new ``running`` run of ``job`` with its steps ``pending``."""
    host, pid = this_process()
    run = PipelineRun(job=job, trigger=trigger, status="running", host=host, pid=pid)
    run.steps = [
        PipelineStep(position=index, name=name, status="pending", stats={})
        for index, name in enumerate(steps)
    ]
    session.add(run)
    session.flush()
    return run


def start_step(session: Session, step_id: int, stats: Mapping[str, Any] | None = None) -> None:
    step = session.get_one(PipelineStep, step_id)
    step.status, step.started_at = "running", utcnow()
    if stats is not None:
        step.stats = dict(stats)


def note_step(session: Session, step_id: int, stats: Mapping[str, Any]) -> None:
    """Add to a running step's stats (what a later recovery needs to know, written before the work)."""
    step = session.get_one(PipelineStep, step_id)
    step.stats = {**(step.stats or {}), **stats}


def end_step(
    session: Session, step_id: int, status: str, stats: Mapping[str, Any], error: str | None = None
) -> None:
    if status not in STEP_ENDS:
        raise ValueError(f"a step ends {', '.join(STEP_ENDS)}, not {status!r}")
    step = session.get_one(PipelineStep, step_id)
    step.status, step.finished_at, step.error = status, utcnow(), error
    step.stats = {**(step.stats or {}), **stats}
    if step.started_at is None:
        step.started_at = step.finished_at


def close_run(session: Session, run_id: int, status: str, error: str | None = None) -> None:
    if status not in RUN_ENDS:
        raise ValueError(f"a run ends {', '.join(RUN_ENDS)}, not {status!r}")
    run = session.get_one(PipelineRun, run_id)
    run.status, run.finished_at, run.error = status, utcnow(), error


def interrupt(session: Session, run: PipelineRun, why: str) -> None:
    """Close a run whose process is gone: its running step ``interrupted``, pending ones ``skipped``."""
    now = utcnow()
    for step in run.steps:
        if step.status == "running":
            step.status, step.finished_at, step.error = "interrupted", now, why
        elif step.status == "pending":
            step.status, step.finished_at = "skipped", now
    run.status, run.finished_at, run.error = "interrupted", now, why


def unfinished(session: Session, job: str | None = None) -> list[PipelineRun]:
    """Runs still marked ``running`` (oldest first), with their steps."""
    query = select(PipelineRun).where(PipelineRun.status == "running").order_by(PipelineRun.id)
    if job is not None:
        query = query.where(PipelineRun.job == job)
    return list(session.scalars(query.options(selectinload(PipelineRun.steps))))


def recent(session: Session, limit: int = 20, job: str | None = None) -> list[PipelineRun]:
    """The latest runs (newest first), with their steps."""
    query = select(PipelineRun).order_by(PipelineRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(PipelineRun.job == job)
    return list(session.scalars(query.options(selectinload(PipelineRun.steps))))


def latest(session: Session, job: str) -> PipelineRun | None:
    return session.scalar(
        select(PipelineRun).where(PipelineRun.job == job).order_by(PipelineRun.id.desc()).limit(1)
    )


def process_gone(run: PipelineRun) -> bool:
    """Whether the process that runs ``run`` is known to be gone: it ran on this host and its process
    id is no longer alive, or is this very process (whose runs are all accounted for by itself)."""
    host, pid = this_process()
    if run.host != host:
        return False
    if run.pid == pid:
        return True
    try:
        os.kill(run.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


REFUSED = ("rejected", "rejected before", "failed")
"""Results of the register step that hold a file back until its content changes."""


def register_hashes(session: Session, look_back: int = 50) -> tuple[set[str], dict[str, tuple[str, str]]]:
    """The SHA-256 of each register file in force (standards, licences, unsafe list), and for each
    scheduled register file that the register step refused, by its name: the SHA-256 refused and why.
    The refusals are those of the latest register step that recorded its files (one that failed as a
    whole records none), among the last ``look_back``."""
    in_force = in_force_hashes(session)
    steps = session.scalars(
        select(PipelineStep)
        .where(PipelineStep.name == "register", PipelineStep.status.in_(("ok", "failed")))
        .order_by(PipelineStep.id.desc())
        .limit(look_back)
    )
    files: dict[str, dict[str, Any]] = next(
        (stats["files"] for step in steps if (stats := step.stats or {}).get("files")), {}
    )
    refused = {
        name: (entry["sha256"], str(entry.get("reason") or ""))
        for name, entry in files.items()
        if entry.get("result") in REFUSED and entry.get("sha256")
    }
    return in_force, refused


def resumable_sites(session: Session, job: str, names: Iterable[str], grace_s: int) -> set[str]:
    """The sites whose latest crawl run is one that an interrupted run of ``job`` (no older than the
    grace time) left unfinished: those crawls are continued, not started again. An analyst's crawl
    that was killed is never taken over."""
    since = utcnow() - timedelta(seconds=grace_s)
    owned: set[int] = set()
    steps = session.scalars(
        select(PipelineStep)
        .join(PipelineRun)
        .where(
            PipelineRun.job == job,
            PipelineRun.status == "interrupted",
            PipelineRun.started_at >= since,
            PipelineStep.name == "crawl",
        )
    )
    for step in steps:
        stats = step.stats or {}
        owned.update(int(entry["run"]) for entry in (stats.get("runs") or {}).values())
        owned.update(int(run_id) for run_id in stats.get("left_runs") or [])
    found = set()
    for name in names:
        latest = session.scalar(
            select(CrawlRun).join(Site).where(Site.name == name).order_by(CrawlRun.id.desc()).limit(1)
        )
        if latest is not None and latest.id in owned and latest.status in ("running", "interrupted"):
            found.add(name)
    return found


def left_crawl_runs(session: Session, step: PipelineStep) -> list[int]:
    """The crawl runs a crawl step started and never saw finish."""
    stats = step.stats or {}
    if "after_crawl_run" not in stats or step.started_at is None:
        return []
    return list(
        session.scalars(
            select(CrawlRun.id)
            .join(Site)
            .where(
                CrawlRun.id > int(stats["after_crawl_run"]),
                Site.name.in_(stats.get("sites") or []),
                CrawlRun.started_at >= step.started_at,
                CrawlRun.status.in_(("running", "interrupted")),
            )
            .order_by(CrawlRun.id)
        )
    )
