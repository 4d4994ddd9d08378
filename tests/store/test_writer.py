from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from store.db import Store
from store.models import CrawlFailure, CrawlRun, Listing, Observation
from store.writer import Sighting, ensure_site, finish_run, record_failure, start_run, store_sightings


def _sighting(number: int, **changes: object) -> Sighting:
    values: dict[str, object] = {
        "marketplace_id": f"p{number}",
        "url": f"http://shop.test/product/p{number}",
        "title": f"พาวเวอร์แบงค์ {number}",
        "price": Decimal("399.00"),
        "currency": "THB",
        "seller_name": "ร้านดี",
        "spec": {"มาตรฐาน": "มอก. 2879-2560"},
    }
    values.update(changes)
    return Sighting(**values)  # type: ignore[arg-type]


def test_upsert_is_idempotent_and_adds_one_observation_per_sighting(any_store: Store) -> None:
    with any_store.session() as session:
        site = ensure_site(session, "demo-html", "html", "http://shop.test")
        run = start_run(session, site)
        assert store_sightings(session, site, run.id, [_sighting(n) for n in range(50)]) == []
        # the same listings again (a re-crawl or a resumed crawl), one of them changed
        again = [_sighting(n) for n in range(49)] + [_sighting(49, title="new title")]
        assert store_sightings(session, site, run.id, again) == []
        finish_run(session, run.id, "finished", {"items": 100})
    with any_store.session() as session:
        assert session.scalar(select(func.count()).select_from(Listing)) == 50
        assert session.scalar(select(func.count()).select_from(Observation)) == 100
        listing = session.scalars(select(Listing).where(Listing.marketplace_id == "p49")).one()
        assert listing.title == "new title"
        assert listing.listing_key == "demo-html:p49"
        hashes = session.scalars(select(Observation.content_hash).where(Observation.listing_id == listing.id))
        assert len(set(hashes)) == 2
        assert session.scalars(select(CrawlRun)).one().stats == {"items": 100}


def test_only_changed_adds_an_observation_only_when_the_content_changed(any_store: Store) -> None:
    with any_store.session() as session:
        site = ensure_site(session, "api-x", "api")
        store_sightings(session, site, None, [_sighting(n) for n in range(3)], only_changed=True)
        later = [
            _sighting(0),
            _sighting(1, price=Decimal("1.00")),
            _sighting(2, title="changed"),
            _sighting(3),
        ]
        store_sightings(session, site, None, later, only_changed=True)
    with any_store.session() as session:
        per_listing = dict(
            session.execute(
                select(Listing.marketplace_id, func.count(Observation.id))
                .join(Observation)
                .group_by(Listing.id)
            ).all()
        )
        assert per_listing == {"p0": 1, "p1": 2, "p2": 2, "p3": 1}
        first, last = session.execute(
            select(Listing.first_seen, Listing.last_seen).where(Listing.marketplace_id == "p0")
        ).one()
        assert last > first, "an unchanged sighting is still a sighting"


def test_duplicate_ids_in_one_batch_keep_the_last(any_store: Store) -> None:
    with any_store.session() as session:
        site = ensure_site(session, "s", "html")
        assert store_sightings(session, site, None, [_sighting(1), _sighting(1, title="later")]) == []
    with any_store.session() as session:
        assert session.scalars(select(Listing.title)).one() == "later"


def test_gone_listing_keeps_its_title_and_is_cleared_when_seen_again(any_store: Store) -> None:
    with any_store.session() as session:
        site = ensure_site(session, "s", "html")
        store_sightings(session, site, None, [_sighting(1)])
        store_sightings(
            session, site, None, [Sighting("p1", "http://shop.test/product/p1", gone=True, http_status=404)]
        )
    with any_store.session() as session:
        listing = session.scalars(select(Listing)).one()
        assert listing.gone_at is not None
        assert listing.title == "พาวเวอร์แบงค์ 1"
        first_gone = listing.gone_at
        store_sightings(session, site, None, [Sighting("p1", "http://shop.test/product/p1", gone=True)])
        session.flush()
        session.refresh(listing)
        assert listing.gone_at == first_gone
        store_sightings(session, site, None, [_sighting(1)])
        session.flush()
        session.refresh(listing)
        assert listing.gone_at is None


def test_failures_are_recorded_with_the_run(any_store: Store) -> None:
    with any_store.session() as session:
        run = start_run(session, ensure_site(session, "s", "html"))
        record_failure(session, run.id, "http://shop.test/x", "HTTP 503 after 3 retries", 503)
    with any_store.session() as session:
        failure = session.scalars(select(CrawlFailure)).one()
        assert (failure.run_id, failure.http_status) == (run.id, 503)


def test_a_gone_page_of_a_listing_never_seen_is_returned_not_stored(any_store: Store) -> None:
    ghost = Sighting("ghost", "http://shop.test/product/ghost", gone=True, http_status=404)
    with any_store.session() as session:
        site = ensure_site(session, "s", "html")
        assert store_sightings(session, site, None, [_sighting(1), ghost]) == [ghost]
    with any_store.session() as session:
        assert session.scalars(select(Listing.marketplace_id)).all() == ["p1"]
        assert session.scalar(select(func.count()).select_from(Observation)) == 1


def test_nul_characters_from_a_hostile_page_are_dropped(any_store: Store) -> None:
    hostile = _sighting(1, title="พาวเวอร์\x00แบงค์", seller_name="ร้าน\x00ดี", spec={"มอก.\x00": "2879\x00"})
    with any_store.session() as session:
        store_sightings(session, ensure_site(session, "s", "html"), None, [hostile])
    with any_store.session() as session:
        observation = session.scalars(select(Observation)).one()
        assert (observation.title, observation.seller_name) == ("พาวเวอร์แบงค์", "ร้านดี")
        assert observation.spec == {"มอก.": "2879"}


def test_the_url_a_listing_was_fetched_from_is_kept_for_its_recheck(any_store: Store) -> None:
    json_url = "http://shop.test/api/items/p1"
    with any_store.session() as session:
        site = ensure_site(session, "s", "api")
        store_sightings(session, site, None, [_sighting(1, fetched_url=json_url)])
        store_sightings(session, site, None, [_sighting(1)])  # a sighting that does not say keeps it
    with any_store.session() as session:
        listing = session.scalars(select(Listing)).one()
        assert (listing.url, listing.fetched_url) == ("http://shop.test/product/p1", json_url)
