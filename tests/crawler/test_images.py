"""Product images fetched by the crawl as evidence: WARC records with their SHA-256, under the same
politeness as pages (robots.txt, allowed domains, size limit), and a failed image never fails its listing."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select

from config import Settings
from crawler.runner import crawl
from demo.label import label_png
from demo.page import PRODUCT_IMAGE
from demo.server import ShopsHandle
from store.db import Store
from store.evidence import parse_record, read_record
from store.models import Listing, Observation
from tests.crawler.conftest import live_listings, page_profile, profile_for
from tests.crawler.pageserver import PageServer, product_page

PNG = PRODUCT_IMAGE


def _observations(store: Store) -> dict[str, Observation]:
    with store.session() as session:
        rows = session.execute(select(Listing.marketplace_id, Observation).join(Listing)).all()
        return {marketplace_id: observation for marketplace_id, observation in rows}


def _record(data_dir: Path, entry: dict[str, Any]) -> tuple[Any, bytes]:
    return parse_record(read_record(data_dir, entry["warc_file"], entry["warc_offset"]))


def test_a_demo_crawl_keeps_each_listings_images_as_warc_records_with_their_sha256(
    shops: ShopsHandle, crawl_settings: Settings, store: Store
) -> None:
    [result] = crawl(crawl_settings, [profile_for(shops, "html")], queries=[], store=store)
    assert result.status == "finished"
    observations = _observations(store)
    truth = {item.item_id: item for item in live_listings("html")}
    assert set(observations) == set(truth)
    fetched = 0
    for item_id, observation in observations.items():
        item = truth[item_id]
        entries = observation.image_evidence
        assert entries is not None, item_id
        assert [entry["url"] for entry in entries] == observation.images[:3]  # crawl.max_images
        for entry in entries:
            assert "error" not in entry, entry
            headers, payload = _record(crawl_settings.data_dir, entry)
            assert headers.get_header("WARC-Type") == "response"
            assert headers.get_header("WARC-Target-URI") == entry["url"]
            assert headers.get_header("WARC-Record-ID") == entry["record_id"]
            assert hashlib.sha256(payload).hexdigest() == entry["payload_sha256"]
            # the bytes the shop served: its product label where it has one, else the grey picture
            label = item.label is not None and entry["url"].endswith("/label.png")
            served = label_png(item.label, item.brand, item.model) if label and item.label else PNG
            assert entry["payload_sha256"] == hashlib.sha256(served).hexdigest()
            fetched += 1
    # images are not pages: the run's pages are the listing and result pages alone
    assert result.stats["images"]["fetched"] == fetched > len(observations)
    assert result.stats["pages"] < fetched


def test_robots_txt_keeps_an_image_from_being_fetched_and_failed_images_never_fail_the_listing(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    page_server.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    page_server.serve("/img/ok.png", PNG, content_type="image/png")
    page_server.serve("/private/secret.png", PNG, content_type="image/png")
    page_server.serve("/img/big.png", PNG * 40, content_type="image/png")
    offsite = page_server.url("/img/ok.png").replace("127.0.0.1", "localhost")
    images = ["/img/ok.png", "/private/secret.png", "/img/missing.png", "/img/big.png", offsite]
    page_server.serve(
        "/product/p1",
        product_page({"name": "ปลั๊กพ่วง", "sku": "p1", "image": images}),
    )
    settings = crawl_settings.model_copy(
        update={"crawl": crawl_settings.crawl.model_copy(update={"max_images": 5, "image_max_bytes": 2048})}
    )
    [result] = crawl(settings, [page_profile(page_server, ["/product/p1"])], queries=[], store=store)

    assert result.status == "finished"
    assert result.stats["items"] == 1
    assert "/private/secret.png" not in page_server.requested  # robots.txt forbids it
    assert page_server.requested.count("/img/ok.png") == 1  # the offsite copy is never asked for
    entries = {entry["url"]: entry for entry in _observations(store)["p1"].image_evidence or []}
    assert list(entries) == [page_server.url(path) for path in images[:4]] + [offsite]
    ok = entries[page_server.url("/img/ok.png")]
    assert hashlib.sha256(_record(settings.data_dir, ok)[1]).hexdigest() == ok["payload_sha256"]
    assert ok["payload_sha256"] == hashlib.sha256(PNG).hexdigest()
    secret = entries[page_server.url("/private/secret.png")]
    assert (secret["kind"], "warc_file" in secret) == ("robots", False)
    assert "robots.txt" in secret["error"]
    missing = entries[page_server.url("/img/missing.png")]
    assert (missing["error"], missing["status"]) == ("HTTP 404", 404)
    assert entries[page_server.url("/img/big.png")]["kind"] == "cancelled"  # over image_max_bytes
    assert "offsite" in entries[offsite]["error"]
    assert result.stats["images"]["fetched"] == 1
    assert result.stats["failed_urls"] == 0  # the listing's failed images are not failed URLs


def test_with_images_off_none_are_fetched(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    page_server.serve("/img/ok.png", PNG, content_type="image/png")
    page_server.serve("/product/p1", product_page({"name": "ปลั๊กพ่วง", "sku": "p1", "image": ["/img/ok.png"]}))
    settings = crawl_settings.model_copy(
        update={"crawl": crawl_settings.crawl.model_copy(update={"images": False})}
    )
    crawl(settings, [page_profile(page_server, ["/product/p1"])], queries=[], store=store)
    observation = _observations(store)["p1"]
    assert observation.images == [page_server.url("/img/ok.png")]
    assert observation.image_evidence is None
    assert "/img/ok.png" not in page_server.requested


def test_the_demo_label_is_among_the_shops_images() -> None:
    """The demo shops serve each pictured listing's label: the crawl tests above rely on it."""
    pictured = [x for x in live_listings("html") if x.label is not None]
    assert pictured
    assert all(x.label is not None and x.label.path in x.images[:3] for x in pictured)
