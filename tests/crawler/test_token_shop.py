"""The token demo shop crawled end to end through real Chromium: its pages compute their own token and
fetch their JSON; tisiwatch reads what the pages fetched ([capture]), finds every listing, judges
their violations and marks removed ones gone, though they still answer 200."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from config import Settings, load_settings
from crawler.profile import load_profile
from crawler.runner import crawl
from demo.handler import ShopServer
from demo.server import ShopsHandle
from demo.tokenshop import TokenShop
from demo.world import DemoState
from demo.writer import write_registers
from matchers.match import match_pending
from matchers.register import ensure_default_register, import_register
from store.db import Store
from store.evidence import verify_payload
from store.models import CrawlFailure, Listing, Observation, Verdict
from tests.crawler.conftest import SEED, SIZE, live_listings, profile_for

pytestmark = pytest.mark.browser


def test_the_token_shop_is_crawled_from_the_json_its_pages_fetch(
    shops: ShopsHandle, crawl_settings: Settings, store: Store, tmp_path: Path
) -> None:
    profile = profile_for(shops, "token")
    [result] = crawl(crawl_settings, [profile], queries=[], store=store)
    assert result.status == "finished", result.stats
    expected = {item.item_id: item for item in live_listings("token")}
    assert len(expected) > 20, "more than one page of results: paging by the captured total"
    with store.session() as session:
        observations = {
            o.listing.marketplace_id: o for o in session.scalars(select(Observation).join(Listing))
        }
        assert set(observations) == set(expected)  # the ghost linked by the search answers 404: not stored
        for mid, observation in observations.items():
            item = expected[mid]
            assert (observation.title, observation.seller_name) == (item.title, item.seller_name)
            assert str(observation.price) == item.price  # scaled by 100,000 in the JSON
            assert observation.spec == item.spec
            [ref] = observation.raw["captured"]
            assert verify_payload(
                crawl_settings.data_dir, ref["warc_file"], ref["warc_offset"], ref["payload_sha256"]
            )

    ensure_default_register(store)
    registers = write_registers(tmp_path / "registers", seed=SEED, size=SIZE)
    for kind in ("licences", "unsafe"):
        import_register(store, registers[kind], kind=kind)
    match_pending(store, crawl_settings)
    with store.session() as session:
        verdicts = {v.listing.marketplace_id: v.verdict for v in session.scalars(select(Verdict))}
    violations = [
        item for item in expected.values() if item.expected_verdict in ("no_licence_shown", "invalid_licence")
    ]
    assert violations
    assert {verdicts[item.item_id] for item in violations} <= {"no_licence_shown", "invalid_licence"}
    assert sum(verdicts[item.item_id] == item.expected_verdict for item in expected.values()) >= 0.9 * len(
        expected
    )

    shops.set_day(2)
    [again] = crawl(crawl_settings, [profile], recheck=True, store=store)
    removed = {mid for mid in expected if not any(i.item_id == mid for i in live_listings("token", day=2))}
    assert removed, "the demo removes listings on day 2"
    with store.session() as session:
        gone = {listing.marketplace_id for listing in session.scalars(select(Listing)) if listing.gone_at}
    assert gone == removed  # each answered 200 with "product not found" in its JSON
    assert again.stats["gone"] == len(removed)


def test_past_its_burst_the_token_shop_challenges_and_the_crawl_stops_blocked(
    tmp_path: Path, store: Store
) -> None:
    """Past ``burst`` requests the shop sends every page to ``/verify`` (``#challenge``) for a long
    cooldown: Chromium lands there, the profile's ``[blocked_when]`` knows it, the crawl slows down and
    then stops ``blocked`` — no challenge is stored as a listing nor recorded as a failed URL."""
    shop = TokenShop(DemoState(SEED, SIZE, 1, faults=False), burst=10, window_s=60, cooldown_s=600)
    server = ShopServer(("127.0.0.1", 0), shop)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    settings = load_settings(
        overrides={"data_dir": str(tmp_path), "crawl": {"retries": 2, "images": False, "block_max_delay_s": 0.2,
                                                        "block_give_up_s": 0.5}},
        environ={},
    )  # fmt: skip
    try:
        profile = load_profile("demo-token").with_base_url(server.base_url)
        [result] = crawl(settings, [profile], queries=[], store=store)
    finally:
        server.shutdown()
        server.server_close()
    assert result.status == "blocked", result.stats
    assert result.stats["reason"].startswith("the site blocked the crawl: challenge page"), result.stats[
        "reason"
    ]
    assert result.stats["blocked"]["left"] >= 1
    expected = {item.item_id: item for item in live_listings("token")}
    with store.session() as session:
        assert not list(session.scalars(select(CrawlFailure)))  # challenged pages are left, not failed
        stored = {
            o.listing.marketplace_id: o.title for o in session.scalars(select(Observation).join(Listing))
        }
    assert len(stored) < len(expected)
    assert all(title == expected[mid].title for mid, title in stored.items())  # never the challenge page
