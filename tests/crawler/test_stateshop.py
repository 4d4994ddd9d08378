"""The embedded-state demo shop crawled end to end: its shipped html profile, and the same rules through
a browser profile in Chromium (the state rules read the rendered page just as the served one)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from config import Settings
from crawler.profile import SiteProfile
from crawler.runner import crawl
from demo.server import ShopsHandle
from demo.stateshop import price_state
from store.db import Store
from store.models import CrawlFailure, Listing, Observation
from tests.crawler.conftest import live_listings, profile_for


def _observations(store: Store) -> dict[str, Observation]:
    """The latest observation of each listing, by marketplace id."""
    with store.session() as session:
        rows = session.scalars(select(Observation).join(Listing).order_by(Observation.id))
        return {row.listing.marketplace_id: row for row in rows}


def _check_fields(store: Store, shops: ShopsHandle) -> None:
    expected = {item.item_id: item for item in live_listings("state")}
    seen = _observations(store)
    assert set(seen) == set(expected)
    ranges = 0
    for item_id, item in expected.items():
        observation = seen[item_id]
        assert observation.title == item.title
        assert observation.description == " ".join(item.description.split())  # spaces collapsed
        assert (observation.brand, observation.model) == (item.brand, item.model)
        assert observation.price == Decimal(item.price)  # 129000000 ÷ 100000, or a range's lowest
        assert observation.currency == "THB"
        assert observation.spec == item.spec  # from dl.specs
        assert (observation.seller_name, observation.seller_id) == (item.seller_name, item.seller_id)
        assert observation.images == [shops.urls["state"] + image for image in item.images]
        if isinstance(price_state(item), dict):
            ranges += 1
            high = Decimal(item.price) + 200
            assert observation.raw["price_range"] == {"low": item.price, "high": f"{high:.2f}"}
    assert ranges, "the demo shows some prices as ranges"


def test_state_shop_every_listing_with_fields_from_the_embedded_state(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    [result] = crawl(crawl_settings, [profile_for(shops, "state")], queries=[], store=store)
    assert result.status == "finished"
    _check_fields(store, shops)
    assert result.stats["coverage"]["title"] == 1.0
    with store.session() as session:
        [ghost] = session.scalars(select(CrawlFailure))
    assert ghost.url.endswith(f"i{shops.faults['state']['missing']}.html")
    assert ghost.http_status == 404


def test_state_shop_search_finds_what_the_shop_finds(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    [result] = crawl(crawl_settings, [profile_for(shops, "state")], queries=["มอก"], store=store)
    assert result.status == "finished"
    found = {item.item_id for item in live_listings("state") if "มอก" in f"{item.title}\n{item.description}"}
    assert found
    assert set(_observations(store)) == found


def test_a_removed_listing_answers_200_and_is_gone_on_recheck(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    profile = profile_for(shops, "state")
    crawl(crawl_settings, [profile], queries=[], store=store)
    shops.set_day(2)
    [result] = crawl(crawl_settings, [profile], recheck=True, store=store)
    assert result.status == "finished"
    on_day_2 = {item.item_id for item in live_listings("state", day=2)}
    with store.session() as session:
        listings = {row.marketplace_id: row for row in session.scalars(select(Listing))}
        gone = {mid for mid, row in listings.items() if row.gone_at is not None}
        assert gone
        assert gone == set(listings) - on_day_2
        last = session.scalars(
            select(Observation)
            .join(Listing)
            .where(Listing.marketplace_id == min(gone))
            .order_by(Observation.id)
        ).all()[-1]
        assert (last.gone, last.http_status) == (True, 200)


def browser_variant(profile: SiteProfile) -> SiteProfile:
    """The shipped html profile as a browser profile: same state rules, pages rendered in Chromium."""
    data = profile.model_dump()
    data.update(kind="browser", browser={"wait_for": "#pdp, .item-not-found", "timeout_s": 20})
    return SiteProfile.model_validate(data)


@pytest.mark.browser
def test_state_shop_through_a_browser_profile(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    profile = browser_variant(profile_for(shops, "state"))
    [result] = crawl(crawl_settings, [profile], queries=[], store=store)
    assert result.status == "finished"
    _check_fields(store, shops)
