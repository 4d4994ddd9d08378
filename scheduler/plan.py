"""The plan of a run: the jobs of the timetable, and which steps — with which sites, files, days and
folders — a run of each consists of, in order.

- ``daily``: crawl the sites (each with a budget as its daily plan says, ``crawler.budget``; the
  listings of open cases sent to ETDA first) → match → takedowns (the sent cases' status) → report (and
  the crawl-health alerts) → ETDA case file of the confirmed cases (recorded as sent);
- ``recheck``: re-check the sites' known listings → match → takedowns;
- ``register``: import each configured register file whose content changed → match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from config import Settings
from scheduler.crawlstep import CrawlStep
from scheduler.registerstep import RegisterStep
from scheduler.reportstep import ReportStep
from scheduler.steps import CasesStep, MatchStep, Step, TakedownsStep


@dataclass(frozen=True)
class JobPlan:
    """A job of the timetable: its fixed id, the ``[schedule]`` key of its cron expression, its steps."""

    id: str
    cron_key: str
    steps: tuple[str, ...]
    title: str


_PLANS = [
    JobPlan(
        "daily",
        "daily",
        ("crawl", "match", "takedowns", "report", "cases"),
        "crawl, match, takedowns, report and alerts, case file",
    ),
    JobPlan(
        "recheck", "recheck", ("crawl", "match", "takedowns"), "re-check the known listings, match, takedowns"
    ),
    JobPlan("register", "register_check", ("register", "match"), "import changed register files, match"),
]
JOBS: dict[str, JobPlan] = {plan.id: plan for plan in _PLANS}


def scheduled_sites(settings: Settings) -> list[str]:
    """The sites the scheduled crawls visit: ``schedule.sites``, else ``sites.enabled``."""
    return list(settings.schedule.sites or settings.sites.enabled)


def job_steps(job: str, settings: Settings, day: date) -> list[Step[Any]]:
    """The steps of a run of ``job`` that reports on the local ``day``, in the order of its plan. A
    crawl continues the crawls that an interrupted run of the same job left unfinished."""
    data = settings.data_dir
    if job == "daily":
        steps: list[Step[Any]] = [
            CrawlStep(scheduled_sites(settings), resume="own", planned=True),
            MatchStep(),
            TakedownsStep(),
            ReportStep(data / "reports" / day.isoformat(), day, send_alerts=True),
            CasesStep(data / "cases" / f"cases-{day.isoformat()}.zip", since=day, make_folder=True),
        ]
    elif job == "recheck":
        steps = [
            CrawlStep(scheduled_sites(settings), recheck=True, resume="own"),
            MatchStep(),
            TakedownsStep(),
        ]
    elif job == "register":
        steps = [RegisterStep(settings.schedule.register_files), MatchStep(after_import=True)]
    else:
        raise KeyError(f"no job {job!r}; the jobs are {', '.join(JOBS)}")
    assert tuple(step.name for step in steps) == JOBS[job].steps, job
    return steps
