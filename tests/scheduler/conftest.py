"""Fixtures for the scheduler: settings with a private data directory, a migrated store with the
default register, and the CLI pointed at them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import cli
from config import Settings, load_settings
from matchers.register import ensure_default_register
from store.db import Store

Make = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> Make:
    """Settings with the data directory in ``tmp_path``; keyword arguments are sections to override."""

    def make(**sections: Any) -> Settings:
        overrides: dict[str, Any] = {"data_dir": str(tmp_path / "data"), **sections}
        overrides.setdefault("crawl", {}).setdefault("retries", 2)
        return load_settings(overrides=overrides, environ={})

    return make


@pytest.fixture
def store(make_settings: Make) -> Iterator[Store]:
    store = Store(make_settings().database_url)
    store.migrate()
    ensure_default_register(store)
    yield store
    store.dispose()


@pytest.fixture
def cli_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh CLI state, and tables wide enough to keep whole words."""
    monkeypatch.setattr(cli, "state", cli.State())
    monkeypatch.setenv("COLUMNS", "250")


def dead_pid() -> int:
    """The pid of a process that has ended (what a killed run leaves in its journal)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid
