"""Whether a database is there, readable and at this tisiwatch's schema — asked before a command uses it.

Every command but ``tisiwatch init`` needs a database that ``init`` made: :func:`database_problem`
says in one line what is wrong and what to do (``no database in var: run `tisiwatch init```), without
creating or changing anything. :func:`location_problem` says why ``init`` cannot make one where the
settings point (a file where the data directory should be).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from store.db import alembic_config

CONNECT_TIMEOUT_S = 5
"""How long to wait for a database server before saying it cannot be reached."""
INIT = "run `tisiwatch init`"


class DatabaseNotReady(RuntimeError):
    """The database cannot be used as it is; the message says why and what to do, in one line."""


@dataclass(frozen=True)
class SchemaState:
    """The schema revision a database is at, and the one this tisiwatch needs."""

    revision: str | None
    head: str
    known: bool
    """Whether ``revision`` is one of this tisiwatch's migrations (False: made by a newer version)."""

    @property
    def current(self) -> bool:
        return self.revision == self.head


def safe_url(url: str | URL) -> str:
    """The URL as it may be printed: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def _sqlite_path(url: URL) -> Path | None:
    database = url.database or ""
    return None if database in ("", ":memory:") or database.startswith("file:") else Path(database)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        like = "like sqlite:///var/tisiwatch.db or postgresql+psycopg://host/db"
        raise DatabaseNotReady(f"{url!r} is not a database URL ({like})") from None


def location_problem(url: str) -> str | None:
    """Why no database can be created at ``url`` (a SQLite file whose folder cannot exist), or None."""
    try:
        parsed = _parse(url)
    except DatabaseNotReady as exc:
        return str(exc)
    path = _sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    if path is None:
        return None
    for folder in [path.parent, *path.parent.parents]:
        if folder.exists():
            if not folder.is_dir():
                return f"cannot use {folder} as a folder for the database: it is a file"
            return None
    return None


def database_problem(url: str) -> str | None:
    """What stops a command from using the database at ``url``, in one line, or None when it is ready."""
    try:
        parsed = _parse(url)
        path = _sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
        if path is not None:
            return _sqlite_file_problem(path)
        state = schema_state(url)
    except DatabaseNotReady as exc:
        return str(exc)
    return _schema_problem(state, f"the database at {safe_url(parsed)}")


def schema_state(url: str) -> SchemaState:
    """The schema revision of the database at ``url``; DatabaseNotReady if it cannot be reached."""
    parsed = make_url(url)
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_S} if parsed.get_backend_name() == "postgresql" else {}
    engine = create_engine(parsed, connect_args=connect_args, hide_parameters=True)
    try:
        with engine.connect() as connection:
            revision = None
            if inspect(connection).has_table("alembic_version"):
                revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise DatabaseNotReady(
            f"cannot reach the database at {safe_url(parsed)}: {cause[0] if cause else type(exc).__name__}"
        ) from None
    finally:
        engine.dispose()
    return _state(revision)


@cache
def _revisions() -> tuple[str, frozenset[str]]:
    """This tisiwatch's newest schema revision and all of its revisions."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = scripts.get_current_head()
    assert head is not None
    return head, frozenset(script.revision for script in scripts.walk_revisions())


def _state(revision: str | None) -> SchemaState:
    head, known = _revisions()
    return SchemaState(revision, head, revision is None or revision in known)


def _sqlite_file_problem(path: Path) -> str | None:
    try:
        return _sqlite_problem(path)
    except OSError as exc:  # a folder on the way that may not be looked into
        return f"cannot read the database {path}: {exc.strerror or exc} (its folder's permissions?)"


def _sqlite_problem(path: Path) -> str | None:
    folder = path.parent
    if not folder.exists():
        return f"no database in {folder} (the folder does not exist): {INIT}"
    if not folder.is_dir():
        return f"cannot use {folder}: it is a file, not a folder"
    if not path.exists():
        return f"no database in {folder}: {INIT}"
    if path.is_dir():
        return f"cannot open the database {path}: it is a folder"
    try:  # read-only: asking must not create or change anything
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
            revision = None
            if "alembic_version" in tables:
                revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        return f"cannot read the database {path}: {_sqlite_reason(exc)}"
    return _schema_problem(_state(revision[0] if revision else None), f"the database {path}")


def _sqlite_reason(exc: sqlite3.Error) -> str:
    text_ = str(exc)
    if "not a database" in text_:
        return "it is not a SQLite database"
    if "unable to open" in text_:
        return "it cannot be opened (no permission to read it or its folder?)"
    return text_


def _schema_problem(state: SchemaState, where: str) -> str | None:
    if state.revision is None:
        return f"{where} is not initialised: {INIT}"
    if not state.known:
        return (
            f"{where} was made by a newer tisiwatch (schema {state.revision}, unknown to this version): "
            "upgrade tisiwatch"
        )
    if not state.current:
        return f"{where} has an older schema ({state.revision}, this tisiwatch needs {state.head}): {INIT} to upgrade it"
    return None
