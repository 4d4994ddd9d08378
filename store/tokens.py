"""Platforms' tokens for the check API (``tisiwatch tokens add|list|revoke``).

A token is a random secret (``tw_`` and 43 URL-safe characters) shown once, when it is made; the
database keeps only its SHA-256 and its first characters (the *prefix*, to tell tokens apart in a
list), so a copy of the database lets nobody call the API. A revoked token is refused from then on
and keeps its name. The listings a token that may store sends with ``"store": true`` are stored under
the site :func:`site_name` (``api-<token name>``, ``matchers.recorder``).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.clock import as_utc, utcnow
from store.models import ApiToken
from store.people import token_hash

TOKEN_PREFIX = "tw_"
"""How every token starts, so that a secret scanner (or a person) recognises one."""
PREFIX_KEPT = 10
"""Characters of a token kept in the clear (``tw_`` and 7 more), shown by ``tokens list``."""
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
STORING_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,58}$")
"""The name of a token that may store: ``api-`` and it is a site's name (as a site profile's:
``[a-z0-9][a-z0-9_-]``, at most 63 characters)."""
SITE_PREFIX = "api-"
TOUCH_EVERY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token: a busy platform's requests are not
each a write."""


class TokenError(ValueError):
    """A token cannot be made or changed as asked; the message says why."""


def add_token(session: Session, name: str, may_store: bool = False) -> str:
    """A new token named ``name``; returns its secret, which is kept nowhere (only its SHA-256)."""
    if not NAME.match(name):
        raise TokenError(
            f"token name {name!r} must be 1-100 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if may_store and not STORING_NAME.match(name):
        raise TokenError(
            f"token name {name!r}: a token that may store names the site its listings are stored under "
            f"({SITE_PREFIX}NAME), so it must be 1-59 lower-case letters, digits, '_' or '-'"
        )
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise TokenError(f"a token named {name!r} exists already (a revoked token keeps its name)")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            name=name,
            token_hash=token_hash(secret),
            prefix=secret[:PREFIX_KEPT],
            may_store=may_store,
            created_at=utcnow(),
        )
    )
    session.flush()
    return secret


def site_name(token_name: str) -> str:
    """The site the listings stored with token ``token_name`` belong to: ``api-<token name>``."""
    if not STORING_NAME.match(token_name):
        raise TokenError(f"token {token_name!r} cannot name a site: listings sent with it cannot be stored")
    return SITE_PREFIX + token_name


def find_token(session: Session, secret: str, now: datetime | None = None) -> ApiToken | None:
    """The live token of ``secret``; None when it is unknown or revoked. Its ``last_used_at`` is
    brought up to date (at most every :data:`TOUCH_EVERY`)."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    found = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))
    if found is None or found.revoked_at is not None:
        return None
    now = now or utcnow()
    if found.last_used_at is None or now - as_utc(found.last_used_at) >= TOUCH_EVERY:
        found.last_used_at = now  # one UPDATE of one column, when the session commits
    return found


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, revoked ones too, by name."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.name)))


def revoke_token(session: Session, name: str, now: datetime | None = None) -> ApiToken:
    """Revoke the token named ``name`` (from now on it is refused); revoking it again changes nothing."""
    token = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise TokenError(f"no token named {name!r}")
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
    return token
