"""The sellers pages: one row per seller across sites and days, repeat offenders first; one seller's
listings with their verdicts and decisions; hostile names escaped."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.testclient import TestClient

from config import Settings
from core.sellers import seller_key
from store.db import Store
from tests.reports.report_builders import DAY1, World, bkk
from tests.web.conftest import sign_in
from tests.web.listing_world import KEY, build

HOSTILE_SELLER = '<img src=x onerror="alert(1)">ร้าน'


def hostile_seller(store: Store) -> None:
    with store.session() as session:
        world = World(session)
        for number in range(3):
            listing = world.listing(
                f"h{number}", site="shop-c", seller=HOSTILE_SELLER, title=f"<b>{number}</b>"
            )
            world.observe(listing, bkk(DAY1), "unsafe" if number else "licensed")


def test_repeat_offenders_come_first(client: TestClient, sqlite_store: Store, web_settings: Settings) -> None:
    build(sqlite_store, web_settings.data_dir, officer="officer")
    hostile_seller(sqlite_store)
    sign_in(client, "viewer")
    answer = client.get("/sellers")
    assert answer.status_code == 200
    html = answer.text
    links = [
        f'href="/seller?key={quote(seller_key(name), safe="/")}"'
        for name in ("ร้านดี", HOSTILE_SELLER, "ร้านอื่น")
    ]
    positions = [html.index(link) for link in links]
    assert positions == sorted(positions)  # 2 violating listings on 2 days, 2 on 1 day, none
    assert HOSTILE_SELLER not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;ร้าน" in html
    assert "shop-a, shop-b" in html
    assert "confirmed 1" in html
    assert client.get("/sellers?page=99").status_code == 200


def test_one_sellers_listings_across_sites(
    client: TestClient, sqlite_store: Store, web_settings: Settings
) -> None:
    built = build(sqlite_store, web_settings.data_dir, officer="officer")
    sign_in(client, "viewer")
    answer = client.get("/seller?key=" + quote(seller_key("ร้านดี"), safe=""))
    assert answer.status_code == 200
    html = answer.text
    assert f'href="/listing?key={quote(KEY, safe="/")}"' in html
    assert f'href="/listing?key={quote(built.other_key, safe="/")}"' in html
    assert "shop-a, shop-b" in html
    assert "ยืนยันว่าผิด" in html  # the standing decision of the first listing
    assert "2025-03-10" in html
    assert "2025-03-11" in html
    assert "<script>alert" not in html


def test_hostile_seller_page_is_escaped(client: TestClient, sqlite_store: Store) -> None:
    hostile_seller(sqlite_store)
    sign_in(client, "viewer")
    html = client.get("/seller?key=" + quote(seller_key(HOSTILE_SELLER), safe="")).text
    assert HOSTILE_SELLER not in html
    assert "<b>1</b>" not in html
    assert "&lt;b&gt;1&lt;/b&gt;" in html


def test_an_unknown_seller_is_not_found(client: TestClient, sqlite_store: Store) -> None:
    sign_in(client, "viewer")
    assert client.get("/seller?key=nobody").status_code == 404
    assert client.get("/seller").status_code == 404
    assert client.get("/seller?key=" + quote("' OR '1'='1", safe="")).status_code == 404
