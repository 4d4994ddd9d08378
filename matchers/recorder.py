"""Storing the listings a platform sends to the check API with ``"store": true`` (``web/api.py``).

Only a token made with ``tisiwatch tokens add NAME --may-store`` may ask. Each listing is then stored
as the crawl stores one, so that TISI sees what the platforms checked — in the review queue, the
workspace and the reports, under the site ``api-<token name>`` (kind ``api``, no base URL):

- a listing per ``id`` sent: listing key ``api-<token name>:<id>`` (the id is only ever a value: never
  a path, bound as a parameter in SQL); its ``url`` is empty — there is no page a person could open;
- an observation of what was sent: title, description, brand, model and the spec table with the
  licence text as its :data:`matchers.check.LICENCE_KEY` row (what the judge read, so that
  ``tisiwatch match`` judges the observation the same way); the image URLs in its raw data only
  (never fetched, never shown as images); no evidence, no seller, no price, no HTTP status;
- the verdict the API answered, written as ``match_pending`` writes verdicts
  (``matchers.match.write_verdicts``) under the same register and matcher version.

A listing sent again unchanged (the same content hash as its latest observation, ``store.writer``)
gets no new observation, only its ``last_seen`` brought up to date, and no new verdict: its
observation keeps the verdicts it has, and the daily ``match`` judges it under a new register version
as of the day it was observed. A listing sent twice in one request is stored once, as sent last.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BindParameter, bindparam, func, select
from sqlalchemy.orm import Session

from matchers.check import CheckItem, CheckResult, spec_with_licence
from matchers.match import verdict_row, write_verdicts
from store.models import Listing, Observation, Site
from store.tokens import site_name
from store.writer import Sighting, ensure_site, store_sightings

SITE_KIND = "api"
CHUNK = 500
"""Ids sent looked up this many at a time (bound parameters: an older SQLite allows 999)."""


class RecordRefused(ValueError):
    """The listings cannot be stored under this token's site; the message says why."""


def sighting_of(item: CheckItem, observed_at: datetime) -> Sighting:
    """A listing sent to the check API as the writer stores a crawled one."""
    return Sighting(
        marketplace_id=item.id,
        url="",
        title=item.title,
        description=item.description,
        brand=item.brand,
        model=item.model,
        spec=spec_with_licence(item.spec, item.licence_text),
        raw={"check_api": True, "licence_text": item.licence_text, "image_urls": list(item.image_urls)},
        http_status=None,
        observed_at=observed_at,
    )


def api_site(session: Session, token_name: str) -> Site:
    """The site of the token's listings, made on first use; refused when a crawled site has its name."""
    name = site_name(token_name)
    site = session.scalar(select(Site).where(Site.name == name))
    if site is not None and (site.kind != SITE_KIND or site.base_url):
        raise RecordRefused(f"the site {name} is a crawled site: rename the token to store its listings")
    return site or ensure_site(session, name, SITE_KIND)


def record_checked(
    session: Session,
    token_name: str,
    items: Sequence[CheckItem],
    register_version: int,
    results: Sequence[CheckResult],
    observed_at: datetime,
) -> int:
    """Store ``items`` as seen at ``observed_at`` and, on each new observation, the verdict of
    ``results`` (judged under ``register_version`` at ``observed_at``); returns how many new
    observations were stored."""
    site = api_site(session, token_name)
    judged = {result.id: result for result in results}  # the last of an id sent twice, as stored
    store_sightings(
        session, site, None, [sighting_of(item, observed_at) for item in items], only_changed=True
    )
    new = _new_observations(session, site.id, list(judged), observed_at)
    rows = []
    for marketplace_id, listing_id, observation_id in new:
        judgement = judged[marketplace_id].judgement
        if judgement is None:
            raise ValueError(f"no judgement kept for listing {listing_id}")
        rows.append(verdict_row(judgement, listing_id, observation_id, register_version))
    write_verdicts(session, rows)
    return len(rows)


def _new_observations(
    session: Session, site_id: int, marketplace_ids: list[str], observed_at: datetime
) -> list[tuple[str, int, int]]:
    """``(id sent, listing id, observation id)`` of the latest observations made at ``observed_at``."""
    listings: dict[int, str] = {}
    for start in range(0, len(marketplace_ids), CHUNK):
        chunk = marketplace_ids[start : start + CHUNK]
        query = select(Listing.id, Listing.marketplace_id).where(
            Listing.site_id == site_id, Listing.marketplace_id.in_(chunk)
        )
        listings.update({listing_id: sent for listing_id, sent in session.execute(query)})
    if not listings:
        return []
    ids: BindParameter[int] = bindparam(
        "ids", list(listings), expanding=True, literal_execute=True
    )  # integers from the database
    latest = (
        select(func.max(Observation.id))
        .where(Observation.listing_id.in_(ids))
        .group_by(Observation.listing_id)
    )
    rows = session.execute(
        select(Observation.listing_id, Observation.id, Observation.observed_at).where(
            Observation.id.in_(latest)
        )
    ).all()
    return sorted(
        (listings[listing_id], listing_id, observation_id)
        for listing_id, observation_id, seen in rows
        if seen == observed_at
    )
