"""One listing's history for the officers' workspace (read-only): every observation over time, what
changed from the one before, the verdict of each (under the highest register version) and its reasons,
the licence register's entry for the licence shown, the seller's other listings, the officers'
decisions, and where the evidence of each observation is kept.

The seller key
--------------
A seller is keyed, across sites and days, by its name as ``core.sellers.seller_key`` makes it
canonical: NFC, invisible characters (zero-width spaces, direction marks, soft hyphens) dropped,
spaces collapsed, casefolded. ``ร้านดี`` on two marketplaces, or written ``ร้านดี\u200b `` one day, is one
seller — the grouping the daily report's sellers table uses (``reports.sellers``). The workspace page
of a seller is ``/seller?key=<seller key>`` (URL-encoded). A listing without a seller name has no key
and no seller page; the marketplace's seller id is shown beside the name but does not group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.sellers import seller_key
from reports.register import LicenceEntry, licence_entry
from reports.replay import ImageEvidence, image_evidence
from reports.seller import SellerListing, seller_listings
from store.decisions import Standing, standing_decisions
from store.models import Decision, DecisionCheck, Listing, Observation, Site, Verdict

CHANGE_FIELDS = ("title", "description", "price", "seller", "spec", "images", "licence", "gone")
"""What :func:`listing_history` compares between an observation and the one before it."""


@dataclass(frozen=True, slots=True)
class Seen:
    """One observation of the listing with its verdict, what changed and its evidence references."""

    id: int
    observed_at: datetime
    url: str
    http_status: int | None
    gone: bool
    title: str
    description: str
    price: Decimal | None
    currency: str | None
    seller: str | None
    seller_id: str | None
    spec: Mapping[str, Any]
    images: Sequence[Any]
    changed: tuple[str, ...]
    verdict: str | None
    licence_status: str | None
    tis_number: str | None
    score: float | None
    licence_shown: str | None
    reasons: Sequence[Mapping[str, Any]]
    register_version: int | None
    warc_file: str | None
    warc_offset: int | None
    payload_sha256: str | None
    screenshot_file: str | None
    screenshot_sha256: str | None
    image_evidence: tuple[ImageEvidence, ...] = ()

    @property
    def has_page(self) -> bool:
        return bool(self.warc_file) and self.warc_offset is not None


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """One decision on the listing (newest first in :attr:`ListingHistory.decisions`) and its checks."""

    id: int
    decision: str
    reason: str | None
    note: str
    decided_by: str
    decided_at: datetime
    observation_id: int
    checks: tuple[tuple[str, str, datetime, str], ...] = ()
    """(result, checked_by, checked_at, note) of each supervisor's check, newest first."""


@dataclass(frozen=True, slots=True)
class ListingHistory:
    """Everything the listing page shows."""

    id: int
    key: str
    site: str
    marketplace_id: str
    url: str
    title: str
    seller: str | None
    seller_id: str | None
    seller_key: str
    first_seen: datetime
    last_seen: datetime
    gone_at: datetime | None
    observations: tuple[Seen, ...]
    """Newest first."""
    licence: LicenceEntry | None
    standing: Standing | None
    decisions: tuple[DecisionRow, ...]
    other_listings: tuple[SellerListing, ...] = ()

    @property
    def latest_live(self) -> Seen | None:
        """The newest observation that is not a removed page."""
        return next((seen for seen in self.observations if not seen.gone), None)

    @property
    def shown_screenshot(self) -> Seen | None:
        """The newest observation with a screenshot."""
        return next((seen for seen in self.observations if seen.screenshot_file), None)

    @property
    def shown_page(self) -> Seen | None:
        """The newest observation whose page was kept in a WARC record."""
        return next((seen for seen in self.observations if seen.has_page), None)


def listing_history(session: Session, key: str, other_limit: int = 200) -> ListingHistory | None:
    """The history of the listing keyed ``key`` (None when there is no such listing)."""
    row = session.execute(
        select(Listing, Site.name).join(Site, Site.id == Listing.site_id).where(Listing.listing_key == key)
    ).first()
    if row is None:
        return None
    listing, site = row
    observations = list(
        session.scalars(
            select(Observation)
            .where(Observation.listing_id == listing.id)
            .order_by(Observation.observed_at, Observation.id)
        )
    )
    verdicts = _verdicts(session, listing.id)
    history = _history(observations, verdicts)
    latest_live = next((seen for seen in reversed(history) if not seen.gone), None)
    seller = latest_live.seller if latest_live and latest_live.seller else listing.seller_name
    key_of_seller = seller_key(seller) if seller else ""
    others = seller_listings(session, key_of_seller, limit=other_limit + 1) if key_of_seller else []
    return ListingHistory(
        id=listing.id,
        key=listing.listing_key,
        site=site,
        marketplace_id=listing.marketplace_id,
        url=listing.url,
        title=(latest_live.title if latest_live else "") or listing.title,
        seller=seller,
        seller_id=(latest_live.seller_id if latest_live else None) or listing.seller_id,
        seller_key=key_of_seller,
        first_seen=listing.first_seen,
        last_seen=listing.last_seen,
        gone_at=listing.gone_at,
        observations=tuple(reversed(history)),
        licence=licence_entry(session, latest_live.licence_shown if latest_live else None),
        standing=standing_decisions(session, [listing.id]).get(listing.id),
        decisions=tuple(_decisions(session, listing.id)),
        other_listings=tuple(other for other in others if other.listing_id != listing.id)[:other_limit],
    )


def _verdicts(session: Session, listing_id: int) -> dict[int, Verdict]:
    """Per observation, its verdict under the highest register version, the newest first."""
    chosen: dict[int, Verdict] = {}
    query = select(Verdict).where(Verdict.listing_id == listing_id)
    for verdict in session.scalars(query):
        held = chosen.get(verdict.observation_id)
        rank = (verdict.register_version_id, verdict.created_at, verdict.id)
        if held is None or rank > (held.register_version_id, held.created_at, held.id):
            chosen[verdict.observation_id] = verdict
    return chosen


def _content(observation: Observation, verdict: Verdict | None) -> dict[str, Any]:
    return {
        "title": observation.title or "",
        "description": observation.description or "",
        "price": (observation.price, observation.currency),
        "seller": (observation.seller_name, observation.seller_id),
        "spec": sorted((str(k), str(v)) for k, v in (observation.spec or {}).items()),
        "images": [str(image) for image in observation.images or ()],
        "licence": (verdict.licence_claimed or "") if verdict else "",
    }


def _history(observations: Sequence[Observation], verdicts: Mapping[int, Verdict]) -> list[Seen]:
    """Oldest first. A live observation is compared with the live one before it; ``gone`` changes
    when the observation before it was (or was not) a removed page."""
    history: list[Seen] = []
    previous: Observation | None = None
    previous_live: dict[str, Any] | None = None
    for observation in observations:
        verdict = verdicts.get(observation.id)
        changed: list[str] = []
        if previous is not None and previous.gone != observation.gone:
            changed.append("gone")
        if not observation.gone:
            content = _content(observation, verdict)
            if previous_live is not None:
                changed.extend(name for name, value in content.items() if previous_live[name] != value)
            previous_live = content
        previous = observation
        history.append(_seen(observation, verdict, tuple(sorted(changed, key=CHANGE_FIELDS.index))))
    return history


def _seen(observation: Observation, verdict: Verdict | None, changed: tuple[str, ...]) -> Seen:
    return Seen(
        id=observation.id,
        observed_at=observation.observed_at,
        url=observation.url,
        http_status=observation.http_status,
        gone=observation.gone,
        title=observation.title or "",
        description=observation.description or "",
        price=observation.price,
        currency=observation.currency,
        seller=observation.seller_name,
        seller_id=observation.seller_id,
        spec=observation.spec or {},
        images=observation.images or [],
        changed=changed,
        verdict=verdict.verdict if verdict else None,
        licence_status=verdict.licence_status if verdict else None,
        tis_number=verdict.tis_number if verdict else None,
        score=verdict.score if verdict else None,
        licence_shown=verdict.licence_claimed if verdict else None,
        reasons=[r if isinstance(r, dict) else {"detail": str(r)} for r in (verdict.reasons or [])]
        if verdict
        else [],
        register_version=verdict.register_version_id if verdict else None,
        warc_file=observation.warc_file,
        warc_offset=observation.warc_offset,
        payload_sha256=observation.payload_sha256,
        screenshot_file=observation.screenshot_file,
        screenshot_sha256=observation.screenshot_sha256,
        image_evidence=image_evidence(observation.image_evidence),
    )


def _decisions(session: Session, listing_id: int) -> list[DecisionRow]:
    made = list(
        session.scalars(
            select(Decision)
            .where(Decision.listing_id == listing_id)
            .order_by(Decision.decided_at.desc(), Decision.id.desc())
        )
    )
    checks: dict[int, list[tuple[str, str, datetime, str]]] = {}
    if made:
        query = (
            select(DecisionCheck)
            .where(DecisionCheck.decision_id.in_([d.id for d in made]))
            .order_by(DecisionCheck.checked_at.desc(), DecisionCheck.id.desc())
        )
        for check in session.scalars(query):
            checks.setdefault(check.decision_id, []).append(
                (check.result, check.checked_by, check.checked_at, check.note)
            )
    return [
        DecisionRow(
            id=d.id,
            decision=d.decision,
            reason=d.reason,
            note=d.note,
            decided_by=d.decided_by,
            decided_at=d.decided_at,
            observation_id=d.observation_id,
            checks=tuple(checks.get(d.id, ())),
        )
        for d in made
    ]
