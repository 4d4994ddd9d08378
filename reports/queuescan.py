"""The SQL that walks the review queue in its order, a batch at a time (``reports.queue``).

Open and all views walk the listings by ``first_seen`` then id, newest first (the index of migration
0008); the decided and to-check views walk the latest decisions, newest first. Each listing's latest
observation, the verdict of it and its latest decision are correlated index lookups, so a batch costs
the rows it walks, never the whole table; the conditions on them (a reviewed verdict, the filters on the
verdict, decisions that certainly hold a listing out) are in the SQL, so rows that fail them are skipped
inside the database. Filter values are bound parameters, never SQL text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from core.decisions import CONFIRMED, DISMISSED, QC_RETURNED
from core.verdicts import NEEDS_REVIEW, VIOLATIONS
from store.clock import day_bounds
from store.models import Decision, DecisionCheck, Listing, Observation, Verdict

REVIEWED: tuple[str, ...] = (*VIOLATIONS, NEEDS_REVIEW)
"""The verdicts that put a listing in the queue."""

# made once: a new alias per request would cost more to build than the query takes to run
SHOWN = aliased(Verdict, name="shown")
JUDGED = aliased(Verdict, name="judged")
HELD = aliased(Decision, name="held")
STANDING = aliased(Decision, name="standing")


class Scan:
    """The statements of one queue request: its filters, view and the ``[review] qc`` setting."""

    def __init__(self, wanted: Any, site_id: int | None, zone: ZoneInfo, qc: bool) -> None:
        self.wanted = wanted
        self.site_id = site_id
        self.zone = zone
        self.qc = qc

    def statement(self, position: Any, limit: int) -> Select[Any]:
        """The next ``limit`` listings after ``position`` (None: from the top) that may be in the view."""
        if self.wanted.view in ("decided", "to_check"):
            return self._by_decision(position, limit)
        return self._by_listing(position, limit)

    def _columns(self) -> tuple[Any, ...]:
        return (
            Listing.id, Listing.listing_key, Listing.site_id, Listing.url, Listing.title, Listing.seller_name,
            Listing.first_seen, Listing.gone_at, latest_observation().label("observation_id"),
        )  # fmt: skip

    def _by_listing(self, position: tuple[datetime, int] | None, limit: int) -> Select[Any]:
        latest = latest_decision()
        query = select(*self._columns(), latest.label("decision_id")).where(*self._listing_filters())
        query = query.where(self._verdict_wanted())
        if self.wanted.view == "open":
            query = query.where(~held_out(latest))
        if position is not None:
            moment, listing_id = position
            query = query.where(
                Listing.first_seen <= moment,
                or_(Listing.first_seen < moment, and_(Listing.first_seen == moment, Listing.id < listing_id)),
            )
        return query.order_by(Listing.first_seen.desc(), Listing.id.desc()).limit(limit)

    def _by_decision(self, position: int | None, limit: int) -> Select[Any]:
        standing = STANDING
        newest = (
            select(func.max(Decision.id))
            .where(Decision.listing_id == standing.listing_id)
            .correlate(standing)
            .scalar_subquery()
        )
        query = (
            select(*self._columns(), standing.id.label("decision_id"))
            .select_from(standing)
            .join(Listing, Listing.id == standing.listing_id)
            .where(standing.id == newest, *self._listing_filters())
        )
        if self.wanted.view == "to_check":
            checked = exists(select(DecisionCheck.id).where(DecisionCheck.decision_id == standing.id))
            query = query.where(standing.decision == CONFIRMED, ~checked)
        else:
            query = query.where(standing.decision.in_((CONFIRMED, DISMISSED)))
        query = query.where(self._verdict_wanted())
        if position is not None:
            query = query.where(standing.id < position)
        return query.order_by(standing.id.desc()).limit(limit)

    def _listing_filters(self) -> list[ColumnElement[bool]]:
        """The filters that are the listing's own: site, seller, first-seen day."""
        wanted, found = self.wanted, []
        if self.site_id is not None:
            found.append(Listing.site_id == self.site_id)
        if wanted.seller is not None:
            found.append(or_(Listing.seller_name == wanted.seller, Listing.seller_id == wanted.seller))
        if wanted.first_seen is not None:
            start, end = day_bounds(wanted.first_seen, self.zone)
            found += [Listing.first_seen >= start, Listing.first_seen < end]
        return found

    def _verdict_wanted(self) -> ColumnElement[bool]:
        """The verdict of the listing's latest observation is one the queue takes, and the filters'."""
        wanted = self.wanted
        shown = SHOWN
        conditions: list[ColumnElement[bool]] = [shown.id == chosen_of_latest(), shown.verdict.in_(REVIEWED)]
        if wanted.verdict is not None:
            conditions.append(shown.verdict == wanted.verdict)
        if wanted.licence_status is not None:
            conditions.append(shown.licence_status == wanted.licence_status)
        if wanted.standard is not None:
            number = wanted.standard.strip()
            pattern = number.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(
                or_(
                    shown.tis_number == number,
                    shown.tis_number.like(f"{pattern}-%", escape="\\"),
                    shown.tis_number.like(f"{pattern} %", escape="\\"),
                )
            )
        return exists(select(shown.id).where(*conditions))


def latest_observation() -> Any:
    """The id of the listing's latest observation (live or gone), in the enclosing query's listing."""
    return (
        select(Observation.id)
        .where(Observation.listing_id == Listing.id)
        .order_by(Observation.observed_at.desc(), Observation.id.desc())
        .limit(1)
        .correlate(Listing)
        .scalar_subquery()
    )


def chosen_of_latest() -> Any:
    """The verdict of the listing's latest observation: under the highest register version, the newest."""
    judged = JUDGED
    return (
        select(judged.id)
        .where(judged.observation_id == latest_observation())
        .order_by(judged.register_version_id.desc(), judged.created_at.desc(), judged.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def latest_decision() -> Any:
    """The id of the listing's latest decision (None if never decided)."""
    return (
        select(func.max(Decision.id))
        .where(Decision.listing_id == Listing.id)
        .correlate(Listing)
        .scalar_subquery()
    )


def held_out(latest: Any) -> ColumnElement[bool]:
    """The latest decision certainly keeps the listing out of the open queue: a confirmation no
    supervisor returned, or a dismissal of the very observation shown (a dismissal of an earlier
    observation may still hold: its judged content is compared afterwards)."""
    held = HELD
    returned = (
        select(DecisionCheck.result)
        .where(DecisionCheck.decision_id == held.id)
        .order_by(DecisionCheck.id.desc())
        .limit(1)
        .correlate(held)
        .scalar_subquery()
    )
    return exists(
        select(held.id).where(
            held.id == latest,
            or_(
                and_(held.decision == CONFIRMED, func.coalesce(returned, "") != QC_RETURNED),
                and_(held.decision == DISMISSED, held.observation_id == latest_observation()),
            ),
        )
    )
