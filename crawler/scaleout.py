"""Several crawl worker processes for one run: their names and settings, starting them, relaying
their progress, and closing the run once all have ended.

``crawl(..., workers=N)`` starts N ``python -m crawler.worker`` processes, each given every site's
job. With ``crawl.redis_url`` set they share one frontier per run (``crawler.frontier``) and write
to the one database. A worker writes only its own stats entry (``crawler.tally``). With one worker,
the worker closes the run itself, as it always did; with several, the parent closes it when all
have exited, summing their entries (:func:`settle_run`). A run whose worker ended without final
stats (it was killed) is left ``interrupted``, to be resumed (``crawler.resume``).
"""

from __future__ import annotations

import json
import logging
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from sqlalchemy.orm import Session

from config import Settings
from crawler.frontier import RunKeys, frontier_settings
from crawler.outcome import judged
from crawler.profile import SiteProfile
from crawler.tally import RESUMABLE_STATUSES, closing_stats, status_after
from store.models import CrawlRun
from store.writer import finish_run

log = logging.getLogger(__name__)
Progress = Callable[[dict[str, Any]], None]


def worker_name(index: int, resumes: int = 0) -> str:
    """A worker's name, unique within its run: "w0", "w1"…; the workers of a resumption "w0-r1"…"""
    return f"w{index}-r{resumes}" if resumes else f"w{index}"


def worker_settings(settings: Settings, profile: SiteProfile, job: Mapping[str, Any]) -> dict[str, Any]:
    """The Scrapy settings layer of one worker of a run: its name (evidence files and stats entries
    are per worker), whether it closes the run, the shared frontier when ``crawl.redis_url`` is set,
    and the resume guard on a resumed run.

    A site's politeness is a budget for the whole run, however many workers share it: each of N
    workers gets 1/N of the site's concurrency (at least one request) and N times its delay.
    """
    layer: dict[str, Any] = {
        "TISIWATCH_WORKER": job.get("worker") or "w0",
        "TISIWATCH_CLOSES_RUN": bool(job.get("closes_run", True)),
    }
    workers = int(job.get("workers", 1))
    if workers > 1:
        per_site = min(settings.crawl.concurrency_per_domain, profile.politeness.concurrency)
        share = max(1, per_site // workers)
        layer["CONCURRENT_REQUESTS_PER_DOMAIN"] = share
        layer["AUTOTHROTTLE_TARGET_CONCURRENCY"] = float(share)
        layer["DOWNLOAD_DELAY"] = max(settings.crawl.delay_s, profile.politeness.delay_s) * workers
    if job.get("resume"):
        layer["SPIDER_MIDDLEWARES"] = {"crawler.resume.ResumeGuardMiddleware": 840}
    if settings.crawl.redis_url:
        keys = RunKeys(settings.crawl.redis_prefix, int(job["run_id"]))
        layer.update(frontier_settings(settings.crawl.redis_url, keys, settings.crawl.worker_idle_timeout_s))
    return layer


class ProgressRelay:
    """Sums the progress events of a run's workers per site, for the parent's one progress display."""

    def __init__(self, workers: int, sink: Progress) -> None:
        self.workers = workers
        self.sink = sink
        self.latest: dict[str, dict[int, dict[str, Any]]] = {}

    def __call__(self, worker: int, event: dict[str, Any]) -> None:
        if "site" not in event:
            return
        by_worker = self.latest.setdefault(str(event["site"]), {})
        by_worker[worker] = event
        summed: dict[str, Any] = {
            key: sum(int(e.get(key) or 0) for e in by_worker.values()) for key in ("pages", "items", "errors")
        }
        done = len(by_worker) == self.workers and all(e.get("done") for e in by_worker.values())
        self.sink({"site": event["site"], **summed, "done": done, "workers": len(by_worker)})


def run_workers(
    payloads: Sequence[dict[str, Any]],
    on_progress: Progress | None,
    on_exit: Callable[[int, int], None] | None = None,
) -> list[int]:
    """Start one ``python -m crawler.worker`` per payload (the job on stdin), relay the progress
    events they write on stdout, and wait for all; returns their exit codes. ``on_exit(index,
    code)`` is called as each one ends (while the others may still run)."""
    events: queue.Queue[tuple[int, dict[str, Any] | None]] = queue.Queue()
    relay = ProgressRelay(len(payloads), on_progress) if on_progress is not None else None
    processes = []
    try:
        for index, payload in enumerate(payloads):
            process = subprocess.Popen(
                [sys.executable, "-m", "crawler.worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8",
            )  # fmt: skip
            processes.append(process)
            assert process.stdin is not None
            process.stdin.write(json.dumps(payload))
            process.stdin.close()
            threading.Thread(target=_read_events, args=(index, process.stdout, events), daemon=True).start()
        running = len(processes)
        while running:
            index, event = events.get()
            if event is None:
                running -= 1
                if on_exit is not None:
                    on_exit(index, processes[index].wait())
            elif relay is not None:
                relay(index, event)
    finally:
        codes = [process.wait() for process in processes]
        for process in processes:
            if process.stdout is not None:
                process.stdout.close()
    for payload, code in zip(payloads, codes, strict=True):
        if code:
            log.error("crawl worker %s exited with code %s", payload.get("worker", "?"), code)
    return codes


def _read_events(index: int, stream: IO[str] | None, events: queue.Queue[Any]) -> None:
    try:
        for line in stream or ():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                events.put((index, event))
    finally:
        events.put((index, None))


def settle_run(session: Session, run_id: int, workers: Sequence[str]) -> str:
    """Close a run its workers left open and return its status: the workers' entries are summed
    into the run's stats; ``finished`` if every worker ended well (unless nothing came back:
    ``crawler.outcome.judged``), ``failed`` if one ended on an error, ``interrupted`` (resumable)
    if one was stopped or never wrote its final stats (killed), ``blocked`` (resumable) if the site
    stopped one by blocking it."""
    run = session.get_one(CrawlRun, run_id)
    if run.status != "running":  # its only worker closed it
        return run.status
    stats = dict(run.stats or {})
    entries = stats.get("workers") or {}
    died = [name for name in workers if not (entries.get(name) or {}).get("final")]
    reasons = sorted({str(entries[name]["finish_reason"]) for name in workers if name not in died})
    statuses = {status_after(reason) for reason in reasons} | ({"interrupted"} if died else set())
    status = next((s for s in ("failed", "interrupted", "blocked") if s in statuses), "finished")
    reason = "killed" if died and not reasons else ", ".join(reasons + (["killed"] if died else []))
    closing = closing_stats(stats, reason, resumable=status in RESUMABLE_STATUSES)
    if died:
        closing["error"] = f"crawl process of {', '.join(died)} ended abnormally"
    status, closing = judged(status, closing)
    finish_run(session, run_id, status, closing)
    return status
