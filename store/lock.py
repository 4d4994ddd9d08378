"""A lock that one process holds on a database for as long as it plays a role: one scheduler per database.

PostgreSQL: a session-level advisory lock on a connection of its own, kept open while the lock is held.
SQLite file: ``flock`` on a lock file beside the database, which says who holds it. Either is released
when the holder releases it or its process dies (a killed scheduler leaves no stale lock). An in-memory
SQLite database is private to its process and needs none.

A PostgreSQL lock is also lost when its session ends without the holder: a server restart ends every
session. The holder finds out with :meth:`DatabaseLock.check` and takes it again with
:meth:`DatabaseLock.retake` (which fails with :class:`LockHeld` if another process took it meanwhile).
A ``flock`` cannot be lost that way.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
from pathlib import Path
from types import TracebackType
from typing import IO

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from store.db import Store


class LockHeld(RuntimeError):
    """Another process holds the lock."""


def _key(name: str) -> int:
    """The advisory-lock key of a role: a signed 64-bit number from its name."""
    return int.from_bytes(hashlib.sha256(f"tisiwatch:{name}".encode()).digest()[:8], "big", signed=True)


# pg_locks shows a bigint advisory key as its high half (classid), its low half (objid), objsubid 1
_HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND classid = :high AND objid = :low AND objsubid = 1"
)


class DatabaseLock:
    """``with DatabaseLock(store, "scheduler"):`` — or ``acquire()`` / ``release()``; ``acquire`` raises
    :class:`LockHeld` at once, naming the holder where it can, when another process holds it."""

    def __init__(self, store: Store, name: str) -> None:
        self.store, self.name = store, name
        url = make_url(store.url)
        self.backend = url.get_backend_name()
        database = url.database or ""
        self.path = (
            Path(f"{database}.{name}.lock")
            if self.backend == "sqlite" and database not in ("", ":memory:")
            else None
        )
        # PostgreSQL: the session holding the lock, outside the store's pool (which others dispose of)
        self._sessions = (
            create_engine(store.url, poolclass=NullPool, hide_parameters=True)
            if self.backend == "postgresql"
            else None
        )
        self._connection: Connection | None = None
        self._file: IO[str] | None = None  # SQLite: the locked file

    def acquire(self) -> None:
        if self.held:
            return
        if self.backend == "postgresql":
            self._connection = self._advisory()
        elif self.path is not None:
            self._file = self._flock(self.path)

    def _advisory(self) -> Connection:
        assert self._sessions is not None
        connection = self._sessions.connect()
        try:
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _key(self.name)})
            held = bool(got.scalar())
            connection.commit()  # the lock is the session's: no transaction is left open
        except BaseException:
            connection.close()
            raise
        if not held:
            connection.close()
            raise LockHeld(f"another {self.name} holds this PostgreSQL database's lock (advisory lock)")
        return connection

    def _flock(self, path: Path) -> IO[str]:
        stream = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            stream.seek(0)
            holder = stream.read(200).strip() or "another process"
            stream.close()
            raise LockHeld(f"another {self.name} holds this database's lock ({holder}; {path})") from None
        except BaseException:
            stream.close()
            raise
        stream.seek(0)
        stream.truncate()
        stream.write(f"{self.name} on {socket.gethostname()}, pid {os.getpid()}\n")
        stream.flush()
        return stream

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _key(self.name)})
                connection.commit()
            except SQLAlchemyError:
                pass  # the server dropped the session (a restart), and the lock with it
            finally:
                connection.close()
        stream, self._file = self._file, None
        if stream is not None:
            stream.seek(0)
            stream.truncate()
            stream.close()  # closing the file releases the flock

    def check(self) -> bool:
        """Whether the lock is still this holder's. A PostgreSQL lock is asked of its session, which
        a server restart (or ``pg_terminate_backend``) has ended; a ``flock``, or no lock, cannot be
        lost. False also when it was never taken or was released."""
        if self.backend != "postgresql":
            return self.held or self.path is None
        connection = self._connection
        if connection is None:
            return False
        unsigned = _key(self.name) & 0xFFFF_FFFF_FFFF_FFFF
        try:
            held = connection.execute(_HELD, {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF})
            count = held.scalar_one()
            connection.commit()
        except SQLAlchemyError:
            return False  # the session is gone, and its lock with it
        return bool(count)

    def retake(self) -> None:
        """Take the lock again after :meth:`check` found it lost: the old session is dropped and a
        new one tries. Raises :class:`LockHeld` when another process took it meanwhile, and the
        database's error while the server cannot be reached."""
        self._drop()
        self.acquire()

    def _drop(self) -> None:
        """Forget the PostgreSQL session without unlocking: its connection is closed (were the
        session still alive, that ends it, and its lock with it)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()
            connection.close()

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None

    def __enter__(self) -> DatabaseLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()
