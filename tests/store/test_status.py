"""Whether a database is ready: asked before a command uses it, changing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from store.db import Store
from store.status import database_problem, location_problem


def _at_revision(store: Store, revision: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision})


def test_a_migrated_database_is_ready(any_store: Store) -> None:
    assert database_problem(any_store.url) is None


def test_an_older_schema_asks_for_init_and_a_newer_one_for_an_upgrade(sqlite_store: Store) -> None:
    _at_revision(sqlite_store, "0001")
    older = database_problem(sqlite_store.url)
    assert older is not None
    assert "has an older schema (0001" in older
    assert older.endswith("run `tisiwatch init` to upgrade it")
    _at_revision(sqlite_store, "9999")
    newer = database_problem(sqlite_store.url)
    assert newer is not None
    assert "was made by a newer tisiwatch (schema 9999" in newer


@pytest.mark.postgres
def test_a_postgresql_database_at_an_older_schema_asks_for_init(postgres_store: Store) -> None:
    with postgres_store.engine.connect() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    _at_revision(postgres_store, "0001")
    try:
        problem = database_problem(postgres_store.url)
    finally:
        _at_revision(postgres_store, head)  # the session's database is shared by the next tests
    assert problem is not None
    assert "has an older schema (0001" in problem
    assert database_problem(postgres_store.url) is None


def test_asking_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'tisiwatch.db'}"
    assert (
        database_problem(url)
        == f"no database in {tmp_path / 'a' / 'b'} (the folder does not exist): run `tisiwatch init`"
    )
    assert location_problem(url) is None
    assert not (tmp_path / "a").exists()


def test_a_url_that_is_not_one_is_said_so() -> None:
    problem = database_problem("not a url")
    assert problem is not None
    assert "is not a database URL" in problem
