"""The database lock that keeps to one scheduler per database: on a SQLite file and on PostgreSQL,
held across processes, and gone with a killed holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from store.db import Store
from store.lock import DatabaseLock, LockHeld
from tests.store.sessions import Rival, cut_sessions, lock_holders

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_holder_is_refused_until_the_first_releases(any_store: Store) -> None:
    first, second = DatabaseLock(any_store, "scheduler"), DatabaseLock(any_store, "scheduler")
    first.acquire()
    try:
        with pytest.raises(LockHeld, match="another scheduler holds"):
            second.acquire()
        assert not second.held
        with DatabaseLock(any_store, "other-role"):  # another name is another lock
            pass
    finally:
        first.release()
    with second:
        assert second.held
    assert not second.held
    first.release()  # releasing twice is harmless


def test_the_sqlite_lock_file_names_its_holder(sqlite_store: Store) -> None:
    with DatabaseLock(sqlite_store, "scheduler") as lock:
        assert lock.path is not None
        assert lock.path.name == "tisiwatch.db.scheduler.lock"
        with pytest.raises(LockHeld, match=rf"pid {os.getpid()}\b"):
            DatabaseLock(sqlite_store, "scheduler").acquire()


def test_an_in_memory_database_needs_no_lock() -> None:
    store = Store("sqlite://")
    try:
        with DatabaseLock(store, "scheduler"), DatabaseLock(store, "scheduler") as second:
            assert not second.held  # nothing to share: nothing to lock
    finally:
        store.dispose()


HOLD = """
    import sys, time
    from store.db import Store
    from store.lock import DatabaseLock
    store = Store(sys.argv[1])
    lock = DatabaseLock(store, "scheduler")
    lock.acquire()
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_killed_holder_leaves_no_stale_lock(any_store: Store) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD), any_store.url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld):
            DatabaseLock(any_store, "scheduler").acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        if holder.stdout is not None:
            holder.stdout.close()
    # PostgreSQL notices the closed connection, the kernel drops the flock with the process
    for _ in range(50):
        try:
            with DatabaseLock(any_store, "scheduler") as lock:
                assert lock.held
                return
        except LockHeld:
            time.sleep(0.1)
    pytest.fail("the lock of a killed process was not released within 5 s")


@pytest.mark.postgres
def test_a_lock_lost_with_its_session_is_noticed_and_taken_again(postgres_store: Store) -> None:
    """A server restart ends the lock's session, and the lock with it: the holder finds out, and
    takes the lock again while it is free."""
    lock = DatabaseLock(postgres_store, "scheduler")
    lock.acquire()
    try:
        assert lock.check()
        [before] = lock_holders(postgres_store.url)
        assert cut_sessions(postgres_store.url) >= 1
        assert lock_holders(postgres_store.url) == []
        assert not lock.check()
        assert not lock.check()  # asked again of the same dead session: still lost, no error
        lock.retake()
        assert lock.check()
        assert lock_holders(postgres_store.url) not in ([], [before])
        with pytest.raises(LockHeld):
            DatabaseLock(postgres_store, "scheduler").acquire()
    finally:
        lock.release()
    assert not lock.check()
    assert lock_holders(postgres_store.url) == []


@pytest.mark.postgres
def test_a_lock_another_process_took_meanwhile_is_not_taken_again(postgres_store: Store) -> None:
    lock = DatabaseLock(postgres_store, "scheduler")
    lock.acquire()
    rival = Rival(postgres_store.url)
    try:
        rival.queue()
        cut_sessions(postgres_store.url, only=lock_holders(postgres_store.url))
        assert rival.got.wait(10)
        assert not lock.check()
        with pytest.raises(LockHeld, match="another scheduler holds"):
            lock.retake()
        assert not lock.held
        assert lock_holders(postgres_store.url) == [rival.pid]
    finally:
        lock.release()
        rival.close()


def test_a_sqlite_lock_cannot_be_lost(sqlite_store: Store) -> None:
    lock = DatabaseLock(sqlite_store, "scheduler")
    assert not lock.check()  # not taken
    with lock:
        assert lock.check()
        sqlite_store.dispose()  # its connections closed: the flock is the file's, not theirs
        assert lock.check()
    assert not lock.check()
    memory = Store("sqlite://")
    assert DatabaseLock(memory, "scheduler").check()  # in memory: nothing to lose
    memory.dispose()
