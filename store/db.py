"""Engine and sessions: a SQLite file (WAL, busy timeout) by default, PostgreSQL by URL.

Every process opens the store from its settings with :meth:`Store.from_settings`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def _hide_quoted_data(context: ExceptionContext) -> None:
    """PostgreSQL's DETAIL quotes the data of a failing key or row ("Key (listing_key)=(…)", "Failing
    row contains (…)"): left out of the error's text, as the parameters are. Code that needs it
    still finds it in the driver error's ``diag``."""
    original = context.original_exception
    diag = getattr(original, "diag", None)
    if diag is None or not diag.message_detail or len(original.args) != 1:
        return
    said = str(original.args[0])
    kept = f"{diag.message_primary or ''}\nDETAIL:  (left out: it quotes the data)"
    original.args = (kept,)
    error = context.sqlalchemy_exception
    if error is not None and len(error.args) == 1 and isinstance(error.args[0], str):
        error.args = (error.args[0].replace(said, kept),)


def make_engine(url: str, busy_timeout_ms: int = 30_000, echo: bool = False) -> Engine:
    """Create an engine; for SQLite, create the file's directory and switch on WAL and a busy timeout.

    Errors and the SQL log never show a statement's parameters (``hide_parameters``): they hold
    scraped listing text and verdict rows. Nor do they show PostgreSQL's quotes of a failing row."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, hide_parameters=True, connect_args={"timeout": busy_timeout_ms / 1000}
        )
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        return engine
    engine = create_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True)
    event.listen(engine, "handle_error", _hide_quoted_data)
    return engine


class Store:
    """One database: its engine and a session factory."""

    def __init__(self, url: str, busy_timeout_ms: int = 30_000, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms, echo)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The store the settings name, opened as every process opens it: the database URL, its busy
        timeout and echo (``[database]``). A crawl worker gets the same through its Scrapy settings
        (``crawler.settings.worker_store``)."""
        return cls(settings.database_url, settings.database.busy_timeout_ms, settings.database.echo)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def migrate(self) -> None:
        """Apply every Alembic migration up to the newest (``tisiwatch init``)."""
        from alembic import command

        with self.engine.begin() as connection:
            config = alembic_config(self.url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
