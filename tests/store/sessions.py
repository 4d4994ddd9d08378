"""PostgreSQL sessions cut and taken over, for the tests of a lock or a stage that must survive a
server restart. A restart ends every session of the server; a test may not restart the server that
other work shares, so it ends the sessions of its own database (``pg_terminate_backend``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from store.lock import _key
from tests.conftest import POSTGRES_ADMIN_URL


def _admin() -> Engine:
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def cut_sessions(url: str, *, keep: Iterable[int] = (), only: Iterable[int] | None = None) -> int:
    """End the sessions of ``url``'s database as a restart would (all but ``keep``, or ``only``
    those), waiting until each has ended; returns how many were ended."""
    name = url.rsplit("/", 1)[-1]
    admin = _admin()
    try:
        with admin.connect() as connection:
            pids = list(
                connection.scalars(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            )
            chosen = [pid for pid in pids if pid not in set(keep) and (only is None or pid in set(only))]
            for pid in chosen:
                connection.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
    finally:
        admin.dispose()
    return len(chosen)


def lock_holders(url: str, name: str = "scheduler") -> list[int]:
    """The backend pids holding the advisory lock of role ``name`` on ``url``'s database."""
    unsigned = _key(name) & 0xFFFF_FFFF_FFFF_FFFF
    admin = _admin()
    try:
        with admin.connect() as connection:
            return list(
                connection.scalars(
                    text(
                        "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                        "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = :db "
                        "AND l.classid = :high AND l.objid = :low AND l.objsubid = 1"
                    ),
                    {"db": url.rsplit("/", 1)[-1], "high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF},
                )
            )
    finally:
        admin.dispose()


class Rival:
    """Another process's session, queued for the lock (``pg_advisory_lock`` waits): PostgreSQL
    grants it the moment the holder's session ends, before the holder can take it again."""

    def __init__(self, url: str, name: str = "scheduler") -> None:
        self.engine = create_engine(url, poolclass=NullPool)
        self.connection: Connection = self.engine.connect()
        self.pid: int = self.connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        self.connection.commit()
        self.url, self.name = url, name
        self.got = threading.Event()
        self.thread = threading.Thread(target=self._wait, daemon=True)

    def _wait(self) -> None:
        try:
            self.connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _key(self.name)})
            self.connection.commit()
        except DBAPIError:  # ended by close() before it got the lock
            return
        self.got.set()

    def queue(self) -> None:
        """Start waiting for the lock; returns once the server shows the wait."""
        self.thread.start()
        admin = _admin()
        try:
            with admin.connect() as connection:
                for _ in range(200):
                    waiting = connection.execute(
                        text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted"),
                        {"pid": self.pid},
                    ).scalar_one()
                    if waiting:
                        return
                    self.got.wait(0.05)
        finally:
            admin.dispose()
        raise AssertionError("the rival session never queued for the lock")

    def close(self) -> None:
        if self.thread.is_alive() and not self.got.is_set():  # still waiting: end its session
            cut_sessions(self.url, only=[self.pid])
        self.thread.join(10)
        self.connection.close()
        self.engine.dispose()
