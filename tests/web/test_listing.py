"""The listing page: history, what changed, verdicts, the licence entry, the seller's other listings,
decisions and evidence with SHA-256 — and everything a marketplace wrote escaped."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient

from config import Settings
from store.db import Store
from store.models import Observation
from tests.web.conftest import sign_in
from tests.web.listing_world import HOSTILE, KEY, build
from web.listing import web_url


def url(key: str = KEY) -> str:
    return "/listing?key=" + quote(key, safe="")


def test_the_page_shows_the_history_and_its_evidence(
    client: TestClient, sqlite_store: Store, web_settings: Settings
) -> None:
    built = build(sqlite_store, web_settings.data_dir, officer="officer")
    sign_in(client, "viewer")
    answer = client.get(url())
    assert answer.status_code == 200, answer.text[:500]
    html = answer.text
    # hostile text from the marketplace is escaped everywhere (title, reasons, licensee, note)
    assert HOSTILE not in html
    assert "<script>alert" not in html
    assert 'onerror="' not in html
    assert '<img src="http://external.example' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "บริษัท &lt;b&gt;ทดสอบ&lt;/b&gt; จำกัด" in html
    assert "ขายต่อ &lt;i&gt;จริง&lt;/i&gt;" in html
    # every observation, what changed, and the evidence of each with its SHA-256
    for observation in built.observations:
        assert f'id="observation-{observation}"' in html
    assert 'ราคา <span class="en">price</span>' in html
    assert 'ใบอนุญาตที่แสดง <span class="en">licence shown</span>' in html
    for evidence in built.evidence:
        assert evidence["payload_sha256"] in html
    assert built.evidence[1]["screenshot_sha256"] in html
    assert f'<iframe class="replay" sandbox src="/evidence/{built.observations[1]}/page"' in html
    assert f'href="/evidence/{built.observations[1]}/image/1"' in html
    assert f'<img class="screenshot" src="/evidence/{built.observations[1]}/screenshot"' in html
    assert "HTTP 404" in html  # the image that could not be fetched
    assert "แสดงเลขที่ใบอนุญาต" in html  # the reason's feature, in words
    # the latest verdict is of the latest page that was not a removed one
    latest = html[html.index("Latest verdict") : html.index("Standing decision")]
    assert "Invalid licence" in latest
    assert "matches the record" in html
    # the licence register's entry, the seller's other listings, both decisions
    assert "revoked" in html
    assert "ACME" in html
    assert 'href="/listing?key=shop-b%3A9"' in html
    assert 'href="/seller?key=' in html
    assert html.count("ไม่ผิด (ยกเลิก)") >= 1
    assert "ยืนยันว่าผิด" in html
    # a viewer reads but does not decide
    assert 'action="/decisions"' not in html


def test_an_officer_gets_the_decision_buttons(
    client: TestClient, sqlite_store: Store, web_settings: Settings
) -> None:
    built = build(sqlite_store, web_settings.data_dir)
    csrf = sign_in(client, "officer")
    html = client.get(url()).text
    assert 'action="/decisions"' in html
    assert f'name="listing_id" value="{built.listing_id}"' in html
    assert f'name="csrf_token" value="{csrf}"' in html
    assert 'name="next" value="/listing?key=shop-a%3Ap/1%3Fx%3D1%26amp%3By%3D%3C2%3E"' not in html
    assert 'name="next" value="/listing?key=shop-a%3Ap/1%3Fx%3D1%26y%3D%3C2%3E"' in html
    for decision in ("confirmed", "dismissed", "needs_information"):
        assert f'name="decision" value="{decision}"' in html
    for reason in ("not_controlled", "licence_valid", "duplicate", "other"):
        assert f'<option value="{reason}">' in html


def test_a_page_whose_record_changed_says_so(
    client: TestClient, sqlite_store: Store, web_settings: Settings
) -> None:
    built = build(sqlite_store, web_settings.data_dir)
    with sqlite_store.session() as session:
        seen = session.get(Observation, built.observations[1])
        assert seen is not None
        seen.payload_sha256 = "0" * 64
    sign_in(client, "viewer")
    assert 'id="page-hash-warning"' in client.get(url()).text


def test_an_unknown_listing_is_not_found(
    client: TestClient, sqlite_store: Store, web_settings: Settings
) -> None:
    build(sqlite_store, web_settings.data_dir)
    sign_in(client, "viewer")
    assert client.get(url("shop-a:nope")).status_code == 404
    assert client.get("/listing").status_code == 404
    assert client.get(url("' OR 1=1 --")).status_code == 404


def test_a_listing_without_evidence_still_shows(
    client: TestClient, sqlite_store: Store, web_settings: Settings, tmp_path: Path
) -> None:
    from tests.reports.report_builders import DAY1, World, bkk

    with sqlite_store.session() as session:
        world = World(session)
        listing = world.listing("bare", title="\u202eเตารีด", seller=None)
        world.observe(listing, bkk(DAY1), "needs_review")
    sign_in(client, "viewer")
    answer = client.get(url("shop-a:bare"))
    assert answer.status_code == 200
    assert "No WARC record of this page was kept" in answer.text
    assert "<iframe" not in answer.text


def test_only_web_addresses_become_links() -> None:
    assert web_url("https://shop.test/p/1") == "https://shop.test/p/1"
    assert web_url("javascript:alert(1)") is None
    assert web_url(" JavaScript:alert(1)") is None
    assert web_url("data:text/html,x") is None
    assert web_url(None) is None
