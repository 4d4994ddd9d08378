"""Blocked, challenged and rate-limited sites: ``[blocked_when]``, the site-wide slowdown, status ``blocked``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Response
from sqlalchemy import select

from config import Settings, load_settings
from core.runstats import RunStats
from crawler.blocking import BlockedWhen, block_signal
from crawler.outcome import run_notes
from crawler.profile import ProfileError, SiteProfile, parse_profile
from crawler.runner import crawl
from crawler.scaleout import settle_run
from crawler.tally import closing
from crawler.throttle import Throttle
from demo.faults import FaultRates
from demo.server import start_shops
from store.db import Store
from store.models import CrawlFailure, CrawlRun, Listing
from store.writer import ensure_site, start_run
from tests.crawler.conftest import SEED, SIZE, live_listings, page_profile, profile_for
from tests.crawler.pageserver import Page, PageServer, product_page

PROFILE = """
kind = "html"
base_url = "https://shop.test"
[discovery]
urls = ["/p/1"]
"""


def test_a_blocked_when_rule_is_read_and_checked() -> None:
    profile = parse_profile(PROFILE + '[blocked_when]\nurl = "/verify"\nstatus = [403]\n', "shop")
    assert profile.blocked_when == BlockedWhen(url="/verify", status=[403])
    for rule, problem in [
        ("", "shop: blocked_when: Value error, needs url, selector, text or status"),
        ('url = "(unclosed"', "shop: blocked_when.url: Value error, '(unclosed' is not a regular expression"),
        ("status = [200]", "shop: blocked_when.status: Value error, a 2xx status cannot mean blocked"),
        ("status = [99]", "shop: blocked_when.status: Value error, 99 is not an HTTP status"),
        ('captcha = "x"', "shop: blocked_when.captcha: unknown key"),
    ]:
        with pytest.raises(ProfileError) as caught:
            parse_profile(PROFILE + f"[blocked_when]\n{rule}\n", "shop")
        assert str(caught.value).startswith(problem)


def _page(
    url: str, body: str = "<html><body><h1>Kettle</h1></body></html>", status: int = 200
) -> HtmlResponse:
    return HtmlResponse(url, status=status, body=body.encode(), encoding="utf-8")


RULE = BlockedWhen(url=r"/verify\b", selector="#captcha", text="ยืนยันว่าคุณไม่ใช่โปรแกรม", status=[403])


@pytest.mark.parametrize(
    ("response", "rule", "signal"),
    [
        (_page("https://shop.test/p/1"), RULE, None),
        (_page("https://shop.test/p/1", status=429), None, "HTTP 429"),  # always, rule or not
        (_page("https://shop.test/p/1", status=503), None, "HTTP 503"),
        (_page("https://shop.test/p/1", status=403), RULE, "HTTP 403"),
        (_page("https://shop.test/p/1", status=403), None, None),
        (
            _page("https://shop.test/verify?next=/p/1"),
            RULE,
            "challenge page https://shop.test/verify?next=/p/1",
        ),
        (
            _page("https://shop.test/p/1", '<div id="captcha"></div>'),
            RULE,
            "challenge page ('#captcha' found)",
        ),
        (_page("https://shop.test/p/1", "<p>ยืนยันว่าคุณ   ไม่ใช่โปรแกรม</p>"), RULE, None),  # words differ
        (_page("https://shop.test/p/1", "<p>ยืนยันว่าคุณไม่ใช่โปรแกรม</p>"), RULE, "challenge page ("),
        (_page("https://shop.test/p/1", "<script>'#captcha ยืนยันว่าคุณไม่ใช่โปรแกรม'</script>"), RULE, None),
        (
            Response("https://shop.test/p/1", status=302, headers={"Location": "/verify?next=/p/1"}),
            RULE,
            "redirect to challenge page https://shop.test/verify?next=/p/1",
        ),
        (Response("https://shop.test/p/1", status=302, headers={"Location": "/p/2"}), RULE, None),
    ],
)
def test_block_signals(response: Response, rule: BlockedWhen | None, signal: str | None) -> None:
    found = block_signal(response, rule)
    assert (found or "").startswith(signal or "")
    assert (found is None) == (signal is None)


def test_the_throttle_slows_down_per_round_recovers_slowly_and_gives_up_at_its_limit() -> None:
    throttle = Throttle(max_delay_s=1.0, give_up_s=5.0, concurrency_cap=8)
    for tenth in range(10):
        throttle.good(9.0 + tenth / 10)  # the site answered well 9 times in the last second
    # one 429 among good answers: the site waits its Retry-After, and goes on at the same pace
    assert not throttle.signal(now=10.0, sent_at=9.95, delay=0.01, wait=1.0)
    assert (throttle.floor, throttle.paused_until) == (0.0, 11.0)
    for _ in range(5):
        assert not throttle.signal(now=10.0, sent_at=9.95, delay=0.01, wait=1.0)
    # the 7th of the latest 10 answers: a round, from the pace the site just tolerated (9 a second)
    assert throttle.signal(now=10.0, sent_at=9.95, delay=0.01, wait=1.0)
    assert (round(throttle.too_fast, 3), round(throttle.floor, 3)) == (0.111, 0.144)
    assert (throttle.concurrency, throttle.paused_until) == (4, 11.0)
    # an answer to a request sent before the round began says nothing new: no second round
    assert not throttle.signal(now=10.05, sent_at=9.99, delay=0.144, wait=3.0)
    assert (round(throttle.floor, 3), throttle.paused_until) == (0.144, 13.05)
    for _ in range(10):
        throttle.good(12.0)
    assert throttle.concurrency == 5  # one more request at once per ten good answers
    assert (
        throttle.too_fast * 1.1 <= throttle.floor < 0.144
    )  # down a little, not below the pace that was too fast
    for _ in range(200):
        throttle.good(12.0)
    assert throttle.floor == pytest.approx(throttle.too_fast * 1.1)
    assert 0.1 < throttle.too_fast < 0.111  # which fades, slowly
    now = 20.0
    while throttle.floor < 1.0:  # a streak of signals with no good answer between them
        now += 1
        throttle.signal(now, now - 0.01, throttle.floor, None)
    reached = now
    assert not throttle.blocked(reached + 4.9)
    assert throttle.blocked(reached + 5.0)
    throttle.good(reached + 5.1)  # one good answer ends the streak
    assert not throttle.blocked(reached + 100)


def _settings(tmp_path: Path, **crawl: object) -> Settings:
    return load_settings(
        overrides={"data_dir": str(tmp_path), "crawl": {"retries": 2, "images": False, **crawl}}, environ={}
    )


@pytest.mark.parametrize("per_second", [10])
def test_a_rate_limited_shop_is_crawled_whole_at_its_pace(
    tmp_path: Path, store: Store, per_second: int
) -> None:
    """The shop answers 429 + Retry-After past N requests a second: the crawl slows down, and no page
    is dropped — every live listing is stored, as without the limit."""
    settings = _settings(tmp_path, block_request_rounds=50)
    with start_shops(seed=SEED, size=SIZE, day=1, rates=FaultRates(rate=0.0, rate_limit=per_second)) as shops:
        [result] = crawl(settings, [profile_for(shops, "html")], queries=[], store=store)
    assert result.status == "finished"
    assert result.stats["status_counts"]["429"] > 1  # the limit did strike, more than the one-time fault
    assert result.stats["throttle"]["rescheduled"] >= 1  # put back, not dropped
    assert result.stats["retry_after_honoured"] >= 1
    assert any(note.startswith("429/503 or block signals: ") for note in run_notes(result.stats, tmp_path))
    with store.session() as session:
        stored = set(session.scalars(select(Listing.marketplace_id)))
        failures = [f.url for f in session.scalars(select(CrawlFailure))]
    assert stored == {item.item_id for item in live_listings("html")}
    assert [url.rsplit("/", 1)[-1] for url in failures] == [shops.faults["html"]["missing"]]  # the 404 only


class ChallengeGate:
    """After ``burst`` product pages, every product page redirects to ``/verify`` (a 200 page that
    even carries a schema.org Product: it must never be stored) — until ``lifted``."""

    def __init__(self, burst: int) -> None:
        self.burst, self.served, self.lifted = burst, 0, False
        self.lock = threading.Lock()

    def __call__(self, target: str) -> Page | None:
        if target.startswith("/verify"):
            body = product_page({"sku": "verify", "name": "Verify"}, body='<div id="captcha">ยืนยัน</div>')
            return Page(body.encode())
        if not target.startswith("/product/"):
            return None
        with self.lock:
            self.served += 1
            if self.lifted or self.served <= self.burst:
                return None
        return Page(b"", 302, headers={"Location": f"/verify?next={target}"})


def test_a_challenged_crawl_stops_blocked_and_the_next_run_makes_the_requests_left(
    tmp_path: Path, store: Store, page_server: PageServer
) -> None:
    ids = [str(n) for n in range(1, 21)]
    for item in ids:
        page_server.serve(f"/product/{item}", product_page({"sku": item, "name": f"Kettle {item}"}))
    gate = ChallengeGate(burst=5)
    page_server.gate = gate
    profile = SiteProfile.model_validate(
        {
            **page_profile(page_server, [f"/product/{item}" for item in ids]).model_dump(),
            "blocked_when": {"url": "/verify"},
        }
    )
    settings = _settings(tmp_path, block_max_delay_s=0.2, block_give_up_s=0.5, concurrency_per_domain=2)
    [first] = crawl(settings, [profile], queries=[], store=store)
    assert first.status == "blocked"
    assert first.stats["reason"].startswith("the site blocked the crawl: redirect to challenge page")
    assert first.stats["blocked"]["left"] >= 1
    assert not any(target.startswith("/verify") for target in page_server.requested)  # never followed
    with store.session() as session:
        before = set(session.scalars(select(Listing.marketplace_id)))
        assert not list(session.scalars(select(CrawlFailure)))  # the pages not made are not failures
        assert "plan" in session.get_one(CrawlRun, first.run_id).stats  # kept, to be continued
    assert before
    assert before < set(ids)
    assert "verify" not in before

    gate.lifted = True
    fetched_before = len(page_server.requested)
    [second] = crawl(settings, [profile], queries=[], store=store)  # the next crawl, no --resume
    assert (second.run_id, second.status, second.resumed) == (first.run_id, "finished", True)
    with store.session() as session:
        assert set(session.scalars(select(Listing.marketplace_id))) == set(ids)
    again = [t for t in page_server.requested[fetched_before:] if t.startswith("/product/")]
    assert sorted(again, key=lambda t: int(t.rsplit("/", 1)[1])) == [
        f"/product/{i}" for i in ids if i not in before
    ]


def test_a_blocked_run_keeps_its_plan_and_says_why(store: Store) -> None:
    """One worker's finish reason ``blocked`` closes the run ``blocked``, with its plan (to be continued)
    and a one-line reason; with several workers, one blocked worker makes the run blocked."""
    entry = {"pages": 3, "items": 2, "final": True, "finish_reason": "blocked", "requests": 3,
             "blocked": {"left": 9, "for_s": 61.0, "delay_s": 60.0, "why": "HTTP 429"}}  # fmt: skip
    status, stats = closing({"plan": {"queries": ["x"]}, "workers": {"w0": entry}}, "blocked", "blocked")
    assert status == "blocked"
    assert stats["plan"] == {"queries": ["x"]}
    assert stats["reason"] == (
        "the site blocked the crawl: HTTP 429, for 61 s at one request per 60 s; 9 requests left for the next run"
    )
    assert RunStats.from_json(stats).blocked_note() == (
        "blocked after 1 min of block signals; 9 requests (75% of the plan) left for the next run"
    )
    with store.session() as session:
        site = ensure_site(session, "s", "html", "https://s.test")
        run = start_run(session, site)
        run.stats = {"plan": {"queries": ["x"]}, "workers": {"w0": {**entry, "finish_reason": "finished", "blocked": {}},
                                                              "w1": entry}}  # fmt: skip
        session.flush()
        assert settle_run(session, run.id, ["w0", "w1"]) == "blocked"
        assert run.stats["blocked"]["left"] == 9
        assert "plan" in run.stats
