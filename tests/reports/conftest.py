"""Fixtures of the reports' tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Settings
from reports.casefile import export_cases
from store.db import Store
from tests.reports.test_casefile import scenario


@pytest.fixture
def case_file(sqlite_store: Store, settings: Settings, tmp_path: Path) -> Path:
    """A case file exported by TISI (whose data directory is ``settings.data_dir``)."""
    scenario(sqlite_store, settings.data_dir)
    out = tmp_path / "cases.zip"
    export_cases(sqlite_store, settings, out=out, all_violations=True)
    return out
