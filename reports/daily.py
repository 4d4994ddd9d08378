"""The daily report (``tisiwatch report daily``): what an officer reads every morning.

For one Asia/Bangkok day it writes four files with fixed names into ``out_dir`` — ``report.html``
(self-contained, opens offline), ``report.xlsx``, ``findings.csv`` and ``findings.json`` — from the
store, which it only reads. The data files carry the day's new, continuing and resolved findings and
the needs-review queue, and the violations an officer dismissed (each with the officer's decision);
nothing from a marketplace is ever part of a file name.

The page is the morning summary of what changed: the new and resolved violations and the decisions due
as cards (at most :data:`reports.page.CARDS_PER_SECTION` per section), the continuing violations and the
dismissed ones as compact tables, one line per listing, each linking to the listing's page in the
workspace (``[web] public_url``); the data files hold every one.
"""

from __future__ import annotations

import gc
import multiprocessing
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from config import Settings
from reports.alerts import Alert, crawl_alerts
from reports.export import encode_json, replacing, write_csv
from reports.findings import findings, iso
from reports.health import crawl_health
from reports.page import PageContext, render_page
from reports.register import register_status, standard_names
from reports.sellers import violation_days
from reports.summary import Summary, summarise
from reports.takedowns import figures, sent_cases
from reports.wording import Bands
from reports.workbook import write_workbook
from store.clock import day_bounds, local_day, utcnow
from store.db import Store

HTML_NAME = "report.html"
XLSX_NAME = "report.xlsx"
CSV_NAME = "findings.csv"
JSON_NAME = "findings.json"


@dataclass(frozen=True, slots=True)
class DailyReport:
    """The files of one day's report and what they count."""

    day: date
    out_dir: Path
    html: Path
    xlsx: Path
    csv: Path
    json: Path
    register_version: int | None
    counts: dict[str, int] = field(default_factory=dict)
    alerts: tuple[Alert, ...] = ()

    @property
    def new(self) -> int:
        return self.counts.get("new", 0)

    @property
    def continuing(self) -> int:
        return self.counts.get("continuing", 0)

    @property
    def resolved(self) -> int:
        return self.counts.get("resolved", 0)

    @property
    def needs_review(self) -> int:
        return self.counts.get("needs_review", 0)


def build_daily_report(
    store: Store,
    out_dir: Path,
    day: date | None = None,
    timezone: str = "Asia/Bangkok",
    *,
    evidence_root: Path | None = None,
    settings: Settings | None = None,
) -> DailyReport:
    """Write the report for ``day`` (default: today in ``timezone``) into ``out_dir``.

    ``evidence_root`` is the directory that relative evidence paths (WARC files, screenshots) are under —
    the data directory; links to evidence are made relative to ``out_dir`` so the folder can be copied.
    ``settings`` gives the alert thresholds (``[alerts]``; default: the built-in ones).
    """
    with collector_paused():
        summary, context = collect(
            store, out_dir, day, timezone, evidence_root=evidence_root, settings=settings
        )
        write_files(summary, context, out_dir)
    return DailyReport(
        day=context.day,
        out_dir=out_dir,
        html=out_dir / HTML_NAME,
        xlsx=out_dir / XLSX_NAME,
        csv=out_dir / CSV_NAME,
        json=out_dir / JSON_NAME,
        register_version=context.register_version,
        counts=dict(summary.counts),
        alerts=tuple(context.alerts),
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a report is built: the findings are a few million objects that
    live until the end, which every full collection would walk again; the report makes no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def collect(
    store: Store,
    out_dir: Path,
    day: date | None = None,
    timezone: str = "Asia/Bangkok",
    *,
    evidence_root: Path | None = None,
    settings: Settings | None = None,
) -> tuple[Summary, PageContext]:
    """Everything the report shows, read from the store (which it only reads)."""
    zone = ZoneInfo(timezone)
    day = day if day is not None else local_day(utcnow(), zone)
    settings = settings or Settings()
    settings = settings.model_copy(
        update={"report": settings.report.model_copy(update={"timezone": timezone})}
    )
    with store.sessions() as session:
        rows = findings(session, day, tz=zone)
        context, days = _context(session, day, zone, out_dir, evidence_root, settings)
    return summarise(rows, days, zone), context


def _context(
    session: Session, day: date, zone: ZoneInfo, out_dir: Path, evidence_root: Path | None, settings: Settings
) -> tuple[PageContext, dict[str, frozenset[date]]]:
    """What the page shows besides the findings, and each seller's days seen violating. The registers
    are those in force at the end of the day (or now, for today), with their age then."""
    _, end = day_bounds(day, zone)
    now = utcnow()
    registers = register_status(
        session, min(now, end - timedelta(microseconds=1)), settings.report.register_stale_days
    )
    version = registers[0].in_force
    match = settings.match
    context = PageContext(
        day=day,
        zone=zone,
        generated_at=now,
        register_version=version,
        health=crawl_health(session, end),
        standard_names=standard_names(session, version),
        out_dir=out_dir,
        evidence_root=evidence_root,
        alerts=crawl_alerts(session, day, settings),
        registers=registers,
        bands=Bands(match.min_category_score, match.min_category_score - match.review_band),
        takedowns=figures([c for c in sent_cases(session) if c.sent_at < end], min(now, end), zone),
        workspace=settings.web.public_url,
    )
    return context, violation_days(session, end, zone)


FILES = ("json", "csv", "xlsx", "html")
PARALLEL_ROWS = 5_000
"""From this many reported findings on, the workbook and the page are written by a child process while
the parent writes the data files (a machine has more than one core)."""

Job = tuple[Callable[..., None], tuple[Any, ...]]


def write_files(summary: Summary, context: PageContext, out_dir: Path, only: Sequence[str] = FILES) -> None:
    """Write the report's files (``only``: some of :data:`FILES`) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs: list[Job] = []
    if "xlsx" in only:
        jobs.append((write_workbook, (summary, context, out_dir / XLSX_NAME)))
    if "html" in only:
        jobs.append((write_page, (summary, context, out_dir / HTML_NAME)))
    wait = _beside(len(summary.reported) >= PARALLEL_ROWS, jobs)
    try:
        records = [finding.record() for finding in summary.reported] if {"json", "csv"} & set(only) else []
        if "json" in only:
            write_json(summary, context, records, out_dir / JSON_NAME)
        if "csv" in only:
            write_csv(records, out_dir / CSV_NAME)
    finally:
        wait()


def write_page(summary: Summary, context: PageContext, out: Path) -> None:
    """``report.html``."""
    with replacing(out, "w", encoding="utf-8") as stream:
        stream.write(render_page(summary, context))


def _nothing() -> None:
    pass


def _beside(parallel: bool, jobs: Sequence[Job]) -> Callable[[], None]:
    """Start the ``jobs`` (``(target, args)``, one after the other) in a forked child process and return a
    function that waits for it and raises their errors; run them here and now when ``parallel`` is false
    or forking is not safe (no fork on this system, or other threads running, which a fork would not
    copy)."""
    if (
        not jobs
        or not parallel
        or "fork" not in multiprocessing.get_all_start_methods()
        or threading.active_count() > 1
    ):
        for target, args in jobs:
            target(*args)
        return _nothing
    fork = multiprocessing.get_context("fork")
    receiver, sender = fork.Pipe(duplex=False)
    child = fork.Process(target=_child, args=(sender, jobs), daemon=True)
    gc.freeze()  # the findings are only read in the child: the collector must not touch (and copy) them
    try:
        child.start()
    finally:
        gc.unfreeze()
    sender.close()

    def wait() -> None:
        try:
            error = receiver.recv()
        except EOFError:  # it died without a word
            error = f"{', '.join(_name(target) for target, _ in jobs)} failed: the child process ended early"
        finally:
            receiver.close()
        child.join()
        if error is not None:
            raise RuntimeError(error)

    return wait


def _name(target: Callable[..., None]) -> str:
    return getattr(target, "__name__", "writing")


def _child(sender: Connection, jobs: Sequence[Job]) -> None:
    """Run every job, even after one has failed (each writes its own file), then send their errors."""
    failed: list[BaseException] = []
    errors: list[str] = []
    try:
        for target, args in jobs:
            try:
                target(*args)
            except Exception as exc:
                failed.append(exc)
                reason = "".join(traceback.format_exception_only(exc)).strip()
                errors.append(f"{_name(target)} failed: {reason}")
        sender.send("; ".join(errors) or None)
    finally:
        sender.close()
    if failed:
        raise failed[0]


def write_json(summary: Summary, context: PageContext, records: list[dict[str, Any]], out: Path) -> None:
    """``findings.json``: the day, its counts and alerts, and the finding records (:meth:`Finding.record`),
    written a thousand records at a time (one string of them all would be slower, and as big as the file)."""
    head = encode_json(
        {
            "date": context.day.isoformat(),
            "timezone": context.zone.key,
            "generated_at": iso(context.generated_at),
            "register_version": context.register_version,
            "registers": [status.record() for status in context.registers],
            "verdict_register_versions": {str(k): v for k, v in sorted(summary.by_register.items())},
            "counts": summary.counts,
            "alerts": [asdict(alert) for alert in context.alerts],
        }
    )
    with replacing(out, "w", encoding="utf-8") as stream:
        stream.write(head[:-1] + ', "findings": [')
        for first in range(0, len(records), 1000):
            stream.write(", " if first else "")
            stream.write(", ".join(map(encode_json, records[first : first + 1000])))
        stream.write("]}\n")
