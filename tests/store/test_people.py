"""People: Argon2 hashes, the rules of a username and password, lock-out, and sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store.clock import utcnow
from store.db import Store
from store.models import User, WebSession
from store.people import (
    PeopleError,
    add_user,
    authenticate,
    end_sessions,
    find_session,
    open_session,
    set_disabled,
    set_password,
)

PASSWORD = "a long enough password"
RULES = {"max_failures": 3, "lockout": timedelta(minutes=15)}


@pytest.fixture
def store(any_store: Store) -> Store:
    with any_store.session() as session:
        add_user(session, "somchai", "officer", PASSWORD, display_name="สมชาย")
    return any_store


def test_the_password_is_kept_as_an_argon2id_hash(store: Store) -> None:
    with store.session() as session:
        user = session.query(User).one()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


@pytest.mark.parametrize(
    ("username", "role", "password", "problem"),
    [
        ("Somchai", "officer", PASSWORD, "lower-case"),
        ("../etc", "officer", PASSWORD, "lower-case"),
        ("new", "boss", PASSWORD, "role 'boss'"),
        ("new", "officer", "short", "at least 12"),
        ("somchai", "viewer", PASSWORD, "exists already"),
    ],
)
def test_bad_people_are_refused(store: Store, username: str, role: str, password: str, problem: str) -> None:
    with store.session() as session, pytest.raises(PeopleError, match=problem):
        add_user(session, username, role, password)


def test_a_good_password_signs_in_and_resets_the_failures(store: Store) -> None:
    with store.session() as session:
        assert authenticate(session, "somchai", "wrong password", **RULES).problem == "wrong"
        result = authenticate(session, " SOMCHAI ", PASSWORD, **RULES)
        assert result.user is not None
        assert result.user.failed_logins == 0


def test_repeated_failures_lock_even_the_right_password_out_until_the_lockout_ends(store: Store) -> None:
    now = utcnow()
    with store.session() as session:
        outcomes = [authenticate(session, "somchai", "wrong", now=now, **RULES) for _ in range(3)]
        assert [o.problem for o in outcomes] == ["wrong", "wrong", "locked"]
        assert [o.failures for o in outcomes] == [1, 2, 3]
        assert authenticate(session, "somchai", PASSWORD, now=now, **RULES).problem == "locked"
        later = now + timedelta(minutes=16)
        assert authenticate(session, "somchai", PASSWORD, now=later, **RULES).user is not None


def test_unknown_people_are_told_the_same_as_a_wrong_password(store: Store) -> None:
    with store.session() as session:
        assert authenticate(session, "nobody", PASSWORD, **RULES).problem == "wrong"


def test_a_session_keeps_only_the_hash_of_its_secret_and_expires(store: Store) -> None:
    now = utcnow()
    with store.session() as session:
        user = session.query(User).one()
        secret = open_session(session, user, hours=1, now=now)
        kept = session.query(WebSession).one()
        assert secret not in (kept.token_hash, kept.csrf_token)
        assert find_session(session, secret, now=now) is not None
        assert find_session(session, secret, now=now + timedelta(hours=2)) is None
        assert find_session(session, "not-a-secret", now=now) is None


@pytest.mark.parametrize("change", ["disable", "password", "end"])
def test_disabling_or_a_new_password_ends_the_sessions(store: Store, change: str) -> None:
    with store.session() as session:
        user = session.query(User).one()
        secret = open_session(session, user, hours=1)
        if change == "disable":
            set_disabled(session, "somchai")
        elif change == "password":
            set_password(session, "somchai", "another long password")
        else:
            end_sessions(session, user.id)
        assert find_session(session, secret) is None
        if change == "password":
            assert authenticate(session, "somchai", "another long password", **RULES).user is not None
