"""SQLAlchemy 2 models: every table of tisiwatch (see docs/architecture.md).

Data flows one way: the crawler writes sites, runs, listings and observations; the register import
writes register versions, standards, licences and unsafe entries; the matcher writes verdicts; the
reports only read. The scheduler records its pipeline runs and their steps. The workspace (web/) writes
only people, their sessions, officers' decisions and API tokens; exporting cases records them as sent;
the check API, when a token that may store asks, stores listings, observations and verdicts as the
crawler and the matcher do (``matchers.recorder``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from store.clock import as_utc, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


# BigInteger ids on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UtcDateTime(),
    }


class Site(Base):
    """A marketplace that tisiwatch crawls, named after its profile."""

    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    base_url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlRun(Base):
    """One crawl of one site: when, how it ended and its stats (pages, items, errors, coverage)."""

    __tablename__ = "crawl_runs"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    mode: Mapped[str] = mapped_column(String(20), default="discover")
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    warc_path: Mapped[str | None] = mapped_column(String(500))
    site: Mapped[Site] = relationship()


class CrawlFailure(Base):
    """A URL that finally failed in a run, with the reason."""

    __tablename__ = "crawl_failures"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchWord(Base):
    """What one search word cost and yielded in one crawl run (one row per worker that searched it):
    the daily plan ranks words by the violations their listings turned out to be per request, and
    estimates a word's cost from its last run (``crawler.budget``)."""

    __tablename__ = "search_words"
    __table_args__ = (Index("ix_search_words_site_word", "site_id", "word"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    word: Mapped[str] = mapped_column(Text)
    worker: Mapped[str] = mapped_column(String(30), default="w0")
    result_pages: Mapped[int] = mapped_column(Integer, default=0)
    """Result pages requested for the word (not retries)."""
    listing_pages: Mapped[int] = mapped_column(Integer, default=0)
    """Listing pages requested from the word's result pages (a page another word or a re-check had
    already asked for in the run is not asked again, so it is not counted)."""
    listing_ids: Mapped[list[Any]] = mapped_column(default=list)
    """The marketplace ids of the listings the word led to in the run."""


class Listing(Base):
    """A product listing on a marketplace, keyed by site and the marketplace's own listing id."""

    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("site_id", "marketplace_id"),
        Index("ix_listings_first_seen", "first_seen", "id"),  # the review queue's order
        Index("ix_listings_site_first_seen", "site_id", "first_seen", "id"),
        Index("ix_listings_seller_name", "seller_name"),  # the queue's seller filter
        Index("ix_listings_seller_id", "seller_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_key: Mapped[str] = mapped_column(String(300), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    marketplace_id: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    """The page a person would open."""
    fetched_url: Mapped[str | None] = mapped_column(Text)
    """Where the listing was last read (its page; for API shops the JSON item), fetched again by a
    re-check; null on listings stored before it was kept (migration 0004)."""
    title: Mapped[str] = mapped_column(Text, default="")
    seller_name: Mapped[str | None] = mapped_column(Text)
    seller_id: Mapped[str | None] = mapped_column(String(200))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    gone_at: Mapped[datetime | None]
    site: Mapped[Site] = relationship()


class Observation(Base):
    """One sighting of a listing: what was extracted, the raw data, and the evidence kept."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_listing_observed", "listing_id", "observed_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    observed_at: Mapped[datetime] = mapped_column(default=utcnow)
    url: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int | None]
    gone: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    brand: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(10))
    seller_name: Mapped[str | None] = mapped_column(Text)
    seller_id: Mapped[str | None] = mapped_column(String(200))
    seller_url: Mapped[str | None] = mapped_column(Text)
    availability: Mapped[str | None] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    images: Mapped[list[Any]] = mapped_column(default=list)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    warc_file: Mapped[str | None] = mapped_column(String(500))
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    payload_sha256: Mapped[str | None] = mapped_column(String(64))
    screenshot_file: Mapped[str | None] = mapped_column(String(500))
    screenshot_sha256: Mapped[str | None] = mapped_column(String(64))
    image_evidence: Mapped[list[Any] | None] = mapped_column(JSON)
    """The product images the crawl fetched, in the listing's order: per image ``url`` and either
    ``warc_file``, ``warc_offset`` (of its ``response`` record), ``record_id``, ``payload_sha256``,
    ``status``, ``content_type``, or ``error`` (why it was not fetched). Null: no images were
    fetched (images off, or stored before migration 0005)."""
    listing: Mapped[Listing] = relationship()


class RegisterVersion(Base):
    """One import of a register file. A version's register is, for each kind, the rows of the
    newest version up to it that imported that kind (``standards_from`` etc. point there)."""

    __tablename__ = "register_versions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    source_name: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    standards_from: Mapped[int | None] = mapped_column(Integer)
    licences_from: Mapped[int | None] = mapped_column(Integer)
    unsafe_from: Mapped[int | None] = mapped_column(Integer)


class Standard(Base):
    """A compulsory Thai Industrial Standard (มาตรฐานบังคับ) with its search keywords."""

    __tablename__ = "standards"
    __table_args__ = (UniqueConstraint("version_id", "tis_canonical"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("register_versions.id"), index=True)
    tis_number: Mapped[str] = mapped_column(String(100))
    tis_canonical: Mapped[str] = mapped_column(String(100))
    tis_base: Mapped[str] = mapped_column(String(20))
    name_th: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text, default="")
    group: Mapped[str] = mapped_column(String(50), default="")
    keywords_th: Mapped[list[Any]] = mapped_column(default=list)
    keywords_en: Mapped[list[Any]] = mapped_column(default=list)
    exclude_keywords: Mapped[list[Any]] = mapped_column(default=list)
    review_keywords: Mapped[list[Any]] = mapped_column(default=list)
    """Words that put a listing at the edge of the standard's scope (officer review)."""
    in_force: Mapped[date | None] = mapped_column(Date)


class Licence(Base):
    """A TISI licence (ใบอนุญาต) from the licence register."""

    __tablename__ = "licences"
    __table_args__ = (UniqueConstraint("version_id", "licence_canonical"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("register_versions.id"), index=True)
    licence_no: Mapped[str] = mapped_column(String(100))
    licence_canonical: Mapped[str] = mapped_column(String(100))
    tis_number: Mapped[str] = mapped_column(String(100))
    tis_canonical: Mapped[str] = mapped_column(String(100))
    licensee: Mapped[str] = mapped_column(Text)
    brands: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20))
    issued: Mapped[date | None] = mapped_column(Date)
    expires: Mapped[date | None] = mapped_column(Date)


class UnsafeEntry(Base):
    """A product on the known-unsafe list (recall, seizure, failed test)."""

    __tablename__ = "unsafe_entries"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("register_versions.id"), index=True)
    brand: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(Text)
    brand_key: Mapped[str] = mapped_column(String(200), index=True)
    model_key: Mapped[str] = mapped_column(String(200))
    tis_number: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    listed_on: Mapped[date | None] = mapped_column(Date)


class Verdict(Base):
    """The matcher's judgement of one observation under one register and matcher version."""

    __tablename__ = "verdicts"
    __table_args__ = (
        UniqueConstraint("observation_id", "register_version_id", "matcher_version"),
        Index("ix_verdicts_listing_created", "listing_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"))
    register_version_id: Mapped[int] = mapped_column(ForeignKey("register_versions.id"))
    matcher_version: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verdict: Mapped[str] = mapped_column(String(30), index=True)
    licence_status: Mapped[str | None] = mapped_column(String(30))
    tis_number: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    licence_claimed: Mapped[str | None] = mapped_column(Text)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    observation: Mapped[Observation] = relationship()
    listing: Mapped[Listing] = relationship()


class PipelineRun(Base):
    """One run of a scheduler job (``daily``, ``recheck``, ``register``): who started it, when, where,
    and how it ended — ``running``, ``finished``, ``failed`` (a step failed; the later ones still ran)
    or ``interrupted`` (stopped, or its process died)."""

    __tablename__ = "pipeline_runs"
    __table_args__ = (Index("ix_pipeline_runs_job_started", "job", "started_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    job: Mapped[str] = mapped_column(String(30))
    trigger: Mapped[str] = mapped_column(String(20))
    """``schedule`` (the timetable), ``manual`` (``tisiwatch schedule trigger``), ``catch-up`` (run again
    at start-up after an interruption) or ``now`` (``schedule run --now``)."""
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    """Why the run did not finish cleanly: the failed steps, or what interrupted it."""
    steps: Mapped[list[PipelineStep]] = relationship(
        order_by="PipelineStep.position", back_populates="run", cascade="all, delete-orphan"
    )


class PipelineStep(Base):
    """One named step of a pipeline run (``crawl``, ``match``, ``report``, ``alerts``, ``cases``,
    ``register``): ``pending``, ``running``, ``ok``, ``failed``, ``skipped`` or ``interrupted``,
    with its stats and, when it failed, why."""

    __tablename__ = "pipeline_steps"
    __table_args__ = (UniqueConstraint("run_id", "position"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("pipeline_runs.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    run: Mapped[PipelineRun] = relationship(back_populates="steps")


class User(Base):
    """A person who signs in to the workspace (``tisiwatch users``): an ``officer`` decides, a
    ``supervisor`` also checks decisions, a ``viewer`` reads, an ``admin`` manages people."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(Text, default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(Text)
    """Argon2id, as argon2-cffi writes it."""
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    """Failed sign-ins since the last good one."""
    locked_until: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser: the SHA-256 of its cookie's secret (the secret itself is never stored) and
    the CSRF token its forms carry."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    user: Mapped[User] = relationship()


class Decision(Base):
    """An officer's decision about one listing as it was seen (append-only; the latest counts):
    ``confirmed``, ``dismissed`` (with a reason) or ``needs_information``, and the hash of what was
    judged (``core.decisions.judged_hash``)."""

    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_listing_decided", "listing_id", "decided_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"))
    verdict_id: Mapped[int | None] = mapped_column(ForeignKey("verdicts.id"))
    judged_hash: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[str] = mapped_column(String(64))
    """The username at the time (kept as written, should the user be renamed)."""
    decided_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    listing: Mapped[Listing] = relationship()


class DecisionCheck(Base):
    """A supervisor's check of a confirmation (``[review] qc``): ``passed`` or ``returned`` (append-only)."""

    __tablename__ = "decision_checks"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    result: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    checked_by: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A platform's token for the check API (``tisiwatch tokens add``): only its SHA-256 is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    """The token's first characters, to tell tokens apart in lists."""
    may_store: Mapped[bool] = mapped_column(Boolean, default=False)
    """Whether a request with this token may ask for its listings to be stored."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class CaseSend(Base):
    """A listing's case exported to ETDA, and what became of it: ``sent``, ``taken_down`` (the listing
    was found gone) or ``still_online`` (online ``[review] takedown_days`` after it was sent)."""

    __tablename__ = "case_sends"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    case_id: Mapped[str] = mapped_column(String(100))
    export_name: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="sent", index=True)
    status_at: Mapped[datetime | None]
    """When the listing was found gone (``taken_down``) or declared ``still_online``."""
    listing: Mapped[Listing] = relationship()
