"""Sellers across sites and days: whose listings break the law, how often, since when.

A seller is grouped by name (``core.sellers.seller_key``: NFC, invisible characters dropped — the
same ones the matcher drops —, spaces collapsed, casefolded), across sites. Its history runs up to the end of the report's day: the listings ever found
violating (each finding's ``first_violation``), and the local days on which the seller was seen
violating (:func:`violation_days`: one row per seller and day, so its size does not grow with the
number of listings). A *repeat offender* has more than one violating listing (on one site or several)
or was seen violating on more than one day; repeat offenders come first, then the most open
violations, the most resolved today, the most violating listings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from core.sellers import seller_key, seller_name
from core.verdicts import VIOLATIONS
from reports.findings import Finding, chosen_verdict
from store.clock import local_day, utcnow
from store.models import Listing, Observation, Verdict

CHUNK = 900
"""Listing ids per ``IN (...)``."""
OPEN_KEYS = 50
"""At most this many open listings are named per seller (the counts are always whole)."""


@dataclass(frozen=True, slots=True)
class SellerRow:
    """One seller with its violations: open today, resolved today, and over all days."""

    name: str
    sites: tuple[str, ...]
    open: int
    new: int
    resolved: int
    listings: int
    days: int
    first_violation: datetime | None
    standards: tuple[str, ...]
    open_keys: tuple[str, ...] = ()

    @property
    def repeat(self) -> bool:
        """More than one violating listing (on any sites), or violations seen on more than one day."""
        return self.listings > 1 or self.days > 1


def violation_days(
    session: Session, cutoff: datetime | None, zone: ZoneInfo, listing_ids: Sequence[int] | None = None
) -> dict[str, frozenset[date]]:
    """Per seller (``seller_key``), the local days before ``cutoff`` with a violating observation of
    one of its listings (the seller as that observation names it, else as the listing does); only of
    ``listing_ids`` when given (one seller's page)."""
    if listing_ids is not None and len(listing_ids) > CHUNK:
        merged: dict[str, frozenset[date]] = {}
        for start in range(0, len(listing_ids), CHUNK):
            for key, found in violation_days(
                session, cutoff, zone, listing_ids[start : start + CHUNK]
            ).items():
                merged[key] = merged.get(key, frozenset()) | found
        return merged
    seen = (
        select(
            func.coalesce(Observation.seller_name, Listing.seller_name).label("seller"),
            Observation.observed_at.label("at"),
            chosen_verdict(Verdict.verdict).label("verdict"),
        )
        .join(Listing, Listing.id == Observation.listing_id)
        .where(Observation.gone.is_(False))
    )
    if cutoff is not None:
        seen = seen.where(Observation.observed_at < cutoff)
    if listing_ids is not None:
        seen = seen.where(Observation.listing_id.in_(listing_ids))
    sightings = seen.subquery("sightings")
    dialect = session.get_bind().dialect.name
    dated = (
        select(sightings.c.seller, _local_date(sightings.c.at, zone, dialect, cutoff))
        .where(sightings.c.verdict.in_(VIOLATIONS), sightings.c.seller.is_not(None))
        .subquery("dated")
    )
    days: dict[str, set[date]] = {}
    for seller, day in session.execute(select(dated.c.seller, dated.c.day).distinct()):
        key = seller_key(seller)
        if key:
            days.setdefault(key, set()).add(
                day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
            )
    return {key: frozenset(value) for key, value in days.items()}


def _local_date(column: Any, zone: ZoneInfo, dialect: str, cutoff: datetime | None) -> Any:
    """The local calendar day of a UTC timestamp column, in SQL."""
    if dialect == "postgresql":
        return func.date(func.timezone(literal_column(f"'{zone.key}'"), column)).label("day")
    offset = (cutoff or utcnow()).astimezone(zone).utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    return func.date(column, literal_column(f"'{seconds:+d} seconds'")).label("day")


def group_sellers(
    findings: Sequence[Finding],
    days: Mapping[str, frozenset[date]] | None = None,
    zone: ZoneInfo | None = None,
) -> list[SellerRow]:
    """Every seller with a violation up to the report's day, repeat offenders first.

    ``days``: each seller's days seen violating (:func:`violation_days`); without it, the days on which
    its findings were observed.
    """
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        if (finding.status is not None or finding.first_violation is not None) and finding.seller:
            key = seller_key(finding.seller)
            if key:
                groups.setdefault(key, []).append(finding)
    rows = [_row(members, None if days is None else days.get(key), zone) for key, members in groups.items()]
    rows.sort(
        key=lambda row: (
            not row.repeat,
            -row.open,
            -row.resolved,
            -row.listings,
            -len(row.sites),
            -row.days,
            seller_key(row.name),
        )
    )
    return rows


def _row(members: Sequence[Finding], days: frozenset[date] | None, zone: ZoneInfo | None) -> SellerRow:
    names = Counter(seller_name(finding.seller or "") for finding in members)
    opened = [f for f in members if f.status in ("new", "continuing") and not f.dismissed]
    if days is None:
        days = frozenset(local_day(f.observed_at, zone) if zone else f.observed_at.date() for f in members)
    return SellerRow(
        name=min(names, key=lambda name: (-names[name], name)),
        sites=tuple(sorted({finding.site for finding in members})),
        open=len(opened),
        new=sum(finding.status == "new" and not finding.dismissed for finding in members),
        resolved=sum(finding.status == "resolved" for finding in members),
        listings=len(members),
        days=len(days),
        first_violation=min((f.first_violation or f.first_seen for f in members), default=None),
        standards=tuple(sorted({finding.tis_number for finding in members if finding.tis_number})),
        open_keys=tuple(finding.listing_key for finding in opened[:OPEN_KEYS]),
    )
