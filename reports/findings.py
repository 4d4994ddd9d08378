"""The findings query: one row per listing — its latest observation up to the end of a local day (or of
all time), the verdict of that observation, and the listing's status that day.

The observation shown is the latest *live* one (a "gone" page has no title, price or seller); a later gone
observation, or ``Listing.gone_at``, marks the listing as removed. The verdict of an observation is the one
made under the highest register version, the newest first.

Status on day D (local days, Asia/Bangkok by default). A violation (``no_licence_shown``,
``invalid_licence``, ``unsafe``) is *open* from its first violating observation until the listing is gone
or judged compliant (``licensed``, ``not_controlled``); ``needs_review`` and unmatched observations
neither open nor close it.

- ``new``: violating at the end of D, and no violation was open at the start of D (first seen violating
  on D, or violating again after it had been resolved);
- ``continuing``: violating at the end of D, and a violation was already open at the start of D;
- ``resolved``: a violation was open at the start of D, and at the end of D the listing is gone or
  compliant;
- ``None`` otherwise (compliant, never violating, or in the ``needs_review`` queue).

Each finding carries the officers' latest decision on its listing as it stands when the findings are read
(:func:`store.decisions.standing_decisions`): ``officer_decision``, ``decided_by`` and ``decided_at`` in
the exports are that decision as it was recorded — a dismissal whose listing has changed since is still
written ``dismissed`` there, with its date; the daily report shows it as "changed since dismissed".

Everything comes from two set-based queries (the latest observations with their verdicts, and one
aggregate per listing over its observations); an observation's verdict is an index lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from core.decisions import DISMISSED, NEEDS_INFORMATION
from core.verdicts import COMPLIANT, NEEDS_REVIEW, VIOLATIONS
from store.clock import BANGKOK, as_utc, day_bounds, local_day, utcnow
from store.decisions import Standing, standing_decisions
from store.models import Listing, Observation, Site, Verdict

STATUSES = ("new", "continuing", "resolved")

COLUMNS = (
    "listing_key", "site", "url", "title", "seller", "price", "currency", "observed_at", "verdict",
    "licence_status", "tis_number", "category_score", "licence_claimed", "reasons", "status",
    "first_seen", "last_seen", "register_version", "evidence", "officer_decision", "decided_by", "decided_at",
)  # fmt: skip
"""The findings fields in the order of the SPEC ("Findings export"), then the officer's decision (SPEC
"Officers' decisions")."""


def iso(moment: datetime | None) -> str | None:
    """A timestamp as UTC ISO-8601 with a ``Z`` (``2025-03-10T16:30:00Z``)."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = as_utc(moment)
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where the evidence of an observation is kept (paths as the crawler recorded them)."""

    sha256: str | None = None
    warc: str | None = None
    screenshot: str | None = None

    def record(self) -> dict[str, str | None]:
        return {"sha256": self.sha256, "warc": self.warc, "screenshot": self.screenshot}


@dataclass(slots=True)
class Finding:
    """One listing as the reports show it. ``gone``, ``seller_id`` and ``first_violation`` are for the
    reports, not exported."""

    listing_key: str
    site: str
    url: str
    title: str
    seller: str | None
    price: Decimal | None
    currency: str | None
    observed_at: datetime
    verdict: str | None
    licence_status: str | None
    tis_number: str | None
    category_score: float | None
    licence_claimed: str | None
    reasons: list[dict[str, Any]]
    status: str | None
    first_seen: datetime
    last_seen: datetime
    register_version: int | None
    evidence: Evidence
    gone: bool = False
    seller_id: str | None = None
    first_violation: datetime | None = None
    """The first violating observation of the listing up to the end of the day (for sellers' history)."""
    listing_id: int | None = None
    standing: Standing | None = None
    """The officers' latest decision on the listing (:func:`store.decisions.standing_decisions`), if any."""

    @property
    def dismissed(self) -> bool:
        """Dismissed by an officer, and the dismissal holds (what was judged has not changed since)."""
        return self.standing is not None and self.standing.decision == DISMISSED and self.standing.holds

    @property
    def changed_since_dismissed(self) -> bool:
        """Dismissed, but what was judged has changed since: the listing is due a decision again."""
        return self.standing is not None and not self.standing.holds

    @property
    def decision_due(self) -> bool:
        """An officer has yet to decide: the matcher could not, or the officer asked for more information,
        or a dismissal no longer holds."""
        if self.dismissed or self.gone:
            return False
        if self.standing is None:
            return self.verdict == NEEDS_REVIEW
        return self.standing.decision == NEEDS_INFORMATION or self.changed_since_dismissed

    def record(self) -> dict[str, Any]:
        """The finding as JSON-ready data, keys in :data:`COLUMNS` order."""
        return {
            "listing_key": self.listing_key,
            "site": self.site,
            "url": self.url,
            "title": self.title,
            "seller": self.seller,
            "price": None if self.price is None else float(self.price),
            "currency": self.currency,
            "observed_at": iso(self.observed_at),
            "verdict": self.verdict,
            "licence_status": self.licence_status,
            "tis_number": self.tis_number,
            "category_score": self.category_score,
            "licence_claimed": self.licence_claimed,
            "reasons": self.reasons,
            "status": self.status,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "register_version": self.register_version,
            "evidence": self.evidence.record(),
            "officer_decision": None if self.standing is None else self.standing.decision,
            "decided_by": None if self.standing is None else self.standing.decided_by,
            "decided_at": None if self.standing is None else iso(self.standing.decided_at),
        }


def status_of(
    verdict: str | None, gone: bool, violating_before: datetime | None, resolving_before: datetime | None
) -> str | None:
    """The status on a day from the state at its end and the last violating/resolving events before it."""
    open_before = violating_before is not None and (
        resolving_before is None or violating_before > resolving_before
    )
    if verdict in VIOLATIONS and not gone:
        return "continuing" if open_before else "new"
    if open_before and (gone or verdict in COMPLIANT):
        return "resolved"
    return None


def findings(
    session: Session,
    day: date | None = None,
    *,
    site: str | None = None,
    verdicts: Iterable[str] | None = None,
    since: date | datetime | None = None,
    standard: str | None = None,
    tz: ZoneInfo | str = BANGKOK,
) -> list[Finding]:
    """Every listing's finding as of the end of ``day`` (None: all observations, status for today).

    ``site`` keeps one site (by name); ``verdicts`` keeps those verdicts; ``since`` keeps listings whose
    shown observation is at or after that moment (a date means the start of that local day);
    ``standard`` keeps one TIS number, as written (``2879-2560``) or by its base number (``2879``).
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    start, end = day_bounds(day if day is not None else local_day(utcnow(), zone), zone)
    cutoff = end if day is not None else None
    connection = session.connection()  # Core rows: no ORM loading overhead
    query = _latest_query(cutoff, site, verdicts, _since(since, zone), standard)
    rows = connection.execute(query).all()
    events = {row[0]: row[1:] for row in connection.execute(_event_query(cutoff, start, site))}
    result = []
    for (
        listing_id, key, site_name, listing_url, listing_title, listing_seller, listing_seller_id, gone_at,
        observed_at, url, title, seller, seller_id, price, currency, shown_gone, sha256, warc, screenshot,
        verdict, licence_status, tis_number, score, claimed, reasons, version,
    ) in rows:  # fmt: skip
        first_seen, last_seen, last_gone, violating_before, resolving_before, first_violation = events.get(
            listing_id, _NO_EVENTS
        )
        if gone_at is not None and cutoff is not None and gone_at >= cutoff:
            gone_at = None  # removed after the day
        gone = shown_gone or any(at is not None and at > observed_at for at in (last_gone, gone_at))
        if gone_at is not None and gone_at < start:
            resolving_before = max(gone_at, resolving_before or gone_at)
        result.append(
            Finding(
                listing_key=key,
                site=site_name,
                url=listing_url or url,
                title=title or listing_title or "",
                seller=seller or listing_seller,
                price=price,
                currency=currency,
                observed_at=observed_at,
                verdict=verdict,
                licence_status=licence_status,
                tis_number=tis_number,
                category_score=score,
                licence_claimed=claimed,
                reasons=_reasons(reasons),
                status=status_of(verdict, gone, violating_before, resolving_before),
                first_seen=first_seen or observed_at,
                last_seen=last_seen or observed_at,
                register_version=version,
                evidence=Evidence(sha256, warc, screenshot),
                gone=gone,
                seller_id=seller_id or listing_seller_id,
                first_violation=first_violation,
                listing_id=listing_id,
            )
        )
    if result:
        decided = standing_decisions(session)
        for finding in result:
            finding.standing = decided.get(listing_id) if (listing_id := finding.listing_id) else None
    result.sort(key=attrgetter("listing_key"))  # in Python: the database would sort the wide rows on disk
    return result


_NO_EVENTS: tuple[None, ...] = (None,) * 6


def _since(since: date | datetime | None, zone: ZoneInfo) -> datetime | None:
    if since is None or isinstance(since, datetime):
        return None if since is None else as_utc(since)
    return day_bounds(since, zone)[0]


_CHOSEN = aliased(Verdict, name="chosen")  # made once: building an alias costs more than a small query


def chosen_verdict(column: Any) -> Any:
    """For the observation in the enclosing query, ``column`` of its verdict under the highest register
    version, the newest first (an index lookup per observation)."""
    chosen = _CHOSEN
    return (
        select(getattr(chosen, column.key))
        .where(chosen.observation_id == Observation.id)
        .order_by(chosen.register_version_id.desc(), chosen.created_at.desc(), chosen.id.desc())
        .limit(1)
        .correlate(Observation)
        .scalar_subquery()
    )


def _latest_query(
    cutoff: datetime | None,
    site: str | None,
    verdicts: Iterable[str] | None,
    since: datetime | None,
    standard: str | None = None,
) -> Any:
    """Per listing, its latest live observation (or latest of all if none is live) and its verdict."""
    rank = func.row_number().over(
        partition_by=Observation.listing_id,
        order_by=(Observation.gone.asc(), Observation.observed_at.desc(), Observation.id.desc()),
    )
    ranked = select(Observation.id, rank.label("rank"))
    if cutoff is not None:
        ranked = ranked.where(Observation.observed_at < cutoff)
    latest = ranked.subquery("latest_observations")
    columns = (
        Listing.id, Listing.listing_key, Site.name, Listing.url, Listing.title, Listing.seller_name,
        Listing.seller_id, Listing.gone_at,
        Observation.observed_at, Observation.url, Observation.title, Observation.seller_name,
        Observation.seller_id, Observation.price, Observation.currency, Observation.gone,
        Observation.payload_sha256, Observation.warc_file, Observation.screenshot_file,
        Verdict.verdict, Verdict.licence_status, Verdict.tis_number, Verdict.score,
        Verdict.licence_claimed, Verdict.reasons, Verdict.register_version_id,
    )  # fmt: skip
    query = (
        select(*columns)
        .select_from(latest)
        .join(Observation, Observation.id == latest.c.id)
        .join(Listing, Listing.id == Observation.listing_id)
        .join(Site, Site.id == Listing.site_id)
        .outerjoin(Verdict, Verdict.id == chosen_verdict(Verdict.id))
        .where(latest.c.rank == 1)
    )
    if site is not None:
        query = query.where(Site.name == site)
    if verdicts is not None:
        query = query.where(Verdict.verdict.in_(sorted(set(verdicts))))
    if since is not None:
        query = query.where(Observation.observed_at >= since)
    if standard is not None:
        number = standard.strip()
        pattern = number.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            or_(
                Verdict.tis_number == number,
                Verdict.tis_number.like(f"{pattern}-%", escape="\\"),
                Verdict.tis_number.like(f"{pattern} %", escape="\\"),
            )
        )
    return query


def _event_query(
    cutoff: datetime | None, start: datetime, site: str | None, listing_ids: Sequence[int] | None = None
) -> Any:
    """Per listing (of ``listing_ids``, or all): first and last live sighting, last gone sighting, the
    last violating and resolving observations before the start of the day, and the first violating
    observation of all."""
    sightings = select(
        Observation.listing_id,
        Observation.observed_at.label("at"),
        Observation.gone,
        chosen_verdict(Verdict.verdict).label("verdict"),
    )
    if cutoff is not None:
        sightings = sightings.where(Observation.observed_at < cutoff)
    if listing_ids is not None:
        sightings = sightings.where(Observation.listing_id.in_(listing_ids))
    if site is not None:
        sightings = sightings.join(Listing, Listing.id == Observation.listing_id).join(
            Site, Site.id == Listing.site_id
        )
        sightings = sightings.where(Site.name == site)
    seen = sightings.subquery("sightings")
    at = seen.c.at
    live = seen.c.gone.is_(False)
    gone = seen.c.gone.is_(True)
    before = at < start
    violating: ColumnElement[bool] = and_(before, live, seen.c.verdict.in_(VIOLATIONS))
    resolving: ColumnElement[bool] = and_(before, or_(gone, seen.c.verdict.in_(COMPLIANT)))
    violated: ColumnElement[bool] = and_(live, seen.c.verdict.in_(VIOLATIONS))
    return select(
        seen.c.listing_id,
        func.min(case((live, at))),
        func.max(case((live, at))),
        func.max(case((gone, at))),
        func.max(case((violating, at))),
        func.max(case((resolving, at))),
        func.min(case((violated, at))),
    ).group_by(seen.c.listing_id)


def statuses(
    session: Session,
    shown: dict[int, tuple[str | None, bool, datetime | None]],
    day: date | None = None,
    tz: ZoneInfo | str = BANGKOK,
) -> dict[int, str | None]:
    """The status on ``day`` (today if None) of a few listings, by the rule of :func:`findings`:
    ``shown`` gives per listing id the verdict of its shown observation, whether that observation is
    a gone page or the listing gone after it, and ``Listing.gone_at``."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    start, end = day_bounds(day if day is not None else local_day(utcnow(), zone), zone)
    cutoff = end if day is not None else None
    ids = list(shown)
    events = {row[0]: row[1:] for row in session.connection().execute(_event_query(cutoff, start, None, ids))}
    result: dict[int, str | None] = {}
    for listing_id, (verdict, gone, gone_at) in shown.items():
        _first, _last, _gone, violating_before, resolving_before, _violation = events.get(
            listing_id, _NO_EVENTS
        )
        if gone_at is not None and gone_at < start:
            resolving_before = max(gone_at, resolving_before or gone_at)
        result[listing_id] = status_of(verdict, gone, violating_before, resolving_before)
    return result


def _reasons(value: Any) -> list[dict[str, Any]]:
    """Verdict reasons as a list of dicts, whatever shape was stored."""
    if value is None:
        return []
    if type(value) is list and all(type(item) is dict for item in value):
        return value  # as the matcher stores them
    items: Sequence[Any] = value if isinstance(value, list) else [value]
    return [item if isinstance(item, dict) else {"detail": str(item)} for item in items]
