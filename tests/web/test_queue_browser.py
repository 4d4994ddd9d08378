"""The review queue in real Chromium: filter, move with j/k, tick with x, confirm with c, all through
htmx under the Content-Security-Policy (no script error, no inline script needed)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from store.db import Store
from store.models import Decision
from tests.web.conftest import PASSWORD, LiveServer
from tests.web.test_queue import listings

pytestmark = pytest.mark.browser


def test_keyboard_review_in_the_browser(browser: Any, live_server: LiveServer, sqlite_store: Store) -> None:
    from playwright.sync_api import expect

    made = listings(sqlite_store)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda answer: (
            errors.append(f"{answer.status} {answer.url}")
            if answer.status >= 400 and not answer.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(f"{live_server.url}/login?next=/queue")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/queue")  # not a glob: the sign-in page's own URL ends in /queue
    assert page.locator("tr[data-row]").count() == 6

    page.select_option("select[name=verdict]", "no_licence_shown")
    page.click(".filters button[type=submit]")
    expect(page.locator("tr[data-row]")).to_have_count(5)
    assert "verdict=no_licence_shown" in page.url

    page.locator("h1").click()  # keys go to the page, not to a field
    for key in ("j", "x", "j", "x", "j"):
        page.keyboard.press(key)
    assert page.locator("tr[data-row].current").count() == 1
    ticked = page.locator("input[name=listing_id]:checked")
    assert ticked.count() == 2
    chosen = sorted(int(ticked.nth(n).get_attribute("value") or 0) for n in range(2))
    page.keyboard.press("c")
    expect(page.locator("tr[data-row]")).to_have_count(3)
    assert "บันทึก" in page.locator("#queue-results").inner_text()
    with sqlite_store.session() as session:
        decided = session.scalars(select(Decision)).all()
        assert sorted(d.listing_id for d in decided) == chosen
        assert {d.decision for d in decided} == {"confirmed"}
    assert set(chosen) <= set(made.values())

    page.keyboard.press("a")  # every row ticked at once
    assert page.locator("input[name=listing_id]:checked").count() == 3
    assert errors == []
