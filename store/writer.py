"""The crawler's way into the store: sites, runs, and batched listing upserts with one observation each.

Listings are upserted on (site, marketplace id) with the dialect's ``INSERT … ON CONFLICT`` so that a
re-crawl, a resumed crawl or a second worker never duplicates a listing; observations are appended.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.clock import utcnow
from store.models import CrawlFailure, CrawlRun, Listing, Observation, Site

OBSERVATION_FIELDS = (
    "title",
    "description",
    "brand",
    "model",
    "price",
    "currency",
    "seller_name",
    "seller_id",
    "seller_url",
    "availability",
    "spec",
    "images",
    "raw",
    "http_status",
    "warc_file",
    "warc_offset",
    "payload_sha256",
    "screenshot_file",
    "screenshot_sha256",
    "image_evidence",
)


@dataclass(frozen=True)
class Sighting:
    """One listing as seen on one fetch, ready to store."""

    marketplace_id: str
    url: str
    title: str = ""
    description: str = ""
    brand: str | None = None
    model: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    seller_name: str | None = None
    seller_id: str | None = None
    seller_url: str | None = None
    availability: str | None = None
    spec: Mapping[str, str] = field(default_factory=dict)
    images: Sequence[str] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)
    http_status: int | None = 200
    gone: bool = False
    observed_at: datetime | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    payload_sha256: str | None = None
    screenshot_file: str | None = None
    screenshot_sha256: str | None = None
    image_evidence: Sequence[Mapping[str, Any]] | None = None
    """The product images fetched with the listing and their WARC records (``crawler.images``);
    None when none were fetched. Evidence, not content: not in :meth:`content_hash`."""
    fetched_url: str | None = None
    """Where the listing was read (the page, or an API shop's JSON item): a re-check fetches it again.
    ``url`` is the page a person would open, which may differ."""

    def content_hash(self) -> str:
        """SHA-256 of the extracted content, to tell a changed listing from an unchanged one."""
        content = [
            self.title,
            self.description,
            self.brand,
            self.model,
            str(self.price),
            self.currency,
            self.seller_name,
            sorted(self.spec.items()),
            list(self.images),
            self.gone,
        ]
        return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def listing_key(site: str, marketplace_id: str) -> str:
    """The stable key of a listing across runs: ``site:marketplace id``."""
    return f"{site}:{marketplace_id}"


def ensure_site(session: Session, name: str, kind: str, base_url: str = "") -> Site:
    """The site row for a profile, created on first use (base URL kept current)."""
    site = session.scalar(select(Site).where(Site.name == name))
    if site is None:
        site = Site(name=name, kind=kind, base_url=base_url)
        session.add(site)
        session.flush()
    elif base_url and site.base_url != base_url:
        site.base_url = base_url
    return site


def start_run(session: Session, site: Site, mode: str = "discover") -> CrawlRun:
    run = CrawlRun(site_id=site.id, mode=mode, status="running", stats={})
    session.add(run)
    session.flush()
    return run


def finish_run(session: Session, run_id: int, status: str, stats: Mapping[str, Any]) -> None:
    session.execute(
        update(CrawlRun)
        .where(CrawlRun.id == run_id)
        .values(status=status, stats=dict(stats), finished_at=utcnow())
    )


def record_worker_stats(
    session: Session, run_id: int, worker: str, stats: Mapping[str, Any]
) -> dict[str, Any]:
    """Put one crawl worker's stats at ``stats["workers"][worker]`` of the run; return the run's stats.

    Several worker processes of one run do this at once, so the run's row is locked before it is read
    (an UPDATE that changes nothing takes the row lock on PostgreSQL and the write lock on SQLite):
    no worker overwrites another's entry. Call it last in a transaction, after any listing writes.
    """
    locked = update(CrawlRun).where(CrawlRun.id == run_id).values(status=CrawlRun.status)
    session.execute(locked, execution_options={"synchronize_session": False})
    current = session.scalar(select(CrawlRun.stats).where(CrawlRun.id == run_id)) or {}
    merged = {**current, "workers": {**current.get("workers", {}), worker: dict(stats)}}
    session.execute(
        update(CrawlRun).where(CrawlRun.id == run_id).values(stats=merged),
        execution_options={"synchronize_session": False},
    )
    return merged


def record_failure(
    session: Session, run_id: int, url: str, reason: str, http_status: int | None = None
) -> None:
    session.add(CrawlFailure(run_id=run_id, url=url, reason=reason[:2000], http_status=http_status))


def _upsert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def store_sightings(
    session: Session,
    site: Site,
    run_id: int | None,
    sightings: Iterable[Sighting],
    *,
    only_changed: bool = False,
) -> list[Sighting]:
    """Upsert the listings of a batch and add one observation per sighting.

    A sighting marked ``gone`` sets the listing's ``gone_at`` (a later live sighting clears it); a
    gone sighting of a listing never seen alive is not a listing: it is returned, not stored. With
    ``only_changed``, a sighting whose :meth:`Sighting.content_hash` is that of its listing's latest
    observation adds none (the listing's ``last_seen`` is still brought up to date).
    """
    batch = list({s.marketplace_id: s for s in sightings}.values())  # one sighting per listing per batch
    unknown = _unknown_gone(session, site, [s.marketplace_id for s in batch if s.gone])
    if unknown:
        batch = [s for s in batch if s.marketplace_id not in unknown]
    skipped = [s for s in sightings if s.marketplace_id in unknown] if unknown else []
    if not batch:
        return skipped
    now = utcnow()
    rows = [
        {
            "listing_key": listing_key(site.name, s.marketplace_id),
            "site_id": site.id,
            "marketplace_id": s.marketplace_id,
            "url": _plain(s.url),
            "fetched_url": _plain(s.fetched_url),
            "title": _plain(s.title),
            "seller_name": _plain(s.seller_name),
            "seller_id": _plain(s.seller_id),
            "first_seen": s.observed_at or now,
            "last_seen": s.observed_at or now,
            "gone_at": (s.observed_at or now) if s.gone else None,
        }
        for s in batch
    ]
    statement = _upsert(session)(Listing)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[Listing.site_id, Listing.marketplace_id],
        set_={
            "url": excluded.url,
            "fetched_url": func.coalesce(excluded.fetched_url, Listing.fetched_url),
            "last_seen": excluded.last_seen,
            "gone_at": case(
                (excluded.gone_at.is_(None), None), else_=func.coalesce(Listing.gone_at, excluded.gone_at)
            ),
            # a "gone" page has no title or seller: keep what we knew
            "title": _keep_if_gone(excluded, "title"),
            "seller_name": _keep_if_gone(excluded, "seller_name"),
            "seller_id": _keep_if_gone(excluded, "seller_id"),
        },
    ).returning(Listing.marketplace_id, Listing.id)
    ids: dict[str, int] = {mid: lid for mid, lid in session.execute(statement, rows)}
    observations = [
        {
            "listing_id": ids[s.marketplace_id],
            "run_id": run_id,
            "observed_at": s.observed_at or now,
            "url": _plain(s.url),
            "gone": s.gone,
            "content_hash": s.content_hash(),
            **{name: _plain(getattr(s, name)) for name in OBSERVATION_FIELDS},
        }
        for s in batch
    ]
    if only_changed:
        latest = _latest_hashes(session, list(ids.values()))
        observations = [o for o in observations if latest.get(o["listing_id"]) != o["content_hash"]]
    if observations:
        session.execute(insert(Observation), observations)
    return skipped


def _latest_hashes(session: Session, listing_ids: list[int]) -> dict[int, str]:
    """The content hash of each listing's latest observation."""
    # ids the database just gave, written into the statement: a batch of 1,000 is then no 1,000
    # bound parameters, which an older SQLite limits to 999
    latest = (
        select(func.max(Observation.id))
        .where(
            Observation.listing_id.in_(bindparam("ids", listing_ids, expanding=True, literal_execute=True))
        )
        .group_by(Observation.listing_id)
    )
    rows = session.execute(
        select(Observation.listing_id, Observation.content_hash).where(Observation.id.in_(latest))
    )
    return {listing_id: digest for listing_id, digest in rows}


def _unknown_gone(session: Session, site: Site, marketplace_ids: list[str]) -> set[str]:
    if not marketplace_ids:
        return set()
    known = session.scalars(
        select(Listing.marketplace_id).where(
            Listing.site_id == site.id, Listing.marketplace_id.in_(marketplace_ids)
        )
    )
    return set(marketplace_ids) - set(known)


def _keep_if_gone(excluded: Any, column: str) -> Any:
    return case((excluded.gone_at.is_(None), getattr(excluded, column)), else_=getattr(Listing, column))


def _plain(value: Any) -> Any:
    """A value ready for the database: plain dicts and lists, no NUL characters (PostgreSQL refuses
    them in text and JSON, and a hostile page may carry them)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, Mapping):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
