"""Removed listings that answer 200: each form of the profile's ``gone_when`` rule, and crawls through a
local HTTP server that store listings with fields from embedded state and mark removed ones gone,
exactly as a 404 does."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from parsel import Selector
from sqlalchemy import select

from config import Settings
from crawler.profile import GoneWhen, ProfileError, SiteProfile, parse_profile
from crawler.removal import removed_by_json, removed_page
from crawler.runner import crawl
from store.db import Store
from store.models import Listing, Observation
from tests.crawler.pageserver import PageServer

REMOVED_NOTICE = "สินค้านี้ถูกลบแล้ว"


def _page(body: str) -> Selector:
    return Selector(
        f"<html><head><script>var t = '{REMOVED_NOTICE}';</script></head><body>{body}</body></html>"
    )


@pytest.mark.parametrize(
    ("body", "state", "rule", "removed"),
    [
        ('<div class="removed-notice">x</div>', None, GoneWhen(selector=".removed-notice"), True),
        ('<div class="notice">x</div>', None, GoneWhen(selector=".removed-notice"), False),
        ("<h1>ขออภัย</h1>", None, GoneWhen(selector="xpath://h1[contains(., 'ขออภัย')]"), True),
        (f"<p>ขออภัย  {REMOVED_NOTICE}\n กรุณาค้นหาใหม่</p>", None, GoneWhen(text=REMOVED_NOTICE), True),
        ("<p>ขออภัย</p>", None, GoneWhen(text=REMOVED_NOTICE), False),  # in a script only: not shown
        ("<h1>x</h1>", {"product": {"status": "deleted"}}, GoneWhen(path="product.status", equals="deleted"), True),
        ("<h1>x</h1>", {"product": {"status": "active"}}, GoneWhen(path="product.status", equals="deleted"), False),
        ("<h1>x</h1>", None, GoneWhen(path="product.status", equals="deleted"), False),  # no state read
        ("<h1>x</h1>", {"product": {"removedAt": "2026-01-02"}}, GoneWhen(path="product.removedAt"), True),
        ("<h1>x</h1>", {"product": {"removedAt": None}}, GoneWhen(path="product.removedAt"), False),
    ],
)  # fmt: skip
def test_gone_when_reads_the_page(body: str, state: Any, rule: GoneWhen, removed: bool) -> None:
    assert bool(removed_page(_page(body), rule, state)) is removed


@pytest.mark.parametrize(
    ("item", "rule", "removed"),
    [
        ({"status": "deleted"}, GoneWhen(path="status", equals="deleted"), True),
        ({"status": "on_sale"}, GoneWhen(path="status", equals="deleted"), False),
        ({"flags": [{"deleted": True}]}, GoneWhen(path="flags.0.deleted", equals=True), True),
        ({"flags": [{"deleted": 1}]}, GoneWhen(path="flags.0.deleted", equals=True), False),  # 1 is not true
        ({"flags": [{"deleted": True}]}, GoneWhen(path="flags.0.deleted", equals=1), False),
        ({"stock": 0}, GoneWhen(path="stock", equals=0), True),
        ({"stock": 0}, GoneWhen(path="stock", equals="0"), False),
        ({"deleted_at": "2026-01-02"}, GoneWhen(path="deleted_at"), True),
        ({}, GoneWhen(path="deleted_at"), False),
    ],
)
def test_gone_when_reads_json(item: dict[str, Any], rule: GoneWhen, removed: bool) -> None:
    assert bool(removed_by_json(item, rule)) is removed


HTML = 'kind = "html"\nbase_url = "https://shop.example"\n[discovery]\nurls = ["/p/1"]\n'
API = 'kind = "api"\nbase_url = "https://api.example"\n[discovery]\nurls = ["/items/1"]\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HTML + "[gone_when]\n", "myshop: gone_when: Value error, needs selector, text or path"),
        (HTML + '[gone_when]\ntext = "x"\nequals = 1\n', "myshop: gone_when: Value error, equals needs path"),
        (HTML + '[gone_when]\npath = "a..b"\n', "myshop: gone_when.path: Value error, 'a..b' is not a dotted path"),
        (HTML + '[gone_when]\npath = "status"\n', "gone_when.path: reads embedded state, but the profile has no"),
        (HTML + '[gone_when]\nstatus = "x"\n', "myshop: gone_when.status: unknown key"),
        (API + '[gone_when]\nselector = ".removed"\n', "gone_when: an api profile can use only path"),
    ],
)  # fmt: skip
def test_gone_when_keys_that_do_not_fit_are_refused(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as error:
        parse_profile(text, "myshop")
    assert message in str(error.value)


def _state_page(product: dict[str, Any], body: str = "<h1>สินค้า</h1>") -> str:
    state = json.dumps({"product": product}, ensure_ascii=False).replace("</", "<\\/")
    return (
        f"<html><head><script>window.__INITIAL_STATE__ = {state};\nwindow.boot();</script></head>"
        f"<body>{body}</body></html>"
    )


def _product(mid: str) -> dict[str, Any]:
    return {
        "id": mid,
        "status": "active",
        "name": f"พัดลม {mid}",
        "price": {"amount": "1290.00"},
        "sellers": [{"name": "ร้านดี"}],
    }


def _state_profile(server: PageServer, targets: list[str], kind: str = "html") -> SiteProfile:
    return SiteProfile.model_validate(
        {
            "name": "statepages",
            "kind": kind,
            "base_url": server.base_url,
            "discovery": {"urls": targets, "id_from_url": "/product/([^/?#]+)$"},
            "state": {"variable": "window.__INITIAL_STATE__"},
            "fields": {
                "title": "state:product.name",
                "price": "state:product.price.amount",
                "seller_name": "state:product.sellers.0.name",
            },
            "gone_when": {
                "selector": ".removed-notice",
                "text": REMOVED_NOTICE,
                "path": "product.status",
                "equals": "deleted",
            },
            "browser": {"wait_for": "h1"},
        }
    )


def _stored(store: Store) -> dict[str, tuple[Listing, Observation]]:
    """Each listing with its latest observation."""
    with store.session() as session:
        latest: dict[str, tuple[Listing, Observation]] = {}
        for observation in session.scalars(select(Observation).join(Listing).order_by(Observation.id)):
            latest[observation.listing.marketplace_id] = (observation.listing, observation)
        return latest


@pytest.mark.parametrize("kind", ["html", pytest.param("browser", marks=pytest.mark.browser)])
def test_a_crawl_reads_state_and_marks_listings_removed_by_gone_when(
    kind: str, page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    ids = ["a", "b", "c", "d", "broken"]
    for mid in ids[:4]:
        page_server.serve(f"/product/{mid}", _state_page(_product(mid)))
    json_ld = '<script type="application/ld+json">{"@type": "Product", "name": "from JSON-LD"}</script>'
    broken = _state_page(_product("broken"), "<h1>x</h1>" + json_ld).replace("= {", "= {{{")
    page_server.serve("/product/broken", broken)
    profile = _state_profile(page_server, [f"/product/{mid}" for mid in ids], kind)
    [first] = crawl(crawl_settings, [profile], queries=[], store=store)
    assert first.status == "finished"
    stored = _stored(store)
    assert set(stored) == set(ids)
    listing, observation = stored["a"]
    assert (listing.title, observation.price, observation.seller_name) == (
        "พัดลม a",
        Decimal("1290.00"),
        "ร้านดี",
    )
    assert listing.gone_at is None
    missed = stored["broken"][1]  # stored with schema.org's title; its state fields missed, with the reason
    assert (missed.title, missed.price, missed.seller_name) == ("from JSON-LD", None, None)
    assert "not a readable object" in missed.raw["state_error"]

    # b, c and d are removed, each page saying so in another way, all still answering 200
    page_server.serve("/product/b", _state_page({**_product("b"), "status": "deleted"}))
    page_server.serve("/product/c", _state_page(_product("c"), f"<h1>ขออภัย</h1><p>{REMOVED_NOTICE}</p>"))
    page_server.serve(
        "/product/d", _state_page(_product("d"), '<h1>x</h1><div class="removed-notice"></div>')
    )
    [again] = crawl(crawl_settings, [profile], recheck=True, store=store)
    assert again.stats["gone"] == 3, again.stats
    stored = _stored(store)
    assert {mid for mid, (listing, _) in stored.items() if listing.gone_at is not None} == {"b", "c", "d"}
    listing, observation = stored["b"]
    assert (observation.gone, observation.http_status) == (True, 200)
    assert listing.title == "พัดลม b"  # what was known is kept, as for a 404


def test_an_api_item_that_says_it_was_deleted_is_gone(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    item = {"id": "X1", "title": "ปลั๊กพ่วง", "deleted": False}
    page_server.serve("/api/items/X1", json.dumps(item, ensure_ascii=False), content_type="application/json")
    profile = SiteProfile.model_validate(
        {
            "name": "apipages",
            "kind": "api",
            "base_url": page_server.base_url,
            "discovery": {"urls": ["/api/items/X1"], "id_from_url": "/api/items/([^/?#]+)$"},
            "fields": {"marketplace_id": "id", "title": "title"},
            "gone_when": {"path": "deleted", "equals": True},
        }
    )
    crawl(crawl_settings, [profile], queries=[], store=store)
    listing, _ = _stored(store)["X1"]
    assert (listing.title, listing.gone_at) == ("ปลั๊กพ่วง", None)
    page_server.serve("/api/items/X1", json.dumps({**item, "deleted": True}), content_type="application/json")
    [again] = crawl(crawl_settings, [profile], recheck=True, store=store)
    assert again.stats["gone"] == 1, again.stats
    listing, observation = _stored(store)["X1"]
    assert listing.gone_at is not None
    assert observation.gone
