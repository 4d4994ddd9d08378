"""Crawl health: per site, the latest crawl run's pages, items, errors and field coverage; a run the
site blocked says for how long and what share of its plan was left for the next run.

Run stats are read as ``core.runstats.RunStats``: missing or odd keys are tolerated (shown as unknown),
``errors`` may be a number or a mapping of error kinds to counts, and coverage is a fraction 0–1
(a run stored with percentages is read as fractions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.runstats import RunStats
from store.models import CrawlFailure, CrawlRun, Site


@dataclass(frozen=True, slots=True)
class SiteHealth:
    """The latest crawl of one site."""

    site: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    pages: int | None
    items: int | None
    errors: int | None
    failed_urls: int
    coverage: dict[str, float | None] = field(default_factory=dict)
    note: str = ""
    """What the status does not say: a blocked run's time and the share of its plan left."""


def crawl_health(session: Session, until: datetime | None = None) -> list[SiteHealth]:
    """The latest run of each site started before ``until`` (None: the latest of all), by site name."""
    rank = func.row_number().over(
        partition_by=CrawlRun.site_id, order_by=(CrawlRun.started_at.desc(), CrawlRun.id.desc())
    )
    ranked = select(CrawlRun.id, rank.label("rank"))
    if until is not None:
        ranked = ranked.where(CrawlRun.started_at < until)
    latest = ranked.subquery("latest_runs")
    failures = (
        select(CrawlFailure.run_id, func.count().label("failed"))
        .group_by(CrawlFailure.run_id)
        .subquery("failures")
    )
    query = (
        select(Site.name, CrawlRun.started_at, CrawlRun.finished_at, CrawlRun.status, CrawlRun.stats)
        .add_columns(func.coalesce(failures.c.failed, 0))
        .select_from(latest)
        .join(CrawlRun, CrawlRun.id == latest.c.id)
        .join(Site, Site.id == CrawlRun.site_id)
        .outerjoin(failures, failures.c.run_id == CrawlRun.id)
        .where(latest.c.rank == 1)
        .order_by(Site.name)
    )
    result = []
    for name, started, finished, status, stored, failed in session.execute(query):
        stats = RunStats.from_json(stored)
        result.append(
            SiteHealth(
                site=name,
                started_at=started,
                finished_at=finished,
                status=status,
                pages=stats.pages,
                items=stats.items,
                errors=stats.error_count,
                failed_urls=int(failed),
                coverage=stats.coverage,
                note=(stats.blocked_note() or "") if status == "blocked" else "",
            )
        )
    return result
