"""Crawl health: per site, the latest crawl run's pages, items, errors and field coverage.

Run stats are whatever the crawler recorded; missing or odd keys are tolerated (shown as unknown).
``errors`` may be a number or a mapping of error kinds to counts; coverage values are fractions 0–1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import CrawlFailure, CrawlRun, Site

COVERAGE_FIELDS = ("title", "price", "seller", "licence_text")


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
    for name, started, finished, status, stats, failed in session.execute(query):
        stats = stats if isinstance(stats, Mapping) else {}
        coverage = stats.get("coverage")
        coverage = coverage if isinstance(coverage, Mapping) else {}
        result.append(
            SiteHealth(
                site=name,
                started_at=started,
                finished_at=finished,
                status=status,
                pages=_count(stats.get("pages")),
                items=_count(stats.get("items")),
                errors=_count(stats.get("errors")),
                failed_urls=int(failed),
                coverage={key: coverage_fraction(coverage.get(key)) for key in COVERAGE_FIELDS},
            )
        )
    return result


def _count(value: Any) -> int | None:
    """A count from a number, or the sum of a mapping's numbers (errors by kind)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, Mapping):
        return sum(int(v) for v in value.values() if isinstance(v, int | float) and not isinstance(v, bool))
    return None


def coverage_fraction(value: Any) -> float | None:
    """A coverage fraction 0–1 (a percentage above 1 is scaled down)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    fraction = float(value) / 100 if value > 1 else float(value)
    return fraction if 0 <= fraction <= 1 else None
