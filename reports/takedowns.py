"""Time to takedown: what became of the cases sent to ETDA, per site, and the list of sent cases.

Read by the workspace (``web/takedowns.py``, ``GET /takedowns``), the daily report (its takedown
section) and ``tisiwatch takedowns``; the statuses are kept by ``store.takedowns``.

- **median days**: over the cases taken down, the median of (found gone − sent), in days;
- **within 2 working days**: the share of cases taken down by the end of the second working day after
  the local day they were sent. Working days are Monday to Friday in the report's time zone
  (Asia/Bangkok); **public holidays are not counted as days off** (a case sent before Songkran is held
  to the same two days). A case still open whose two working days have not yet passed is not counted
  either way; the share is of the cases taken down or past their two days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.decisions import STILL_ONLINE, TAKEN_DOWN
from store.clock import BANGKOK, as_utc, utcnow
from store.models import CaseSend, Listing, Site

WORKING_DAYS = 2
"""The takedown figure's window: taken down within this many working days of being sent."""


@dataclass(frozen=True, slots=True)
class SentCase:
    """One case sent to ETDA, as the takedown page lists it."""

    case_id: str
    listing_key: str
    site: str
    title: str
    export_name: str
    sent_at: datetime
    status: str
    status_at: datetime | None

    @property
    def days(self) -> float | None:
        """Days from sent to taken down (None while not taken down)."""
        if self.status != TAKEN_DOWN or self.status_at is None:
            return None
        return (self.status_at - self.sent_at).total_seconds() / 86400


@dataclass(frozen=True, slots=True)
class SiteTakedowns:
    """One site's cases sent to ETDA and how fast their listings came down."""

    site: str
    sent: int
    """Every case sent (whatever became of it)."""
    taken_down: int
    still_online: int
    median_days: float | None
    within: int
    """Taken down within :data:`WORKING_DAYS` working days."""
    judged: int
    """Cases taken down, or whose working days have passed: what ``within`` is a share of."""

    @property
    def open(self) -> int:
        return self.sent - self.taken_down

    @property
    def within_share(self) -> float | None:
        return self.within / self.judged if self.judged else None


def working_deadline(sent_at: datetime, days: int = WORKING_DAYS, tz: ZoneInfo = BANGKOK) -> datetime:
    """The end (UTC) of the ``days``-th working day (Mon–Fri; public holidays not counted) after the
    local day of ``sent_at``."""
    day: date = as_utc(sent_at).astimezone(tz).date()
    left = days
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)


def within_working_days(sent: SentCase, now: datetime, tz: ZoneInfo = BANGKOK) -> bool | None:
    """Whether the case was taken down within its working days; None while that is not yet known."""
    deadline = working_deadline(sent.sent_at, WORKING_DAYS, tz)
    if sent.status == TAKEN_DOWN and sent.status_at is not None:
        return sent.status_at < deadline
    return False if as_utc(now) >= deadline else None


def sent_cases(session: Session, site: str | None = None, limit: int | None = None) -> list[SentCase]:
    """The cases sent to ETDA, the latest sent first (of one site, if given)."""
    query = (
        select(
            CaseSend.case_id, Listing.listing_key, Site.name, Listing.title, CaseSend.export_name,
            CaseSend.sent_at, CaseSend.status, CaseSend.status_at,
        )
        .join(Listing, Listing.id == CaseSend.listing_id)
        .join(Site, Site.id == Listing.site_id)
        .order_by(CaseSend.sent_at.desc(), CaseSend.id.desc())
    )  # fmt: skip
    if site is not None:
        query = query.where(Site.name == site)
    if limit is not None:
        query = query.limit(limit)
    return [
        SentCase(case, key, name, title, export, as_utc(sent), status, as_utc(at) if at else None)
        for case, key, name, title, export, sent, status, at in session.execute(query)
    ]


def figures(
    cases: Sequence[SentCase], now: datetime | None = None, tz: ZoneInfo | str = BANGKOK
) -> list[SiteTakedowns]:
    """Per site (by name), the time-to-takedown figures of ``cases``."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    moment = now or utcnow()
    by_site: dict[str, list[SentCase]] = {}
    for case in cases:
        by_site.setdefault(case.site, []).append(case)
    result = []
    for site, sent in sorted(by_site.items()):
        days = [d for case in sent if (d := case.days) is not None]
        judged = [w for case in sent if (w := within_working_days(case, moment, zone)) is not None]
        result.append(
            SiteTakedowns(
                site=site,
                sent=len(sent),
                taken_down=sum(case.status == TAKEN_DOWN for case in sent),
                still_online=sum(case.status == STILL_ONLINE for case in sent),
                median_days=median(days) if days else None,
                within=sum(judged),
                judged=len(judged),
            )
        )
    return result


def site_takedowns(
    session: Session, now: datetime | None = None, tz: ZoneInfo | str = BANGKOK
) -> list[SiteTakedowns]:
    """Per site, the time to takedown of every case sent to ETDA."""
    return figures(sent_cases(session), now, tz)
