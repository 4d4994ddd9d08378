from __future__ import annotations

from sqlalchemy import inspect

from store.db import Store
from store.models import Base


def test_migrations_create_every_table(any_store: Store) -> None:
    tables = set(inspect(any_store.engine).get_table_names())
    assert {table.name for table in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_migrate_twice_is_harmless(any_store: Store) -> None:
    any_store.migrate()
    assert "listings" in inspect(any_store.engine).get_table_names()


def test_sqlite_uses_wal_and_busy_timeout(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
