"""The daily crawl of a site without a budget re-checks, before its discovery, every listing whose case
was sent to ETDA and is open, so that a takedown is seen the day it happens; an analyst's crawl does not."""

from __future__ import annotations

from sqlalchemy import select

from config import Settings
from core.decisions import TAKEN_DOWN
from crawler.runner import crawl
from store.db import Store
from store.models import CaseSend, Listing
from store.takedowns import record_sends, update_sends
from tests.crawler.conftest import page_profile
from tests.crawler.pageserver import PageServer, product_page


def test_the_daily_crawl_rechecks_sent_listings_and_sees_them_gone(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    page_server.serve("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    for mid, name in (("A", "ปลั๊กพ่วง 4 ช่อง"), ("B", "พาวเวอร์แบงค์ 10000mAh")):
        page_server.serve(f"/product/{mid}", product_page({"name": name}))
    [first] = crawl(
        crawl_settings, [page_profile(page_server, ["/product/A", "/product/B"])], queries=[], store=store
    )
    assert first.status == "finished"
    with store.session() as session:
        sent = session.scalars(select(Listing).where(Listing.marketplace_id == "A")).one()
        record_sends(session, {sent.id: "c-a"}, "cases.zip")
    del page_server.pages["/product/A"]  # ETDA had it taken down; the shop no longer links to it
    later = page_profile(page_server, ["/product/B"])

    page_server.requested.clear()
    [analyst] = crawl(crawl_settings, [later], queries=[], store=store)  # not the daily crawl
    assert analyst.status == "finished"
    assert "/product/A" not in page_server.requested

    page_server.requested.clear()
    [daily] = crawl(crawl_settings, [later], queries=[], store=store, planned=True)  # no budget set
    assert daily.status == "finished"
    assert daily.stats.get("gone") == 1, daily.stats
    fetched = [target for target in page_server.requested if target != "/robots.txt"]
    assert fetched[0] == "/product/A"
    assert "/product/B" in fetched
    with store.session() as session:
        assert session.scalars(select(Listing.gone_at).where(Listing.marketplace_id == "A")).one() is not None
        update = update_sends(session, 7)
        assert update.taken_down == 1
        assert session.scalars(select(CaseSend.status)).one() == TAKEN_DOWN
