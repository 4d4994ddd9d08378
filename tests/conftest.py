"""Shared fixtures: a migrated store on SQLite and on the real PostgreSQL server, Redis, settings."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from config import Settings, load_settings
from store.db import Store
from store.models import Base

os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

POSTGRES_ADMIN_URL = os.environ.get(
    "TISIWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TISIWATCH_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure to reach the server means: skip, and say why
        return f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable ({type(exc).__name__}: {exc})"
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once, dropped at the end."""
    problem = _postgres_problem()
    if problem:
        pytest.skip(problem)
    name = f"tisiwatch_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    store = Store(url)
    store.migrate()
    store.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(store: Store) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with store.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'tisiwatch.db'}")
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[Store]:
    store = Store(postgres_url)
    _truncate_all(store)
    yield store
    store.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest) -> Store:
    """The same test on a SQLite file and on the PostgreSQL server."""
    name = "sqlite_store" if request.param == "sqlite" else "postgres_store"
    store: Store = request.getfixturevalue(name)
    return store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a private data directory and the SQLite database inside it."""
    return load_settings(overrides={"data_dir": str(tmp_path / "data")}, environ={})


def small_registers(store: Store, folder: Path, licence: str = "ท9999-99/1234,1234-2550") -> None:
    """Import a licence register of one licence (``licence_no,tis_number``) and an unsafe list of one
    product, as an installation has them before ``match`` judges (it refuses registers never imported)."""
    from matchers.register import import_register

    licences, unsafe = folder / "small-licences.csv", folder / "small-unsafe.csv"
    licences.write_text(f"licence_no,tis_number,licensee,status\n{licence},บริษัท พลังดี จำกัด,active\n", "utf-8")
    unsafe.write_text("brand,model,reason\nNoname,X1,ไฟไหม้\n", encoding="utf-8")
    import_register(store, licences, kind="licences")
    import_register(store, unsafe, kind="unsafe")
