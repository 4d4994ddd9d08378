"""New, continuing and resolved over the demo shops' two days: real crawls, real matching, real reports.

The shops serve day 1, are crawled and matched; then they switch to day 2 (about a tenth of the
listings removed, one violation per shop mended, new listings added) and are crawled again — discovery
finds the new listings, a re-check finds the removed ones gone — and matched. The crawls run seconds
apart, so each phase's timestamps are then moved onto a Bangkok day of its own (DAY1, DAY2), keeping
their order, as if the crawls had run on two mornings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from config import Settings, load_settings
from core.verdicts import VIOLATIONS
from crawler.profile import load_profile
from crawler.runner import crawl
from demo.generator import generate
from demo.listing import DemoListing
from demo.server import start_shops
from demo.writer import write_registers
from matchers.match import match_pending
from matchers.register import ensure_default_register, import_register
from reports.daily import DailyReport, build_daily_report
from reports.page import card_id
from reports.workbook import FINDING_COLUMNS
from store.clock import utcnow
from store.db import Store
from store.models import CrawlFailure, CrawlRun, Listing, Observation, RegisterVersion, Verdict
from tests.reports.report_builders import DAY1, DAY2, bkk

pytestmark = pytest.mark.slow

SEED, SIZE = 7, 30
SHOPS = {"html": "demo-html", "api": "demo-api"}
MOVED = [
    (Observation, ("observed_at",)),
    (Verdict, ("created_at",)),
    (Listing, ("first_seen", "last_seen", "gone_at")),
    (CrawlRun, ("started_at", "finished_at")),
    (CrawlFailure, ("at",)),
    (RegisterVersion, ("created_at",)),
]


def move(store: Store, since: datetime, to: datetime) -> None:
    """Every timestamp at or after ``since`` moved to ``to`` plus its distance from ``since``."""
    with store.session() as session:
        for model, columns in MOVED:
            for row in session.scalars(select(model)):
                for column in columns:
                    value = getattr(row, column)
                    if value is not None and value >= since:
                        setattr(row, column, to + (value - since))


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Settings, Path]]:
    """A store with the demo shops (html, api) crawled and matched on DAY1 and on DAY2."""
    root = tmp_path_factory.mktemp("days")
    settings = load_settings(overrides={"data_dir": str(root / "data"), "crawl": {"retries": 1}}, environ={})
    store = Store(settings.database_url)
    started = utcnow()
    store.migrate()
    ensure_default_register(store)
    registers = write_registers(root / "registers", seed=SEED, size=SIZE)
    for kind in ("licences", "unsafe"):
        import_register(store, registers[kind], kind=kind)
    with start_shops(seed=SEED, size=SIZE, day=1, faults=False) as shops:
        profiles = [load_profile(name).with_base_url(shops.urls[shop]) for shop, name in SHOPS.items()]
        assert all(run.status == "finished" for run in crawl(settings, profiles, queries=[], store=store))
        match_pending(store, settings)
        move(store, started, bkk(DAY1, 6).astimezone(UTC))
        second = utcnow()
        shops.set_day(2)
        assert all(run.status == "finished" for run in crawl(settings, profiles, queries=[], store=store))
        assert all(run.status == "finished" for run in crawl(settings, profiles, recheck=True, store=store))
        match_pending(store, settings)
        move(store, second, bkk(DAY2, 6).astimezone(UTC))
    yield store, settings, root
    store.dispose()


def truth(day: int) -> dict[str, DemoListing]:
    """The demo's listings of the crawled shops as of ``day``, by listing key."""
    return {
        f"{SHOPS[item.shop]}:{item.item_id}": item
        for item in generate(seed=SEED, size=SIZE, day=day)
        if item.shop in SHOPS
    }


def report(two_days: tuple[Store, Settings, Path], day: Any) -> tuple[DailyReport, dict[str, dict[str, Any]]]:
    store, settings, root = two_days
    built = build_daily_report(store, root / f"report-{day}", day, evidence_root=settings.data_dir)
    document = json.loads(built.json.read_text(encoding="utf-8"))
    return built, {finding["listing_key"]: finding for finding in document["findings"]}


def test_the_first_day_has_only_new_violations(two_days: tuple[Store, Settings, Path]) -> None:
    built, rows = report(two_days, DAY1)
    assert built.new > 0
    assert (built.continuing, built.resolved) == (0, 0)
    statuses = {key: row["status"] for key, row in rows.items()}
    assert set(statuses.values()) <= {"new", None}
    assert all(row["verdict"] in VIOLATIONS for row in rows.values() if row["status"] == "new")


def test_the_second_day_new_continuing_and_resolved(two_days: tuple[Store, Settings, Path]) -> None:
    _, first = report(two_days, DAY1)
    built, rows = report(two_days, DAY2)
    day1, day2 = truth(1), truth(2)
    violating_on_day1 = {key for key, row in first.items() if row["status"] == "new"}

    removed = {key for key, item in day2.items() if item.removed_on_day == 2} & violating_on_day1
    assert removed, "the demo removes violating listings on day 2"
    for key in removed:  # a listing that disappears
        assert rows[key]["status"] == "resolved", key
        assert rows[key]["verdict"] in VIOLATIONS  # what it was when last seen

    mended = {key for key, item in day2.items() if "fixed" in item.tricks}
    assert len(mended) == len(SHOPS)
    for key in mended:  # a listing that becomes compliant
        assert day1[key].expected_verdict in VIOLATIONS
        assert first[key]["status"] == "new", key
        assert (rows[key]["status"], rows[key]["verdict"], rows[key]["licence_status"]) == (
            "resolved", "licensed", "valid",
        )  # fmt: skip

    added = {
        key for key, item in day2.items() if item.added_on_day == 2 and item.expected_verdict in VIOLATIONS
    }
    assert added, "the demo adds violating listings on day 2"
    for key in added:
        assert rows[key]["status"] == "new", key

    continuing = {key for key, row in rows.items() if row["status"] == "continuing"}
    assert continuing
    assert continuing <= violating_on_day1 - removed - mended
    assert continuing == {
        key for key in violating_on_day1 - removed - mended if rows[key]["verdict"] in VIOLATIONS
    }
    assert (built.new, built.continuing, built.resolved) == (
        sum(row["status"] == "new" for row in rows.values()),
        len(continuing),
        sum(row["status"] == "resolved" for row in rows.values()),
    )
    assert built.resolved >= len(removed) + len(mended)


EVIDENCE_AT = [key for key, *_ in FINDING_COLUMNS].index("evidence")


def test_the_second_day_report_shows_each_in_its_section(two_days: tuple[Store, Settings, Path]) -> None:
    built, rows = report(two_days, DAY2)
    html = built.html.read_text(encoding="utf-8")
    bounds = {
        name: html.index(f'<section id="{name}">')
        for name in ("new", "resolved", "due", "continuing", "dismissed", "sellers")
    }
    workbook = openpyxl.load_workbook(built.xlsx, read_only=True)
    sheets = {
        name: {
            row[EVIDENCE_AT].split("\n")[0] for row in workbook[name].iter_rows(min_row=2, values_only=True)
        }
        for name in ("new", "continuing", "resolved")
    }
    workbook.close()
    for key, row in rows.items():
        status = row["status"]
        if status is None:
            continue
        anchor = html.index(f'id="{card_id(key)}"')
        section = max((name for name, start in bounds.items() if start < anchor), key=bounds.__getitem__)
        assert section == status, key
        assert key in sheets[status], key
    gone = next(key for key, item in truth(2).items() if item.removed_on_day == 2 and key in rows)
    card = html[html.index(f'id="{card_id(gone)}"') :]
    assert "ประกาศขายถูกลบหรือไม่พบแล้ว" in card[: card.index("</article>")]
    # the crawl health of the second morning: both shops, re-check included
    health = html[html.index('<section id="health">') :]
    assert "demo-html" in health
    assert "demo-api" in health
