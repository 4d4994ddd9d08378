"""Re-checks fetch each listing where it was seen: percent-encoded slugs stay as they were, and a
listing whose id came from schema.org ``sku`` is fetched at its own page, not at a made-up URL."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import func, select

from config import Settings
from crawler.profile import load_profile
from crawler.runner import crawl, recheck_urls
from store.db import Store
from store.models import Listing, Observation
from store.writer import Sighting, ensure_site, store_sightings
from tests.crawler.conftest import page_profile
from tests.crawler.pageserver import PageServer, product_page

THAI_SLUG = quote("พัดลมตั้งพื้น-16-นิ้ว")
"""The slug as it is on the wire (and so in the URL the id is read from): %E0%B8%9E…"""


def _listing(store: Store, marketplace_id: str) -> tuple[Listing, int]:
    with store.session() as session:
        listing = session.scalars(select(Listing).where(Listing.marketplace_id == marketplace_id)).one()
        seen = session.scalar(
            select(func.count()).select_from(Observation).where(Observation.listing_id == listing.id)
        )
        return listing, int(seen or 0)


def _recheck_twice(page_server: PageServer, target: str, settings: Settings, store: Store, mid: str) -> None:
    """Crawl the page, re-check it (still there), remove it, re-check again (gone)."""
    profile = page_profile(page_server, [target])
    [first] = crawl(settings, [profile], queries=[], store=store)
    assert first.status == "finished"
    listing, seen = _listing(store, mid)
    assert seen == 1
    assert listing.fetched_url == page_server.url(target)

    page_server.requested.clear()
    [again] = crawl(settings, [profile], recheck=True, store=store)
    assert again.status == "finished"
    assert [t for t in page_server.requested if t != "/robots.txt"] == [target]
    listing, seen = _listing(store, mid)
    assert (seen, listing.gone_at) == (2, None)

    del page_server.pages[target]
    [last] = crawl(settings, [profile], recheck=True, store=store)
    assert last.stats["gone"] == 1, last.stats
    listing, seen = _listing(store, mid)
    assert seen == 3
    assert listing.gone_at is not None


def test_a_listing_with_a_thai_slug_is_seen_again_and_marked_gone(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    target = f"/product/{THAI_SLUG}"
    page_server.serve(target, product_page({"name": "พัดลมตั้งพื้น 16 นิ้ว", "sku": "F-16"}))
    page_server.serve("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    _recheck_twice(page_server, target, crawl_settings, store, THAI_SLUG)


def test_a_listing_known_by_its_sku_is_rechecked_at_its_own_page(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    target = "/item/view?pid=77"  # no id in the URL: the id is the page's schema.org sku
    page_server.serve(target, product_page({"name": "ปลั๊กพ่วง 4 ช่อง", "sku": "PX-77"}))
    page_server.serve("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    _recheck_twice(page_server, target, crawl_settings, store, "PX-77")


def test_listings_stored_before_their_fetched_url_was_kept_are_rechecked_without_double_encoding(
    store: Store,
) -> None:
    profile = load_profile("demo-html").with_base_url("http://127.0.0.1:8701")
    with store.session() as session:
        site = ensure_site(session, profile.name, profile.kind, profile.base_url)
        store_sightings(
            session,
            site,
            None,
            [
                Sighting(THAI_SLUG, f"http://127.0.0.1:8701/product/{THAI_SLUG}", title="พัดลม"),
                Sighting("PX-77", "http://127.0.0.1:8701/item/view?pid=77", title="ปลั๊กพ่วง"),
            ],
        )
    urls = {mid: url for url, mid in recheck_urls(store, profile)}
    assert urls == {
        THAI_SLUG: f"http://127.0.0.1:8701/product/{THAI_SLUG}",  # not %25E0…
        "PX-77": "http://127.0.0.1:8701/item/view?pid=77",  # not /product/PX-77
    }
