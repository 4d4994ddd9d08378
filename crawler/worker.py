"""The crawl process: ``python -m crawler.worker`` reads a crawl job (JSON) on stdin, runs one Scrapy
crawler per site in one reactor, and writes progress events as JSON lines on stdout.

``crawler.runner.crawl`` starts it — once, or once per worker of a scaled-out crawl (each job then
names this worker, e.g. "w1", so its stats, evidence files and log files are its own). Scrapy's reactor
cannot be restarted, so every crawl gets fresh processes. The log goes to a file per run in the data
directory and, short and without expected network errors, to stderr (``crawler.runlog``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.utils.misc import load_object

from config import Settings
from crawler import progress, runlog
from crawler.profile import SiteProfile
from crawler.settings import SPIDERS, scrapy_settings


def _emitter(worker: str) -> Callable[[dict[str, Any]], None]:
    def emit(event: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps({**event, "worker": worker}, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    return emit


def run(payload: dict[str, Any]) -> None:
    settings = Settings.model_validate(payload["settings"])
    worker = str(payload.get("worker", "w0"))
    progress.SINK = _emitter(worker)
    # the log goes where crawler.runlog sends it, not to Scrapy's own handler
    process = CrawlerProcess({"LOG_INSTALL_ROOT_HANDLER": False})
    runs = [(job["run_id"], job.get("worker") or worker, job["profile"]["name"]) for job in payload["jobs"]]
    handlers = runlog.install(settings.data_dir, runs, verbose=settings.log_level == "DEBUG")
    try:
        _start(process, settings, payload)
    finally:
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()


def _start(process: CrawlerProcess, settings: Settings, payload: dict[str, Any]) -> None:
    for job in payload["jobs"]:
        profile = SiteProfile.model_validate(job["profile"])
        base = load_object(SPIDERS[profile.kind])
        # one spider class per site, carrying that site's settings (politeness, pipelines, run id)
        max_items = job.get("max_items", payload.get("max_items", 0))
        custom = scrapy_settings(settings, profile, job, payload["database_url"], max_items)
        spider_class = type(base.__name__, (base,), {"custom_settings": custom})
        process.crawl(
            spider_class,
            profile=profile,
            queries=job["queries"],
            urls=job["urls"],
            listing_ids=job.get("listing_ids") or {},
            late_urls=job.get("late_urls") or [],
            first_urls=job.get("first_urls") or [],
            planned=bool(job.get("planned")),
        )
    process.start()


if __name__ == "__main__":
    os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
    run(json.loads(sys.stdin.read()))
