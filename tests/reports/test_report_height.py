"""A layout regression test: a day with 300 continuing violations is a page an officer reads in minutes.

Before Step 9 every continuing violation was a card (about 650 px each on a desktop): on two busy days
the second day's page was over 200,000 px tall. Now each is one line of a table (about 22 px), so the
table of 300 is under 7,000 px, and the page with its cards (new and resolved), totals, charts, sellers
and health stays under 20,000 px on a 1280 px wide screen. See docs/benchmarks.md, "Daily report height".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reports.daily import build_daily_report
from store.db import Store
from tests.reports.report_builders import DAY2, World, busy_days
from tests.reports.test_report_browser import browser, open_page  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

CONTINUING = 300
ROW_PX = 30
"""The most one line of the table may take: a line of Thai text (about 18 px) and its padding."""
PAGE_PX = 20_000
"""The whole page: 300 rows (< 9,000 px) and ten cards (< 8,000 px) with the totals, charts, sellers and
health (about 3,000 px) — a tenth of the page before, read in a few minutes."""


@pytest.fixture
def busy_report(sqlite_store: Store, tmp_path: Path) -> Path:
    with sqlite_store.session() as session:
        busy_days(World(session), continuing=CONTINUING, new=5, resolved=5)
    return build_daily_report(sqlite_store, tmp_path / "report", DAY2, evidence_root=tmp_path).html


def test_300_continuing_violations_are_300_lines_and_the_page_stays_short(
    browser: Any,  # noqa: F811
    busy_report: Path,
) -> None:
    context, page, watch = open_page(browser, busy_report, 1280, 900)
    try:
        rows = page.locator("#continuing tbody tr")
        assert rows.count() == CONTINUING
        assert page.locator("#continuing article").count() == 0
        heights = page.evaluate(
            "[...document.querySelectorAll('#continuing tbody tr')].map(r => r.getBoundingClientRect().height)"
        )
        assert max(heights) <= ROW_PX, max(heights)  # one line each, whatever the title's length
        assert max(heights) - min(heights) < 1
        links = page.evaluate("[...document.querySelectorAll('#continuing tbody tr a')].map(a => a.href)")
        assert len(links) == CONTINUING
        assert all(link.startswith("http://127.0.0.1:8800/listing?key=shop-") for link in links)
        assert page.locator("#new article").count() == 5
        assert page.locator("#resolved article").count() == 5
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < PAGE_PX, height
        table = page.locator("#continuing").bounding_box()
        assert table is not None
        assert table["height"] < CONTINUING * ROW_PX
        assert watch.requests == [busy_report.as_uri()]  # offline: nothing but the page itself
        assert watch.errors == []
    finally:
        context.close()
