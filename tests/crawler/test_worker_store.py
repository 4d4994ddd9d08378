"""A crawl worker opens the store as every other process does: the same busy timeout and echo."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from config import Settings, load_settings
from crawler.pipelines import StorePipeline
from crawler.profile import parse_profile
from crawler.settings import scrapy_settings, worker_store
from store.db import Store
from store.writer import ensure_site, start_run

PROFILE = parse_profile(
    'kind = "html"\nbase_url = "https://shop.example"\n[discovery]\nsitemap = "/s.xml"\n', "shop"
)


def _settings(tmp_path: Path, busy_timeout_ms: int, echo: bool = False) -> Settings:
    database = {"busy_timeout_ms": busy_timeout_ms, "echo": echo}
    return load_settings(overrides={"data_dir": str(tmp_path), "database": database}, environ={})


def _busy_timeout(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one())


@pytest.mark.parametrize("busy_timeout_ms", [1_234, 30_000, 0])
def test_a_crawl_workers_store_has_the_configured_busy_timeout(tmp_path: Path, busy_timeout_ms: int) -> None:
    settings = _settings(tmp_path, busy_timeout_ms)
    store = Store.from_settings(settings)
    store.migrate()
    with store.session() as session:
        run_id = start_run(session, ensure_site(session, "shop", "html")).id
    composed = scrapy_settings(settings, PROFILE, {"run_id": run_id, "site_id": 1}, settings.database_url, 0)
    pipeline = StorePipeline.from_crawler(get_crawler(settings_dict=composed))
    try:
        assert pipeline.store.url == settings.database_url
        assert _busy_timeout(pipeline.store) == settings.database.busy_timeout_ms == busy_timeout_ms
        assert pipeline.store.engine.echo is False
        assert _busy_timeout(store) == busy_timeout_ms  # the CLI's store, for comparison
    finally:
        pipeline.store.dispose()
        store.dispose()


def test_a_crawl_workers_store_echoes_sql_when_the_settings_say_so(tmp_path: Path) -> None:
    settings = _settings(tmp_path, 2_000, echo=True)
    composed = scrapy_settings(settings, PROFILE, {"run_id": 1, "site_id": 1}, settings.database_url, 0)
    store = worker_store(get_crawler(settings_dict=composed).settings)
    try:
        assert store.engine.echo is True
        assert _busy_timeout(store) == 2_000
    finally:
        store.dispose()


def test_scrapy_settings_without_the_database_options_get_the_defaults(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = worker_store(get_crawler(settings_dict={"TISIWATCH_DATABASE_URL": url}).settings)
    try:
        assert _busy_timeout(store) == Settings().database.busy_timeout_ms
    finally:
        store.dispose()
