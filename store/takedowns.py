"""Cases sent to ETDA (table ``case_sends``): recorded by an export, and what became of them.

- :func:`record_sends`: an export of confirmed cases (``reports.casefile.export_cases``, whoever runs
  it: ``tisiwatch export cases`` or the scheduler's daily ``cases`` step) records each case it wrote
  as ``sent``. A listing whose case is already sent and still open (``sent`` or ``still_online``) is
  not recorded twice; one whose earlier case was ``taken_down`` and that is exported again (it came
  back) starts a new send.
- :func:`update_sends`: after each match (the daily and re-check jobs' ``takedowns`` step, and
  ``tisiwatch takedowns``), an open case becomes ``taken_down`` at the moment its listing was first
  found gone after it was sent (a gone observation, or ``Listing.gone_at``), and a ``sent`` one becomes
  ``still_online`` at its first live observation ``[review] takedown_days`` days or more after it was
  sent. A ``still_online`` case is still re-checked and becomes ``taken_down`` when its listing goes.
- :func:`open_sends`: each listing's open case (what the daily plan re-checks first: ``store.planning``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.decisions import SENT, STILL_ONLINE, TAKEN_DOWN
from store.clock import as_utc, utcnow
from store.models import CaseSend, Listing, Observation

OPEN = (SENT, STILL_ONLINE)
"""A case whose listing has not been found gone since it was sent."""
CHUNK = 900


@dataclass(frozen=True, slots=True)
class SendUpdate:
    """What :func:`update_sends` changed."""

    checked: int
    taken_down: int
    still_online: int


def open_sends(session: Session, listing_ids: Sequence[int] | None = None) -> dict[int, CaseSend]:
    """Each listing's open case (the latest, should there be more), of ``listing_ids`` or of all."""
    query = select(CaseSend).where(CaseSend.status.in_(OPEN)).order_by(CaseSend.id)
    found: dict[int, CaseSend] = {}
    if listing_ids is None:
        found.update({send.listing_id: send for send in session.scalars(query)})
        return found
    ids = list(dict.fromkeys(listing_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = query.where(CaseSend.listing_id.in_(ids[start : start + CHUNK]))
        found.update({send.listing_id: send for send in session.scalars(chunk)})
    return found


def record_sends(
    session: Session, cases: Mapping[int, str], export_name: str, sent_at: datetime | None = None
) -> list[CaseSend]:
    """Record each case (``{listing_id: case_id}``) as sent in ``export_name``, unless it is already
    sent and open; returns the sends made."""
    moment = sent_at or utcnow().replace(microsecond=0)
    already = open_sends(session, list(cases))
    made = [
        CaseSend(listing_id=listing_id, case_id=case, export_name=export_name, sent_at=moment, status=SENT)
        for listing_id, case in sorted(cases.items())
        if listing_id not in already
    ]
    session.add_all(made)
    session.flush()
    return made


def update_sends(session: Session, takedown_days: int, now: datetime | None = None) -> SendUpdate:
    """Bring every open case's status up to date (see the module); returns what changed."""
    now = now or utcnow()
    sends = list(open_sends(session).values())
    taken = still = 0
    for start in range(0, len(sends), CHUNK):
        chunk = sends[start : start + CHUNK]
        ids = [send.listing_id for send in chunk]
        gone_at = dict(session.execute(select(Listing.id, Listing.gone_at).where(Listing.id.in_(ids))).all())
        # every sighting since the chunk's earliest send: few per listing (about one a day)
        since = min(as_utc(send.sent_at) for send in chunk)
        sightings: dict[int, list[tuple[datetime, bool]]] = {}
        rows = session.execute(
            select(Observation.listing_id, Observation.observed_at, Observation.gone)
            .where(Observation.listing_id.in_(ids), Observation.observed_at >= since)
            .order_by(Observation.observed_at, Observation.id)
        )
        for listing_id, observed_at, gone in rows:
            sightings.setdefault(listing_id, []).append((as_utc(observed_at), bool(gone)))
        for send in chunk:
            sent = as_utc(send.sent_at)
            seen = [(at, gone) for at, gone in sightings.get(send.listing_id, []) if sent <= at <= now]
            gone_times = [at for at, gone in seen if gone]
            marked = gone_at.get(send.listing_id)
            if marked is not None and sent <= as_utc(marked) <= now:
                gone_times.append(as_utc(marked))
            if gone_times:
                send.status, send.status_at = TAKEN_DOWN, min(gone_times)
                taken += 1
                continue
            due = sent + timedelta(days=takedown_days)
            online = [at for at, gone in seen if not gone and at >= due]
            if send.status == SENT and online:
                send.status, send.status_at = STILL_ONLINE, online[0]
                still += 1
    session.flush()
    return SendUpdate(len(sends), taken, still)


def sent_listings(session: Session, site_id: int) -> list[tuple[str, str, str | None]]:
    """The site's listings that are not gone and have an open case: ``(marketplace id, url, fetched
    url)``, re-checked by every daily crawl (``crawler.runner``)."""
    query = (
        select(Listing.marketplace_id, Listing.url, Listing.fetched_url)
        .where(
            Listing.site_id == site_id,
            Listing.gone_at.is_(None),
            Listing.id.in_(select(CaseSend.listing_id).where(CaseSend.status.in_(OPEN))),
        )
        .order_by(Listing.id)
    )
    return [(mid, url, fetched) for mid, url, fetched in session.execute(query)]
