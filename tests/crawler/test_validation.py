"""No listing is dropped without a trace: oversized fields are cut (and the cut recorded), an unusable
shown URL gives way to the page's URL, and what cannot be stored is a failed URL with its reason.
Log lines stay short, whatever a page holds."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from config import Settings
from crawler.items import Sighting
from crawler.limits import MAX_TITLE, fit, problem_with
from crawler.runner import crawl
from store.db import Store
from store.models import CrawlFailure, CrawlRun, Listing, Observation
from tests.crawler.conftest import page_profile
from tests.crawler.pageserver import PageServer, product_page

LONGEST_LOG_LINE = 2_000


def _long_lines(text: str) -> list[str]:
    return [line[:200] + "…" for line in text.splitlines() if len(line) > LONGEST_LOG_LINE]


def test_a_listing_with_a_huge_title_and_a_javascript_link_is_kept_and_logs_stay_short(
    page_server: PageServer, crawl_settings: Settings, store: Store, capfd: pytest.CaptureFixture[str]
) -> None:
    title = "ปลั๊กพ่วง มอก. " + "ก" * 400_000
    page_server.serve(
        "/product/big-1",
        product_page(
            {"name": title, "sku": "big-1", "offers": {"price": "199", "priceCurrency": "THB"}},
            head='<link rel="canonical" href="javascript:alert(1)">',
        ),
    )
    profile = page_profile(page_server, ["/product/big-1"], url="link[rel=canonical]::attr(href)")
    # DEBUG: Scrapy then logs every scraped item, the widest a log line can get
    verbose = crawl_settings.model_copy(update={"log_level": "DEBUG"})
    [result] = crawl(verbose, [profile], queries=[], store=store)

    assert result.status == "finished"
    assert result.stats["items"] == 1
    with store.session() as session:
        listing = session.scalars(select(Listing)).one()
        observation = session.scalars(select(Observation)).one()
        assert listing.url == page_server.url("/product/big-1")  # the page it was read from
        assert observation.url == listing.url
        assert len(observation.title) == MAX_TITLE
        assert observation.title == title[:MAX_TITLE]
        assert observation.raw["cut"] == {"title": len(title)}
        assert observation.raw["shown_url"] == {"url": "javascript:alert(1)", "problem": "not http(s)"}
        assert len(observation.raw["title"]) == MAX_TITLE  # raw holds the cut text, not 400 kB
        assert listing.title == observation.title
    assert _long_lines(capfd.readouterr().err) == []
    log = verbose.data_dir / "logs" / f"run-{result.run_id}-w0.log"
    assert "Scraped from" in log.read_text(encoding="utf-8")  # every item is logged at DEBUG …
    assert _long_lines(log.read_text(encoding="utf-8")) == []  # … named, not printed whole


def test_a_listing_whose_id_cannot_be_stored_is_a_failed_url_with_its_reason(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    page_server.serve("/item?pid=9", product_page({"name": "หมวกกันน็อค", "sku": "9" * 300}))
    page_server.serve("/item?pid=10", product_page({"name": "หม้อหุงข้าว", "sku": "rice-10"}))
    profile = page_profile(page_server, ["/item?pid=9", "/item?pid=10"])
    [result] = crawl(crawl_settings, [profile], queries=[], store=store)

    assert (result.stats["items"], result.stats["failed_urls"]) == (1, 1)
    with store.session() as session:
        [failure] = session.scalars(select(CrawlFailure))
        assert failure.url == page_server.url("/item?pid=9")
        assert "listing id longer than 200 characters" in failure.reason
        assert session.get_one(CrawlRun, result.run_id).status == "finished"


def test_oversized_fields_are_cut_and_the_cuts_recorded() -> None:
    spec = {f"แถว {n}": "x" * 6_000 for n in range(300)}
    sighting = Sighting(
        "p1",
        "http://shop.test/p1",
        title="t" * 25_000,
        description="d" * 10,
        seller_name="s" * 5_000,
        seller_id="i" * 500,
        currency="บาทไทยเต็มจำนวน",
        spec=spec,
        images=[f"http://shop.test/img/{n}.jpg" for n in range(150)],
        raw={"title": "t" * 25_000, "nested": {"deep": ["z" * 50_000]}},
        fetched_url="http://shop.test/p1",
    )
    fitted = fit(sighting)
    assert len(fitted.title) == MAX_TITLE
    assert fitted.description == "d" * 10
    assert len(fitted.seller_name or "") == 1_000
    assert len(fitted.seller_id or "") == 200  # the column's width: PostgreSQL refuses more
    assert len(fitted.currency or "") == 10
    assert len(fitted.spec) == 200
    assert all(len(value) <= 5_000 for value in fitted.spec.values())
    assert len(fitted.images) == 100
    assert fitted.raw["cut"] == {
        "title": 25_000,
        "seller_name": 5_000,
        "seller_id": 500,
        "currency": 15,
        "spec": sum(len(k) + len(v) for k, v in spec.items()),
        "images": 150,
    }
    assert len(fitted.raw["title"]) == MAX_TITLE
    assert len(fitted.raw["nested"]["deep"][0]) == 20_000


@pytest.mark.parametrize(
    ("sighting", "problem"),
    [
        (Sighting("p1", "http://shop.test/p1", title="ok"), None),
        (Sighting("p1", "http://shop.test/p1", gone=True), None),
        (Sighting("p1", "javascript:alert(1)", title="ok", fetched_url="http://shop.test/p1"), None),
        (Sighting("p1", "http://shop.test/p1", title="x" * 400_000), None),
        (Sighting("p1", "http://shop.test/p1", title="  "), "no title"),
        (Sighting("", "http://shop.test/p1", title="ok"), "no listing id"),
        (Sighting("p" * 201, "http://shop.test/p1", title="ok"), "listing id longer than 200 characters"),
        (Sighting("p1", "javascript:alert(1)", title="ok"), "no usable URL (not http(s))"),
    ],
)
def test_what_cannot_be_stored(sighting: Sighting, problem: str | None) -> None:
    assert problem_with(sighting) == problem


def test_an_unusable_shown_url_is_kept_cut_and_escaped_in_raw() -> None:
    shown = "javascript:\x1b[31m" + "a" * 5_000
    fitted = fit(Sighting("p1", shown, title="ok", fetched_url="http://shop.test/p1"))
    assert fitted.url == "http://shop.test/p1"
    kept = fitted.raw["shown_url"]
    assert kept["problem"] == "not http(s)"
    assert kept["url"].startswith("javascript:\\x1b[31m")
    assert len(kept["url"]) <= 500
