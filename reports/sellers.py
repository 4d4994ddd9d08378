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
from reports.findings import Finding, chosen_verdict, findings
from store.clock import as_utc, local_day, utcnow
from store.decisions import CHUNK, latest_live_observations, standing_decisions
from store.models import Listing, Observation, Site, Verdict

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


def violation_days(session: Session, cutoff: datetime | None, zone: ZoneInfo) -> dict[str, frozenset[date]]:
    """Per seller (``seller_key``), the local days before ``cutoff`` with a violating observation of
    one of its listings (the seller as that observation names it, else as the listing does)."""
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
    opened = [finding for finding in members if finding.status in ("new", "continuing")]
    if days is None:
        days = frozenset(local_day(f.observed_at, zone) if zone else f.observed_at.date() for f in members)
    return SellerRow(
        name=min(names, key=lambda name: (-names[name], name)),
        sites=tuple(sorted({finding.site for finding in members})),
        open=len(opened),
        new=sum(finding.status == "new" for finding in members),
        resolved=sum(finding.status == "resolved" for finding in members),
        listings=len(members),
        days=len(days),
        first_violation=min((f.first_violation or f.first_seen for f in members), default=None),
        standards=tuple(sorted({finding.tis_number for finding in members if finding.tis_number})),
        open_keys=tuple(finding.listing_key for finding in opened[:OPEN_KEYS]),
    )


# The workspace's seller pages (``/sellers``, ``/seller?key=``): every seller, not only today's.


@dataclass(frozen=True, slots=True)
class SellerListing:
    """One listing of a seller: its latest live observation's verdict and the officers' standing."""

    listing_id: int
    key: str
    site: str
    title: str
    seller: str | None
    verdict: str | None
    tis_number: str | None
    observed_at: datetime | None
    first_seen: datetime
    last_seen: datetime
    gone: bool
    first_violation: datetime | None
    decision: str | None = None
    decision_holds: bool = True

    @property
    def violated(self) -> bool:
        return self.first_violation is not None


@dataclass(frozen=True, slots=True)
class SellerSummary:
    """One seller across sites and days, for the workspace's sellers table."""

    key: str
    name: str
    sites: tuple[str, ...]
    listings: int
    violating: int
    """Listings ever seen violating."""
    open: int
    days: int
    """Local days on which the seller was seen violating."""
    decisions: Mapping[str, int]
    """Standing decisions on its listings, by decision."""

    @property
    def repeat(self) -> bool:
        return self.violating > 1 or self.days > 1


@dataclass(frozen=True, slots=True)
class SellerPage:
    """One seller: the names it went by, its sites, listings and the days it was seen violating."""

    key: str
    names: tuple[str, ...]
    sites: tuple[str, ...]
    listings: tuple[SellerListing, ...]
    days: tuple[date, ...]


def seller_listing_ids(session: Session, key: str) -> list[int]:
    """The listings whose seller (as the listing or any observation names it) has the key ``key``."""
    named = select(Listing.id, Listing.seller_name).where(Listing.seller_name.is_not(None))
    seen = select(Observation.listing_id, Observation.seller_name).where(Observation.seller_name.is_not(None))
    ids = {listing_id for listing_id, name in session.execute(named.union(seen)) if seller_key(name) == key}
    return sorted(ids)


def seller_listings(session: Session, key: str, limit: int | None = None) -> list[SellerListing]:
    """The listings of the seller keyed ``key`` (``core.sellers.seller_key``), violating ones first."""
    ids = seller_listing_ids(session, key) if key else []
    latest = latest_live_observations(session, ids)
    shown: dict[int, tuple[Any, ...]] = {}
    firsts: dict[int, datetime] = {}
    listings: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        observed = [latest[i] for i in chunk if i in latest]
        query = select(
            Observation.listing_id, Observation.observed_at, Observation.title, Observation.seller_name,
            chosen_verdict(Verdict.verdict), chosen_verdict(Verdict.tis_number),
        ).where(Observation.id.in_(observed))  # fmt: skip
        shown.update({row[0]: tuple(row[1:]) for row in session.execute(query)})
        sightings = (
            select(Observation.listing_id, Observation.observed_at.label("at"),
                   chosen_verdict(Verdict.verdict).label("verdict"))
            .where(Observation.listing_id.in_(chunk), Observation.gone.is_(False))
            .subquery("sightings")
        )  # fmt: skip
        violating = (
            select(sightings.c.listing_id, func.min(sightings.c.at))
            .where(sightings.c.verdict.in_(VIOLATIONS))
            .group_by(sightings.c.listing_id)
        )
        firsts.update({listing_id: as_utc(at) for listing_id, at in session.execute(violating)})
        listings.extend(
            session.execute(
                select(Listing.id, Listing.listing_key, Site.name, Listing.title, Listing.seller_name,
                       Listing.first_seen, Listing.last_seen, Listing.gone_at)
                .join(Site, Site.id == Listing.site_id)
                .where(Listing.id.in_(chunk))
            )
        )  # fmt: skip
    standing = standing_decisions(session, ids)
    rows = []
    for listing_id, listing_key, site, title, seller, first_seen, last_seen, gone_at in listings:
        observed_at, seen_title, seen_seller, verdict, tis_number = shown.get(listing_id, (None,) * 5)
        decided = standing.get(listing_id)
        rows.append(
            SellerListing(
                listing_id=listing_id, key=listing_key, site=site, title=seen_title or title or "",
                seller=seen_seller or seller, verdict=verdict, tis_number=tis_number,
                observed_at=observed_at, first_seen=first_seen, last_seen=last_seen,
                gone=gone_at is not None or listing_id not in latest,
                first_violation=firsts.get(listing_id),
                decision=decided.decision if decided else None,
                decision_holds=decided.holds if decided else True,
            )
        )  # fmt: skip
    rows.sort(key=lambda row: (not row.violated, row.gone, -row.last_seen.timestamp(), row.key))
    return rows if limit is None else rows[:limit]


def seller_page(session: Session, key: str, zone: ZoneInfo) -> SellerPage | None:
    """The seller keyed ``key`` across sites and days; None when no listing has that seller."""
    listings = seller_listings(session, key)
    if not listings:
        return None
    names = Counter(seller_name(row.seller) for row in listings if row.seller)
    return SellerPage(
        key=key,
        names=tuple(sorted(names, key=lambda name: (-names[name], name))),
        sites=tuple(sorted({row.site for row in listings})),
        listings=tuple(listings),
        days=tuple(sorted(violation_days(session, None, zone).get(key, frozenset()), reverse=True)),
    )


def seller_table(session: Session, zone: ZoneInfo) -> list[SellerSummary]:
    """Every seller with a listing, across sites and days: the most violating listings first, then
    the most days seen violating, then the most open violations."""
    days = violation_days(session, None, zone)
    ids: dict[str, int] = {key: listing_id for key, listing_id in session.execute(select(Listing.listing_key, Listing.id))}
    standing = standing_decisions(session)
    groups: dict[str, list[Finding]] = {}
    for finding in findings(session, tz=zone):
        key = seller_key(finding.seller) if finding.seller else ""
        if key:
            groups.setdefault(key, []).append(finding)
    rows = []
    for key, members in groups.items():
        names = Counter(seller_name(finding.seller or "") for finding in members)
        decided = Counter(
            standing[ids[f.listing_key]].decision for f in members if ids.get(f.listing_key) in standing
        )
        rows.append(
            SellerSummary(
                key=key,
                name=min(names, key=lambda name: (-names[name], name)),
                sites=tuple(sorted({finding.site for finding in members})),
                listings=len(members),
                violating=sum(finding.first_violation is not None for finding in members),
                open=sum(finding.status in ("new", "continuing") for finding in members),
                days=len(days.get(key, ())),
                decisions=dict(decided),
            )
        )
    rows.sort(key=lambda row: (-row.violating, -row.days, -row.open, -row.listings, row.key))
    return rows
