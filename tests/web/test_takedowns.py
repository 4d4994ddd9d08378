"""The takedown page: per site the median days and the share within two working days, and every sent
case with its status, each linking to its listing's page; scraped titles stay text."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from store.db import Store
from store.takedowns import record_sends, update_sends
from tests.reports.report_builders import World, bkk
from tests.web.conftest import sign_in

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def test_the_takedown_page_shows_figures_and_sent_cases(client: TestClient, sqlite_store: Store) -> None:
    sent_at = bkk(date(2026, 11, 23), 10)  # a Monday
    with sqlite_store.session() as session:
        world = World(session)
        gone = world.listing("a/b&c=1", title=HOSTILE)
        online = world.listing("2", site="shop-b")
        for listing in (gone, online):
            world.observe(listing, sent_at - timedelta(hours=1), "no_licence_shown")
        record_sends(
            session, {gone.id: "c-0000000000000001", online.id: "c-0000000000000002"}, "cases.zip", sent_at
        )
        world.observe(gone, sent_at + timedelta(days=1), gone=True)
        update_sends(session, 7, now=sent_at + timedelta(days=2))
    sign_in(client, "viewer")
    answer = client.get("/takedowns")
    assert answer.status_code == 200
    html = answer.text
    assert "การนำออก" in html
    assert "Takedowns" in html
    assert 'href="/listing?key=shop-a%3Aa/b%26c%3D1"' in html  # the key URL-encoded, & and = too
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html
    assert 'onerror="alert' not in html
    assert "นำออกแล้ว" in html
    assert "ส่งแล้ว" in html
    assert "1.0" in html  # shop-a's median days
    assert "100% (1/1)" in html  # shop-a: within two working days
    assert "c-0000000000000002" in html


def test_the_takedown_page_without_sends(client: TestClient) -> None:
    sign_in(client, "officer")
    answer = client.get("/takedowns")
    assert answer.status_code == 200
    assert "ยังไม่มีคดีที่ส่ง" in answer.text
