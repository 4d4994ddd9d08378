"""The evidence routes: the page as fetched replayed from its WARC record in a sandbox, the screenshot
and product images — each from the database's paths only, inside the data directory — and, in real
Chromium, an archived page whose script never runs and which fetches nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from fastapi.testclient import TestClient

from config import Settings
from store.db import Store
from store.models import Observation
from tests.web.conftest import PASSWORD, LiveServer, sign_in
from tests.web.listing_world import HOSTILE, KEY, PAGE, PNG, build
from web.listing import SANDBOX

CHROMIUM = "/usr/bin/chromium"


def test_the_page_is_replayed_in_a_sandbox(
    client: TestClient, sqlite_store: Store, web_settings: Settings
) -> None:
    built = build(sqlite_store, web_settings.data_dir)
    sign_in(client, "viewer")
    first = client.get(f"/evidence/{built.observations[0]}/page")
    assert first.status_code == 200
    assert first.headers["content-security-policy"] == SANDBOX
    assert first.headers["content-type"] == "text/html; charset=tis-620"
    assert first.content == PAGE.encode("tis-620")  # the original bytes, not re-encoded
    assert first.headers["tisiwatch-evidence-verified"] == "yes"
    assert first.headers["tisiwatch-evidence-sha256"] == built.evidence[0]["payload_sha256"]
    assert first.headers["x-content-type-options"] == "nosniff"
    rendered = client.get(f"/evidence/{built.observations[1]}/page")
    assert rendered.headers["content-type"] == "text/html; charset=utf-8"
    assert HOSTILE in rendered.text
    assert rendered.headers["content-security-policy"] == SANDBOX


def test_screenshot_and_images(client: TestClient, sqlite_store: Store, web_settings: Settings) -> None:
    built = build(sqlite_store, web_settings.data_dir)
    sign_in(client, "viewer")
    shot = client.get(f"/evidence/{built.observations[1]}/screenshot")
    assert (shot.status_code, shot.headers["content-type"], shot.content) == (200, "image/png", PNG)
    assert shot.headers["content-security-policy"] == SANDBOX
    image = client.get(f"/evidence/{built.observations[1]}/image/1")
    assert (image.status_code, image.headers["content-type"], image.content) == (200, "image/png", PNG)
    assert image.headers["tisiwatch-evidence-verified"] == "yes"
    for missing in ("image/2", "image/3", "image/0", "screenshot"):
        observation = built.observations[1] if missing != "screenshot" else built.observations[0]
        assert client.get(f"/evidence/{observation}/{missing}").status_code == 404, missing


def test_a_changed_record_is_served_with_a_warning(
    client: TestClient, sqlite_store: Store, web_settings: Settings
) -> None:
    built = build(sqlite_store, web_settings.data_dir)
    with sqlite_store.session() as session:
        seen = session.get(Observation, built.observations[0])
        assert seen is not None
        seen.payload_sha256 = "0" * 64
    sign_in(client, "viewer")
    assert (
        client.get(f"/evidence/{built.observations[0]}/page").headers["tisiwatch-evidence-verified"] == "no"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/evidence/../../etc/passwd/page", "/evidence/..%2f..%2fetc%2fpasswd/page", "/evidence/%2e%2e/page",
        "/evidence/%2e%2e%2f%2e%2e%2fetc/screenshot", "/evidence/-1/page", "/evidence/1.0/page",
        "/evidence/99999/page", "/evidence/1e3/page", "/evidence/%2fetc%2fpasswd/page",
        "/evidence/1/image/..%2f..", "/evidence/1/image/-1", "/evidence/１/page",
    ],
)  # fmt: skip
def test_a_request_names_no_path(
    client: TestClient, sqlite_store: Store, web_settings: Settings, path: str
) -> None:
    build(sqlite_store, web_settings.data_dir)
    sign_in(client, "viewer")
    answer = client.get(path)
    assert answer.status_code == 404, path
    assert "root:" not in answer.text


@pytest.mark.parametrize(
    "stored",
    ["../outside.warc.gz", "/etc/passwd", "%2e%2e/outside.warc.gz", "x/../../outside.warc.gz", "link"],
)
def test_a_row_pointing_outside_the_data_directory_is_refused(
    client: TestClient, sqlite_store: Store, web_settings: Settings, stored: str
) -> None:
    built = build(sqlite_store, web_settings.data_dir)
    data = web_settings.data_dir
    outside = data.parent / "outside.warc.gz"
    outside.write_bytes((data / built.evidence[0]["warc_file"]).read_bytes())  # a real record, outside
    (data / "link").symlink_to(outside)
    with sqlite_store.session() as session:
        for observation in built.observations[:2]:
            seen = session.get(Observation, observation)
            assert seen is not None
            seen.warc_file = seen.screenshot_file = stored
            seen.image_evidence = [{"url": "x", "warc_file": stored, "warc_offset": 0, "payload_sha256": "0"}]
    sign_in(client, "viewer")
    for observation in built.observations[:2]:
        for what in ("page", "screenshot", "image/1"):
            assert client.get(f"/evidence/{observation}/{what}").status_code == 404, (stored, what)


@pytest.mark.browser
def test_the_archived_page_runs_no_script_and_fetches_nothing(
    browser: Any, live_server: LiveServer, sqlite_store: Store, web_settings: Settings
) -> None:
    built = build(sqlite_store, web_settings.data_dir, officer="officer")
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    context.on("request", lambda request: requests.append(request.url))
    blocked: dict[str, str | None] = {}
    context.on("requestfailed", lambda request: blocked.setdefault(request.url, request.failure))
    reached: list[str] = []
    app = urlsplit(live_server.url).netloc

    def network(route: Any) -> None:
        """Whatever reaches the network layer: the app's requests go on, any other is recorded."""
        if urlsplit(route.request.url).netloc == app:
            route.continue_()
        else:
            reached.append(route.request.url)
            route.abort()

    context.route("**/*", network)
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "viewer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    answer = page.goto(f"{live_server.url}/listing?key={quote(KEY, safe='')}")
    assert answer is not None
    assert answer.status == 200
    frame_element = page.wait_for_selector("iframe.replay")
    assert frame_element is not None
    frame = frame_element.content_frame()
    assert frame is not None
    frame.wait_for_load_state("load")
    assert "พาวเวอร์แบงค์ ราคาถูก" in frame.inner_text("h1")  # the archived page is shown
    page.wait_for_timeout(500)
    assert dialogs == []
    # Chromium names the archived page's image and stylesheet, and refuses them under the sandbox's
    # policy before they reach the network
    outside = {url for url in requests if urlsplit(url).netloc != app}
    assert outside <= {"http://external.example/x.png", "http://external.example/s.css"}
    assert all(blocked.get(url) == "csp" for url in outside), blocked
    assert reached == []
    assert f"/evidence/{built.observations[1]}/page" in " ".join(requests)
    # opened by itself (a link of the page), the replay still runs nothing
    page.goto(f"{live_server.url}/evidence/{built.observations[1]}/page")
    page.wait_for_timeout(300)
    assert dialogs == []
    assert reached == []
    assert all(blocked.get(url) == "csp" for url in requests if urlsplit(url).netloc != app), blocked
    context.close()
