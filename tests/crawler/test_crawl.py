"""Real crawls of the demo shops through Scrapy, into a real SQLite store."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from config import Settings
from crawler.runner import crawl
from demo.server import ShopsHandle
from store.db import Store
from store.models import CrawlFailure, CrawlRun, Listing, Observation
from tests.crawler.conftest import live_listings, profile_for


def _listings(store: Store) -> dict[str, Listing]:
    with store.session() as session:
        return {listing.marketplace_id: listing for listing in session.scalars(select(Listing))}


def _failures(store: Store) -> list[CrawlFailure]:
    with store.session() as session:
        return list(session.scalars(select(CrawlFailure)))


def test_html_shop_every_listing_once_with_fields_faults_retried(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    [result] = crawl(crawl_settings, [profile_for(shops, "html")], queries=[], store=store)
    assert result.status == "finished"
    expected = {item.item_id: item for item in live_listings("html")}
    listings = _listings(store)
    # the 503-once and 429-once listings were retried and stored like the others
    assert set(listings) == set(expected)
    assert shops.faults["html"]["unavailable"] in listings
    assert shops.faults["html"]["rate_limited"] in listings
    # the id the sitemap links to but that answers 404 is recorded as a failure, not a listing
    [ghost] = _failures(store)
    assert ghost.url.endswith(shops.faults["html"]["missing"])
    assert ghost.http_status == 404
    with store.session() as session:
        item = next(iter(expected.values()))
        observation = session.scalars(
            select(Observation).join(Listing).where(Listing.marketplace_id == item.item_id)
        ).one()
        assert observation.title == item.title  # from the JSON-LD
        assert observation.price == Decimal(item.price)
        assert observation.currency == "THB"
        assert observation.seller_name == item.seller_name  # from the profile's selector
        assert observation.spec == item.spec  # the spec table
        assert observation.brand == item.brand
        run = session.get_one(CrawlRun, result.run_id)
        assert run.stats["items"] == len(expected)
        assert run.stats["coverage"]["title"] == 1.0
        assert run.stats["status_counts"]["503"] == 1


def test_crawling_again_adds_observations_not_listings(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    profile = profile_for(shops, "html")
    crawl(crawl_settings, [profile], queries=[], store=store)
    crawl(crawl_settings, [profile], queries=[], store=store)
    count = len(live_listings("html"))
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Listing)) == count
        assert session.scalar(select(func.count()).select_from(Observation)) == 2 * count


def test_api_shop_search_words_find_what_the_shop_finds(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    word = "power bank"
    expected = {i.item_id for i in live_listings("api") if word in f"{i.title}\n{i.description}".lower()}
    assert expected, "the demo shop sells power banks"
    [result] = crawl(crawl_settings, [profile_for(shops, "api")], queries=[word], store=store)
    assert result.status == "finished"
    listings = _listings(store)
    assert set(listings) == expected - {shops.faults["api"]["missing"]}
    # the human page, not the JSON endpoint, is the listing's URL; a re-check fetches the JSON again
    assert all("/item/" in listing.url for listing in listings.values())
    assert all(listing.fetched_url == shops.api_item_url(mid) for mid, listing in listings.items()), (
        "the JSON item a listing was read from is kept"
    )


def test_max_items_stops_the_crawl(shops: ShopsHandle, crawl_settings: Settings, store: Store) -> None:
    crawl(crawl_settings, [profile_for(shops, "api")], queries=[], max_items=5, store=store)
    assert 5 <= len(_listings(store)) < len(live_listings("api"))


def test_explicit_urls_and_a_listing_that_is_gone(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    on_day_2 = {item.item_id for item in live_listings("html", day=2)}
    removed = next(item for item in live_listings("html") if item.item_id not in on_day_2)
    url = shops.product_url("html", removed.item_id)
    crawl(crawl_settings, [profile_for(shops, "html")], urls=[url], store=store)
    assert _listings(store)[removed.item_id].gone_at is None
    shops.set_day(2)
    crawl(crawl_settings, [profile_for(shops, "html")], urls=[url], store=store)
    listing = _listings(store)[removed.item_id]
    assert listing.gone_at is not None
    assert listing.title == removed.title  # what we knew is kept


@pytest.mark.browser
def test_browser_shop_renders_in_chromium_and_clicks_load_more(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    [result] = crawl(crawl_settings, [profile_for(shops, "browser")], queries=[], store=store)
    assert result.status == "finished"
    expected = {item.item_id: item for item in live_listings("browser")}
    assert len(expected) > 20, "more than one page of results: load more must be clicked"
    listings = _listings(store)
    assert set(listings) == set(expected)
    with store.session() as session:
        for observation in session.scalars(select(Observation).join(Listing)):
            item = expected[observation.listing.marketplace_id]
            assert observation.title == item.title
            assert observation.seller_name == item.seller_name


def test_recheck_revisits_known_listings_and_finds_the_gone_ones(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    profile = profile_for(shops, "html")
    [empty] = crawl(crawl_settings, [profile], recheck=True, store=store)
    assert empty.stats["note"] == "no known listings"  # nothing known: no discovery either
    assert not _listings(store)
    crawl(crawl_settings, [profile], queries=[], store=store)
    shops.set_day(2)
    [result] = crawl(crawl_settings, [profile], recheck=True, store=store)
    assert result.status == "finished"
    on_day_2 = {item.item_id for item in live_listings("html", day=2)}
    listings = _listings(store)
    gone = {mid for mid, listing in listings.items() if listing.gone_at is not None}
    assert gone == set(listings) - on_day_2
    assert gone, "the demo removes listings on day 2"
    assert result.stats["pages"] >= len(listings)  # every known listing was fetched again
    # day 2's new listings are not found by a re-check: it visits only what is known
    assert not (on_day_2 - set(listings)) & set(listings)


def test_retry_after_is_honoured(shops: ShopsHandle, crawl_settings: Settings, store: Store) -> None:
    limited = shops.faults["api"]["rate_limited"]
    url = shops.api_item_url(limited)
    [result] = crawl(crawl_settings, [profile_for(shops, "api")], urls=[url], store=store)
    assert result.stats["status_counts"]["429"] == 1
    assert result.stats["retry_after_honoured"] == 1
    assert limited in _listings(store)
