"""Crawl-health alerts: a site that stored nothing, lost field coverage, or hit a spike of errors.

:func:`crawl_alerts` looks at each site's latest crawl run (not still running) started on a local day
(``report.timezone``, Asia/Bangkok) and compares it with the site's runs of the 7 days before it:

- ``no_items``: the run stored zero items;
- ``coverage_drop``: a field's coverage (title, price, seller, licence text) is below the median of those
  runs by more than ``alerts.coverage_drop_share`` of that median;
- ``blocked``: the site blocked the crawl (status ``blocked``): for how long, and what share of the
  run's plan was left for the next run;
- ``error_spike``: its error rate — download errors and finally failed URLs per fetch attempt — is more
  than ``alerts.error_spike_factor`` times their median, and above ``alerts.min_error_rate``.

Without earlier runs there is no median, and only ``no_items`` can fire. :func:`send_alerts` logs one
WARNING line per alert and, when configured (off by default), POSTs them as JSON to a webhook and sends
them by e-mail; a failure to deliver is logged, never raised. The daily report shows the day's alerts
in its crawl-health section.
"""

from __future__ import annotations

import json
import logging
import smtplib
import statistics
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from core.runstats import COVERAGE_FIELDS, RunStats
from store.clock import as_utc, day_bounds
from store.models import CrawlRun, Site

log = logging.getLogger("tisiwatch.alerts")

KINDS = ("no_items", "coverage_drop", "error_spike", "blocked")
WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Alert:
    """Something wrong with a site's crawl; ``kind`` is one of :data:`KINDS`."""

    site: str
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class _Run:
    started_at: datetime
    items: int
    coverage: dict[str, float | None]
    error_rate: float | None
    blocked: str | None = None
    """A blocked run in words (``RunStats.blocked_note``), None otherwise."""


def crawl_alerts(session: Session, day: date, settings: Settings) -> list[Alert]:
    """The alerts for the latest crawl of each site on ``day`` (a local day), by site name."""
    zone = ZoneInfo(settings.report.timezone)
    start, end = day_bounds(day, zone)
    query = (
        select(Site.name, CrawlRun.started_at, CrawlRun.stats, CrawlRun.status)
        .join(Site, Site.id == CrawlRun.site_id)
        .where(CrawlRun.started_at >= start - WINDOW, CrawlRun.started_at < end, CrawlRun.status != "running")
        .order_by(Site.name, CrawlRun.started_at, CrawlRun.id)
    )
    runs: dict[str, list[_Run]] = {}
    for site, started, stats, status in session.execute(query):
        runs.setdefault(site, []).append(_read(as_utc(started), stats, status))
    alerts: list[Alert] = []
    for site, history in runs.items():
        latest = history[-1]
        if latest.started_at < start:
            continue  # no crawl of this site on the day
        earlier = [run for run in history[:-1] if run.started_at >= latest.started_at - WINDOW]
        alerts += _judge(site, latest, earlier, settings)
    return alerts


def _judge(site: str, latest: _Run, earlier: Sequence[_Run], settings: Settings) -> list[Alert]:
    config = settings.alerts
    alerts = []
    if latest.blocked is not None:
        alerts.append(Alert(site, "blocked", f"{site}: the site blocked the crawl: {latest.blocked}"))
    if latest.items == 0:
        alerts.append(Alert(site, "no_items", f"{site}: the latest crawl stored no items"))
    for name in COVERAGE_FIELDS:
        now = latest.coverage.get(name)
        past = [value for run in earlier if (value := run.coverage.get(name)) is not None]
        if now is None or not past or latest.items == 0:
            continue
        median = statistics.median(past)
        if median > 0 and (median - now) > config.coverage_drop_share * median:
            alerts.append(
                Alert(
                    site,
                    "coverage_drop",
                    f"{site}: {name.replace('_', ' ')} coverage {now:.0%}, "
                    f"7-day median {median:.0%} (drop of {(median - now) / median:.0%})",
                )
            )
    rates = [run.error_rate for run in earlier if run.error_rate is not None]
    rate = latest.error_rate
    if rate is not None and rates and rate > config.min_error_rate:
        median = statistics.median(rates)
        if rate > config.error_spike_factor * median:
            alerts.append(
                Alert(
                    site,
                    "error_spike",
                    f"{site}: error rate {rate:.1%} of fetches, 7-day median {median:.1%}",
                )
            )
    return alerts


def _read(started: datetime, stats: Any, status: str = "") -> _Run:
    """What an alert needs from a run's stats, tolerating missing or odd values."""
    run = RunStats.from_json(stats)
    blocked = (run.blocked_note() or "blocked") if status == "blocked" else None
    errors = run.error_count or 0
    attempts = (run.pages or 0) + errors
    rate = None if attempts == 0 else min(1.0, (errors + (run.failed_urls or 0)) / attempts)
    return _Run(
        started_at=started, items=run.items or 0, coverage=run.coverage, error_rate=rate, blocked=blocked
    )


def send_alerts(alerts: Sequence[Alert], settings: Settings) -> None:
    """Log each alert as a WARNING; POST them to the webhook and e-mail them, where configured."""
    for alert in alerts:
        log.warning("crawl alert %s: %s", alert.kind, alert.message)
    if not alerts:
        return
    config = settings.alerts
    if config.webhook_url:
        _post(alerts, config.webhook_url, config.timeout_s)
    if config.smtp_host:
        _mail(alerts, settings)


def _post(alerts: Sequence[Alert], url: str, timeout: float) -> None:
    body = json.dumps(
        {"source": "tisiwatch", "alerts": [asdict(alert) for alert in alerts]}, ensure_ascii=False
    )
    request = urllib.request.Request(
        url,
        data=body.encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "tisiwatch alerts"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(1024)
    except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors; timeouts too
        log.error("crawl alerts: webhook POST failed: %s", exc)


def _mail(alerts: Sequence[Alert], settings: Settings) -> None:
    config = settings.alerts
    message = EmailMessage()
    message["Subject"] = f"tisiwatch: {len(alerts)} crawl alert{'s' if len(alerts) != 1 else ''}"
    message["From"] = config.mail_from
    message["To"] = ", ".join(config.mail_to)
    message.set_content("\n".join(f"[{alert.kind}] {alert.message}" for alert in alerts) + "\n")
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout_s) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("crawl alerts: e-mail through %s:%s failed: %s", config.smtp_host, config.smtp_port, exc)
