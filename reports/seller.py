"""Sellers in the workspace (``/sellers``, ``/seller?key=``): every seller with a listing, across sites
and days — not only those the daily report names — and one seller's listings with their verdicts and
the officers' standing decisions. A seller is keyed as the daily report groups it
(``core.sellers.seller_key`` of its name; see ``reports.listing``); its days seen violating are
``reports.sellers.violation_days``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from core.sellers import seller_key, seller_name
from core.verdicts import VIOLATIONS
from reports.findings import chosen_verdict
from reports.sellers import violation_days
from store.clock import as_utc
from store.decisions import CHUNK, latest_live_observations, standing_decisions
from store.models import Listing, Observation, Site, Verdict


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
    days = violation_days(session, None, zone, [row.listing_id for row in listings])
    return SellerPage(
        key=key,
        names=tuple(sorted(names, key=lambda name: (-names[name], name))),
        sites=tuple(sorted({row.site for row in listings})),
        listings=tuple(listings),
        days=tuple(sorted(days.get(key, frozenset()), reverse=True)),
    )


def listing_states(session: Session) -> list[tuple[int, str, str | None, bool, bool]]:
    """Per listing, in one aggregate query: id, site, seller (as its latest live observation names it,
    else as the listing does), whether it was ever seen violating, whether its latest live observation
    violates and it is not gone."""
    sightings = select(
        Observation.listing_id,
        Observation.id,
        Observation.gone,
        chosen_verdict(Verdict.verdict).label("verdict"),
    ).subquery("sightings")
    live = sightings.c.gone.is_(False)
    per_listing = (
        select(
            sightings.c.listing_id,
            func.max(case((live, sightings.c.id))).label("live"),
            func.max(case((and_(live, sightings.c.verdict.in_(VIOLATIONS)), 1), else_=0)).label("violated"),
        )
        .group_by(sightings.c.listing_id)
        .subquery("per_listing")
    )
    query = (
        select(
            Listing.id, Site.name, func.coalesce(Observation.seller_name, Listing.seller_name),
            per_listing.c.violated, chosen_verdict(Verdict.verdict), Listing.gone_at,
        )
        .join(Site, Site.id == Listing.site_id)
        .join(per_listing, per_listing.c.listing_id == Listing.id)
        .outerjoin(Observation, Observation.id == per_listing.c.live)
    )  # fmt: skip
    return [
        (listing_id, site, seller, bool(violated), verdict in VIOLATIONS and gone_at is None)
        for listing_id, site, seller, violated, verdict, gone_at in session.execute(query)
    ]


def seller_table(session: Session, zone: ZoneInfo) -> list[SellerSummary]:
    """Every seller with a listing, across sites and days: the most violating listings first, then
    the most days seen violating, then the most open violations."""
    days = violation_days(session, None, zone)
    standing = standing_decisions(session)
    groups: dict[str, list[tuple[int, str, str | None, bool, bool]]] = {}
    for state in listing_states(session):
        key = seller_key(state[2]) if state[2] else ""
        if key:
            groups.setdefault(key, []).append(state)
    rows = []
    for key, members in groups.items():
        names = Counter(seller_name(seller or "") for _, _, seller, _, _ in members)
        decided = Counter(standing[member[0]].decision for member in members if member[0] in standing)
        rows.append(
            SellerSummary(
                key=key,
                name=min(names, key=lambda name: (-names[name], name)),
                sites=tuple(sorted({site for _, site, _, _, _ in members})),
                listings=len(members),
                violating=sum(violated for _, _, _, violated, _ in members),
                open=sum(opened for _, _, _, _, opened in members),
                days=len(days.get(key, ())),
                decisions=dict(decided),
            )
        )
    rows.sort(key=lambda row: (-row.violating, -row.days, -row.open, -row.listings, row.key))
    return rows
