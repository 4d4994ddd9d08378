"""The page's own JSON (``[capture]``): profile validation, and crawls through real Chromium of pages
whose script computes a token and fetches its JSON with it; the JSON is read and kept as evidence."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from config import Settings
from crawler.profile import ProfileError, SiteProfile, parse_profile
from crawler.runner import crawl
from store.db import Store
from store.evidence import parse_record, read_record, verify_payload
from store.models import Listing, Observation
from tests.crawler.pageserver import PageServer

BROWSER = """
kind = "browser"
base_url = "https://shop.example"
[discovery]
urls = ["/p/1"]
listing_url = "/p/{id}"
[browser]
wait_for = "h1"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BROWSER.replace('"browser"', '"html"', 1) + '[capture]\nitem = "/api/item"\n',
         "capture: only a browser profile captures the JSON a page fetches, not html"),
        (BROWSER + '[capture]\nitem = "/api/(item"\n', "myshop: capture.item: Value error, not a regular expression"),
        (BROWSER + '[capture]\nsearch = "*x"\n', "myshop: capture.search: Value error, not a regular expression"),
        (BROWSER + "[capture]\nmax_bytes = 0\n", "myshop: capture.max_bytes: Input should be greater"),
        (BROWSER + '[capture]\nitem_path = "data"\n', "myshop: capture: Value error, needs item or search"),
        (BROWSER + '[capture]\nsearch = "/s"\nitem_path = "data"\n', "item_path needs item"),
        (BROWSER + '[capture]\nitem = "/i"\nitem_path = "a..b"\n', "capture.item_path: Value error, 'a..b' is not"),
        (BROWSER + '[capture]\nitem = "/i"\nheaders = "x"\n', "myshop: capture.headers: unknown key"),
        (BROWSER + '[fields]\ntitle = "capture:name"\n',
         "fields.title: reads captured JSON, but the profile has no [capture] item"),
        (BROWSER + '[capture]\nsearch = "/s"\n[fields]\ntitle = "capture:name"\n', "no [capture] item"),
        (BROWSER + '[capture]\nitem = "/i"\n[fields]\ntitle = "capture:a..b"\n',
         "fields.title: 'capture:a..b' is not a dotted path after 'capture:'"),
        (BROWSER + '[capture]\nsearch = "/s"\n', "discovery.items_path: capture.search needs the path"),
        (BROWSER.replace('"/p/{id}"', '"/p/"\nitems_path = "items"') + '[capture]\nsearch = "/s"\n',
         "discovery.listing_url: capture.search needs a listing URL template with {id} or dotted paths"),
        (BROWSER + '[gone_when]\npath = "error"\n', "gone_when.path: reads embedded state, but the profile has no"),
    ],
)  # fmt: skip
def test_capture_keys_that_do_not_fit_are_refused_naming_profile_and_key(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as error:
        parse_profile(text, "myshop")
    assert message in str(error.value)


def test_a_capture_profile_loads() -> None:
    text = BROWSER.replace("[browser]", 'items_path = "items"\n[browser]')
    text += '[capture]\nitem = "/api/item\\\\?"\nsearch = "/api/search"\nitem_path = "data"\n'
    text += '[fields]\nmarketplace_id = "capture:itemid"\n[gone_when]\npath = "error"\nequals = 4\n'
    profile = parse_profile(text, "myshop")
    assert profile.capture is not None
    assert (profile.capture.item, profile.capture.item_path, profile.capture.max_bytes) == (
        r"/api/item\?",
        "data",
        8 * 1024 * 1024,
    )


# The page's script: a token from the nonce in the page and the JSON's path (FNV-1a, 32 bits), computed
# in the page; the server (this test) answers only the exact URL with the right token.
TOKEN_JS = """
function token(nonce, path) {
  var h = 0x811c9dc5, s = "k3y|" + nonce + "|" + path;
  for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h.toString(16);
}
"""


def token(nonce: str, path: str) -> str:
    value = 0x811C9DC5
    for char in f"k3y|{nonce}|{path}":
        value = ((value ^ ord(char)) * 0x01000193) & 0xFFFFFFFF
    return f"{value:x}"


def shell(nonce: str, script: str) -> str:
    return (
        f'<html><body data-nonce="{nonce}"><main id="app"></main><script>{TOKEN_JS}'
        f"var nonce = document.body.dataset.nonce;{script}</script></body></html>"
    )


ITEM_JS = """
var id = location.pathname.split("/").pop(), path = "/api/item/" + id;
fetch(path + "?token=" + token(nonce, path)).then(function (r) { return r.json(); }).then(function (d) {
  var h = document.createElement("h1");
  h.textContent = d.data ? d.data.name : "not found"; document.getElementById("app").appendChild(h);
});
"""
SEARCH_JS = """
var q = new URLSearchParams(location.search), path = "/api/search";
fetch(path + "?q=" + q.get("q") + "&page=" + q.get("page") + "&token=" + token(nonce, path))
  .then(function (r) { return r.json(); }).then(function (d) {
    document.getElementById("app").textContent = d.total + " found";
  });
"""


def serve_item(server: PageServer, mid: str, answer: dict[str, Any]) -> None:
    nonce = f"n-{mid}"
    server.serve(f"/p/{mid}", shell(nonce, ITEM_JS))
    target = f"/api/item/{mid}?token={token(nonce, f'/api/item/{mid}')}"
    server.serve(target, json.dumps(answer, ensure_ascii=False), content_type="application/json")


def item(mid: str, name: str, price: int) -> dict[str, Any]:
    return {"error": 0, "data": {"itemid": mid, "name": name, "price": price, "shop": {"name": "ร้านดี"}}}


def capture_profile(server: PageServer, **discovery: Any) -> SiteProfile:
    return SiteProfile.model_validate(
        {
            "name": "tokenpages",
            "kind": "browser",
            "base_url": server.base_url,
            "discovery": {"listing_url": "/p/{id}", "id_from_url": "/p/([^/?#]+)$", **discovery},
            "browser": {"wait_for": "h1", "timeout_s": 10},
            "capture": {"item": r"/api/item/", "search": r"/api/search\?", "item_path": "data"},
            "fields": {
                "marketplace_id": "capture:itemid",
                "title": "capture:name",
                "price": "capture:price",
                "seller_name": "capture:shop.name",
            },
            "price_scale": 100,
            "currency": "THB",
            "gone_when": {"path": "error", "equals": 4},
        }
    )


def _latest(store: Store) -> dict[str, tuple[Listing, Observation]]:
    with store.session() as session:
        latest: dict[str, tuple[Listing, Observation]] = {}
        for observation in session.scalars(select(Observation).join(Listing).order_by(Observation.id)):
            latest[observation.listing.marketplace_id] = (observation.listing, observation)
        return latest


@pytest.mark.browser
def test_result_and_listing_pages_are_read_from_the_json_they_fetch_with_their_own_token(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    for page, ids in ((1, ["a1", "a2"]), (2, ["a3"])):
        nonce = f"s{page}"
        page_server.serve(f"/search?q=fan&page={page}", shell(nonce, SEARCH_JS))
        answer = {"total": 3, "items": [{"itemid": mid} for mid in ids]}
        target = f"/api/search?q=fan&page={page}&token={token(nonce, '/api/search')}"
        page_server.serve(target, json.dumps(answer), content_type="application/json")
    serve_item(page_server, "a1", item("a1", "พัดลม a1", 129000))
    serve_item(page_server, "a2", item("a2", "พัดลม a2", 259000))
    serve_item(page_server, "a3", item("a3", "พัดลม a3", 100))
    profile = capture_profile(
        page_server, search_url="/search?q={query}&page={page}", paging="page", page_size=2,
        items_path="items", item_id_path="itemid", total_path="total",
    )  # fmt: skip
    [result] = crawl(crawl_settings, [profile], queries=["fan"], store=store)
    assert result.status == "finished", result.stats
    stored = _latest(store)
    assert set(stored) == {"a1", "a2", "a3"}
    listing, observation = stored["a1"]
    assert (listing.title, observation.price, observation.currency, observation.seller_name) == (
        "พัดลม a1",
        Decimal("1290.00"),
        "THB",
        "ร้านดี",
    )
    assert not [t for t in page_server.requested if t.startswith("/api/") and "token=" not in t]

    # the page is kept as before, and the JSON it fetched beside it, findable from the raw data
    data_dir = crawl_settings.data_dir
    assert observation.warc_file
    assert observation.payload_sha256
    [ref] = observation.raw["captured"]
    assert ref["url"].startswith(page_server.url("/api/item/a1?token="))
    assert (ref["kind"], ref["status"], ref["warc_file"]) == ("item", 200, observation.warc_file)
    assert verify_payload(data_dir, ref["warc_file"], ref["warc_offset"], ref["payload_sha256"])
    headers, body = parse_record(read_record(data_dir, ref["warc_file"], ref["warc_offset"]))
    assert headers.get_header("WARC-Type") == "response"
    assert headers.get_header("WARC-Record-ID") == ref["warc_record_id"]
    assert headers.get_header("WARC-Target-URI") == ref["url"]
    assert json.loads(body) == item("a1", "พัดลม a1", 129000)
    with (data_dir / ref["warc_file"]).open("rb") as warc:  # the result pages' search JSON is kept too
        kept = {(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(warc)}
    searches = {url for kind, url in kept if kind == "response" and "/api/search?" in url}
    assert {url.split("&token=")[0] for url in searches} == {
        page_server.url("/api/search?q=fan&page=1"),
        page_server.url("/api/search?q=fan&page=2"),
    }

    # removed: the item JSON answers 200 with "product not found" — gone by gone_when.path
    serve_item(page_server, "a3", {"error": 4, "error_msg": "product not found", "data": None})
    [again] = crawl(crawl_settings, [profile], recheck=True, store=store)
    assert again.stats["gone"] == 1, again.stats
    assert {mid for mid, (listing, _) in _latest(store).items() if listing.gone_at is not None} == {"a3"}


@pytest.mark.browser
def test_a_page_whose_json_does_not_come_is_read_from_the_page_with_the_reason(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    page_server.serve("/p/x1", shell("n", 'document.getElementById("app").innerHTML = "<h1>static</h1>";'))
    serve_item(page_server, "big", item("big", "ใหญ่" * 50, 100))
    profile = capture_profile(page_server, urls=["/p/x1", "/p/big"], items_path="items")
    assert profile.capture is not None
    capture = profile.capture.model_copy(update={"max_bytes": 100})
    fields = {"title": "h1::text", "price": "capture:price"}  # the title from the page, which rendered
    profile = profile.model_copy(update={"capture": capture, "fields": fields})
    crawl(crawl_settings, [profile], queries=[], store=store)
    stored = _latest(store)
    assert set(stored) == {"x1", "big"}  # ids from the URL; the page rendered, so it is a sighting
    assert (stored["x1"][0].title, stored["x1"][1].price) == ("static", None)
    assert stored["x1"][1].raw["capture_error"] == "no item JSON captured"
    big = stored["big"][1].raw
    assert "over max_bytes 100" in big["capture_error"]
    assert big["captured"][0]["status"] == 200
    assert "payload_sha256" not in big["captured"][0]
