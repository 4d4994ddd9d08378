"""Fixtures for crawler tests: the demo shops on loopback and a migrated SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config import Settings, load_settings
from crawler.profile import SiteProfile, load_profile
from demo.generator import generate
from demo.listing import DemoListing
from demo.server import ShopsHandle, start_shops
from store.db import Store
from tests.crawler.pageserver import PageServer

SEED, SIZE = 7, 30
PROFILES = {
    "html": "demo-html",
    "api": "demo-api",
    "browser": "demo-browser",
    "token": "demo-token",
    "state": "demo-state",
}


@pytest.fixture
def shops() -> Iterator[ShopsHandle]:
    """Fresh shops for each test, so each test meets the one-time faults (503, 429) itself."""
    with start_shops(seed=SEED, size=SIZE, day=1) as handle:
        yield handle


@pytest.fixture
def crawl_settings(tmp_path: Path) -> Settings:
    return load_settings(overrides={"data_dir": str(tmp_path), "crawl": {"retries": 2}}, environ={})


@pytest.fixture
def store(crawl_settings: Settings) -> Iterator[Store]:
    store = Store(crawl_settings.database_url)
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def page_server() -> Iterator[PageServer]:
    """A local HTTP server that serves the pages a test sets (``tests.crawler.pageserver``)."""
    with PageServer() as server:
        yield server


def page_profile(server: PageServer, targets: list[str], **fields: str) -> SiteProfile:
    """An html profile of the page server: its discovery is ``targets``, its listing pages
    ``/product/ID``; schema.org data gives the fields, ``fields`` adds selectors."""
    return SiteProfile.model_validate(
        {
            "name": "pages",
            "kind": "html",
            "base_url": server.base_url,
            "discovery": {
                "urls": targets,
                "listing_url": "/product/{id}",
                "id_from_url": "/product/([^/?#]+)$",
            },
            "fields": fields,
        }
    )


def profile_for(shops: ShopsHandle, shop: str) -> SiteProfile:
    return load_profile(PROFILES[shop]).with_base_url(shops.urls[shop])


def live_listings(shop: str, day: int = 1) -> list[DemoListing]:
    """The demo's ground truth: listings of a shop that are on sale on ``day``."""
    return [
        item for item in generate(seed=SEED, size=SIZE, day=day) if item.shop == shop and item.active_on(day)
    ]
