"""The review queue (read-only): listings whose latest verdict is a violation or ``needs_review`` and
that no standing decision takes out of it, a page at a time.

A listing is in the *open* queue while its latest observation is live, judged ``no_licence_shown``,
``invalid_licence``, ``unsafe`` or ``needs_review``, and its latest decision (``store.decisions``
:func:`~store.decisions.standing_decisions`, the one read of decisions) does not hold it out:

- no decision yet, or ``needs_information`` (marked so): in the queue;
- ``dismissed``: out while what was judged is unchanged; back, marked ``changed``, once the title,
  description, spec, licence shown or images change (a price change leaves it out);
- ``confirmed``: out, in the *decided* view; with ``[review] qc`` it waits in the *to check* view
  until a supervisor passes it; a ``returned`` one is back in the queue, marked ``returned``.

Order: listings first seen latest first (``first_seen``, then id, both descending), so the day's new
violations and ``needs_review`` (first seen that day) come first and the continuing ones follow; each
row carries its status by the findings rule (``reports.findings.statuses``). A violation that opens
again on the day after it had been resolved is ``new`` by that rule but keeps the place its first
sighting gives it (a listing-level order is what an index can serve). Paging is by keyset (the ``first_seen`` and id
of the last row shown, :attr:`QueuePage.next_after`) over the index of migration 0008, so a deep page
costs what the first one does. The listings are scanned in that order in growing batches; per batch a
few ``IN (...)`` lookups fetch each listing's latest observation, its verdict and decision, and the
filters on them are applied in Python. Every filter value reaches SQL only as a bound parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from core.decisions import CONFIRMED, DISMISSED, NEEDS_INFORMATION, QC_RETURNED
from reports.findings import chosen_verdict, statuses
from reports.queuescan import REVIEWED, Scan
from store.clock import BANGKOK, day_bounds, local_day, utcnow
from store.decisions import Standing, standing_decisions
from store.models import Observation, Site, Verdict

VIEWS: tuple[str, ...] = ("open", "decided", "to_check", "all")
"""``open``: to be decided; ``decided``: confirmed or dismissed (and holding); ``to_check``:
confirmations awaiting a supervisor's check; ``all``: every listing with a reviewed verdict."""
BY_DECISION = frozenset({"decided", "to_check"})
"""Views walked by the standing decisions, the latest decided first (the others by listing)."""
MAX_BATCH = 5000


class QueueError(ValueError):
    """A queue request that cannot be answered as asked (a bad view or cursor); the message says why."""


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the officer narrows the queue to; None means any."""

    view: str = "open"
    site: str | None = None
    standard: str | None = None
    """A TIS number as written (``2879-2560``) or its base number (``2879``)."""
    verdict: str | None = None
    licence_status: str | None = None
    seller: str | None = None
    """A seller's name or marketplace id, as the listing has it."""
    first_seen: date | None = None
    """The local day the listing was first seen."""
    observed: date | None = None
    """The local day of the listing's latest observation."""


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One listing of the queue."""

    listing_id: int
    listing_key: str
    site: str
    url: str
    title: str
    seller: str | None
    price: Decimal | None
    currency: str | None
    first_seen: datetime
    observed_at: datetime
    verdict: str
    licence_status: str | None
    tis_number: str | None
    status: str | None
    """By the findings rule: ``new``, ``continuing``, or None (``needs_review`` with no open violation)."""
    fresh: bool
    """First seen on the day: the top of the queue."""
    place: str
    """Where the decisions put it: ``open``, ``decided`` or ``to_check``."""
    mark: str | None
    """``changed`` (since dismissed), ``needs_information``, ``returned`` (by a supervisor) or None."""
    standing: Standing | None
    gone_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[QueueRow]
    next_after: str | None
    """The cursor of the next page, or None on the last one."""
    scanned: int
    """Listings looked at to fill the page (for the benchmark)."""


def cursor(row: QueueRow, by_decision: bool = False) -> str:
    """The keyset position after ``row``: its ``first_seen`` and listing id (by decision: its decision's id)."""
    if by_decision:
        return f"d{row.standing.decision_id if row.standing else 0}"
    return f"{row.first_seen.isoformat()}~{row.listing_id}"


def parse_cursor(text: str, by_decision: bool = False) -> Any:
    """A cursor as :func:`cursor` wrote it; QueueError when it is not one."""
    try:
        if by_decision:
            if not text.startswith("d"):
                raise ValueError(text)
            return int(text[1:])
        moment, _, listing_id = text.partition("~")
        return datetime.fromisoformat(moment), int(listing_id)
    except ValueError:
        raise QueueError("not a position in the queue") from None


def place_of(standing: Standing | None, qc: bool) -> tuple[str, str | None]:
    """Where a listing's standing decision puts it (open, decided, to_check) and its mark."""
    if standing is None:
        return "open", None
    if standing.decision == NEEDS_INFORMATION:
        return "open", NEEDS_INFORMATION
    if standing.decision == DISMISSED:
        return ("decided", None) if standing.holds else ("open", "changed")
    if standing.decision == CONFIRMED:
        if standing.qc == QC_RETURNED:
            return "open", QC_RETURNED
        return ("to_check", None) if qc and standing.qc is None else ("decided", None)
    return "open", None


def in_view(view: str, place: str) -> bool:
    return view == "all" or place == view or (view == "decided" and place == "to_check")


def queue_page(
    session: Session,
    wanted: QueueFilter,
    *,
    after: str | None = None,
    size: int = 100,
    qc: bool = False,
    day: date | None = None,
    tz: ZoneInfo | str = BANGKOK,
) -> QueuePage:
    """A page of the queue: up to ``size`` rows after the cursor ``after`` (None: the first page)."""
    if wanted.view not in VIEWS:
        raise QueueError(f"view is one of {', '.join(VIEWS)}")
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    day = day or local_day(utcnow(), zone)
    by_decision = wanted.view in BY_DECISION
    position = parse_cursor(after, by_decision) if after else None
    sites = dict(session.execute(select(Site.id, Site.name)).all())
    site_id = None
    if wanted.site is not None:
        site_id = next((id_ for id_, name in sites.items() if name == wanted.site), None)
        if site_id is None:
            return QueuePage([], None, 0)
    if wanted.view == "to_check" and not qc:
        return QueuePage([], None, 0)  # nothing waits for a check unless supervisors check
    scan = Scan(wanted, site_id, zone, qc)
    rows: list[QueueRow] = []
    scanned, batch = 0, size + 1  # the SQL applies the filters: most rows it finds are shown
    while len(rows) <= size:
        found = session.execute(scan.statement(position, batch)).all()
        scanned += len(found)
        rows.extend(_rows(session, found, sites, wanted, qc, day, zone))
        if len(found) < batch:
            break
        last = found[-1]
        position = last.decision_id if by_decision else (last.first_seen, last.id)
        batch = min(batch * 2, MAX_BATCH)
    page, more = rows[:size], len(rows) > size
    status = statuses(session, {row.listing_id: (row.verdict, False, row.gone_at) for row in page}, day, zone)
    page = [replace(row, status=status.get(row.listing_id)) for row in page]
    return QueuePage(page, cursor(page[-1], by_decision) if more and page else None, scanned)


def _rows(
    session: Session,
    found: Sequence[Row[Any]],
    sites: dict[int, str],
    wanted: QueueFilter,
    qc: bool,
    day: date,
    zone: ZoneInfo,
) -> list[QueueRow]:
    """The queue rows among listings the scan found, in its order: their latest observation and its
    verdict, and where their standing decision places them."""
    if not found:
        return []
    observations = {
        row.id: row
        for row in session.execute(
            select(
                Observation.id, Observation.observed_at, Observation.gone, Observation.title,
                Observation.seller_name, Observation.price, Observation.currency, Observation.url,
                chosen_verdict(Verdict.id).label("verdict_id"),
            ).where(Observation.id.in_([row.observation_id for row in found]))
        )
    }  # fmt: skip
    verdicts = {
        row.id: row
        for row in session.execute(
            select(Verdict.id, Verdict.verdict, Verdict.licence_status, Verdict.tis_number).where(
                Verdict.id.in_(
                    [row.verdict_id for row in observations.values() if row.verdict_id is not None]
                )
            )
        )
    }
    window = day_bounds(wanted.observed, zone) if wanted.observed is not None else None
    candidates = []
    for listing in found:
        observation = observations.get(listing.observation_id)
        if observation is None or observation.gone:
            continue
        if listing.gone_at is not None and listing.gone_at > observation.observed_at:
            continue
        verdict = verdicts.get(observation.verdict_id)
        if verdict is None or verdict.verdict not in REVIEWED:
            continue
        if window is not None and not window[0] <= observation.observed_at < window[1]:
            continue
        candidates.append((listing, observation, verdict))
    decided = [listing.id for listing, _, _ in candidates if listing.decision_id is not None]
    standings = standing_decisions(session, decided) if decided else {}
    start, end = day_bounds(day, zone)
    rows = []
    for listing, observation, verdict in candidates:
        standing = standings.get(listing.id)
        place, mark = place_of(standing, qc)
        if not in_view(wanted.view, place):
            continue
        rows.append(
            QueueRow(
                listing_id=listing.id,
                listing_key=listing.listing_key,
                site=sites.get(listing.site_id, ""),
                url=listing.url or observation.url,
                title=observation.title or listing.title or "",
                seller=observation.seller_name or listing.seller_name,
                price=observation.price,
                currency=observation.currency,
                first_seen=listing.first_seen,
                observed_at=observation.observed_at,
                verdict=verdict.verdict,
                licence_status=verdict.licence_status,
                tis_number=verdict.tis_number,
                status=None,
                fresh=start <= listing.first_seen < end,
                place=place,
                mark=mark,
                standing=standing,
                gone_at=listing.gone_at,
            )
        )
    return rows
