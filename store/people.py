"""People who sign in to the workspace: their roles, Argon2 password hashes, lock-outs and sessions.

A session's cookie carries a random secret; the database keeps only its SHA-256, so a copy of the
database signs nobody in. Disabling a person or changing their password ends their sessions.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from store.clock import as_utc, utcnow
from store.models import User, WebSession

OFFICER = "officer"
SUPERVISOR = "supervisor"
VIEWER = "viewer"
ADMIN = "admin"
ROLES: tuple[str, ...] = (OFFICER, SUPERVISOR, VIEWER, ADMIN)

PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({OFFICER, SUPERVISOR, VIEWER, ADMIN}),
    "decide": frozenset({OFFICER, SUPERVISOR}),
    "check": frozenset({SUPERVISOR}),
    "manage": frozenset({ADMIN}),
}
"""What each role may do: ``read`` the workspace, ``decide`` on listings, ``check`` (pass, return or
overrule) decisions, ``manage`` people."""

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class PeopleError(ValueError):
    """A person cannot be added or changed as asked; the message says why."""


def may(role: str, permission: str) -> bool:
    """Whether ``role`` has ``permission`` (:data:`PERMISSIONS`)."""
    return role in PERMISSIONS[permission]


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise PeopleError(f"a password needs at least {MIN_PASSWORD} characters")


def add_user(session: Session, username: str, role: str, password: str, display_name: str = "") -> User:
    """A new person; the username is lower case letters, digits, ``.``, ``_`` or ``-``."""
    if not USERNAME.match(username):
        raise PeopleError(
            f"username {username!r} must be 2-64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if role not in ROLES:
        raise PeopleError(f"role {role!r} is not one of {', '.join(ROLES)}")
    check_password_rules(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise PeopleError(f"user {username!r} exists already")
    user = User(username=username, role=role, display_name=display_name, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise PeopleError(f"no user {username!r}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def set_password(session: Session, username: str, password: str) -> User:
    """A new password; the person's sessions end and a lock-out is lifted."""
    check_password_rules(password)
    user = get_user(session, username)
    user.password_hash = _hasher.hash(password)
    user.password_changed_at = utcnow()
    user.failed_logins = 0
    user.locked_until = None
    end_sessions(session, user.id)
    return user


def set_disabled(session: Session, username: str, disabled: bool = True) -> User:
    """Disable (or enable again) a person; disabling ends their sessions."""
    user = get_user(session, username)
    user.disabled = disabled
    if disabled:
        end_sessions(session, user.id)
    return user


@dataclass(frozen=True, slots=True)
class SignIn:
    """The outcome of a sign-in: the user, or why not (``wrong``, ``locked``, ``disabled``), and how
    many failures the account has had in a row (the caller slows down by it)."""

    user: User | None
    problem: str | None
    failures: int = 0


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    max_failures: int,
    lockout: timedelta,
    now: datetime | None = None,
) -> SignIn:
    """Check a password. Failures are counted per account; after ``max_failures`` in a row the account
    is locked for ``lockout``, and a locked account is refused even with the right password. An
    unknown username costs the same hashing work as a known one."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        _verify(_DUMMY_HASH, password)
        return SignIn(None, "wrong")
    if user.locked_until is not None and as_utc(user.locked_until) > now:
        return SignIn(None, "locked", user.failed_logins)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + lockout
        locked = user.locked_until is not None and as_utc(user.locked_until) > now
        return SignIn(None, "locked" if locked else "wrong", user.failed_logins)
    if user.disabled:
        return SignIn(None, "disabled")
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return SignIn(user, None)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(secret: str) -> str:
    """The SHA-256 (hex) under which a session's or API token's secret is kept."""
    return hashlib.sha256(secret.encode()).hexdigest()


def open_session(session: Session, user: User, hours: float, now: datetime | None = None) -> str:
    """A new sign-in for ``user``; returns the cookie's secret (shown once, kept only hashed)."""
    now = now or utcnow()
    secret = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=token_hash(secret),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    return secret


def find_session(session: Session, secret: str, now: datetime | None = None) -> WebSession | None:
    """The live session of a cookie's secret, with its user; None when unknown, expired or the user
    is disabled."""
    if not secret:
        return None
    found = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(secret)))
    if found is None or as_utc(found.expires_at) <= (now or utcnow()) or found.user.disabled:
        return None
    return found


def close_session(session: Session, secret: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(secret)))


def end_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
