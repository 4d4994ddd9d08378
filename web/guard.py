"""Who is asking: the signed-in person of a request, the permission each route needs, and CSRF.

Every route of the workspace depends on :func:`allow` with a permission of ``store.people.PERMISSIONS``
(or is listed in :data:`PUBLIC`). A request without a live session is sent to the sign-in page (a page)
or refused with 401 (anything else); a role without the permission gets 403. A request that changes
something (any method but GET and HEAD) must carry the session's CSRF token, in the form field
``csrf_token`` or the ``X-CSRF-Token`` header (htmx sends it), and, when the browser names its origin,
come from this site.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from store.db import Store
from store.people import PERMISSIONS, find_session, may

SESSION_COOKIE = "tisiwatch_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC = frozenset({"/login", "/static", "/api/v1/check", "/api/v1/openapi.json", "/api/v1/docs"})
"""Paths no signed-in person is needed for (the check API checks its bearer token itself)."""


@dataclass(frozen=True, slots=True)
class Person:
    """The signed-in person of a request."""

    id: int
    username: str
    display_name: str
    role: str
    csrf_token: str

    def may(self, permission: str) -> bool:
        return may(self.role, permission)


class SignInNeeded(Exception):
    """No live session: a page redirects to the sign-in page, anything else answers 401."""


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def db(request: Request) -> Iterator[Session]:
    """A database session for the request (committed when the route returns without error)."""
    with store_of(request).session() as session:
        yield session


def _person(request: Request) -> Person | None:
    secret = request.cookies.get(SESSION_COOKIE, "")
    if not secret:
        return None
    with store_of(request).session() as session:
        found = find_session(session, secret)
        if found is None:
            return None
        user = found.user
        return Person(user.id, user.username, user.display_name, user.role, found.csrf_token)


def allow(permission: str) -> Callable[[Request], Coroutine[Any, Any, Person]]:
    """The dependency of a route that needs ``permission``; it gives the route the :class:`Person`."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    async def signed_in(request: Request) -> Person:
        person = await run_in_threadpool(_person, request)
        if person is None:
            raise SignInNeeded()
        request.state.person = person
        if not person.may(permission):
            raise HTTPException(status_code=403, detail="ไม่มีสิทธิ์ · Not allowed for your role")
        if request.method not in SAFE_METHODS:
            await check_csrf(request, person.csrf_token)
        return person

    signed_in.permission = permission  # type: ignore[attr-defined]
    return signed_in


async def check_csrf(request: Request, expected: str) -> None:
    """Refuse (403) a state-changing request without the session's token or from another origin."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise HTTPException(status_code=403, detail="คำขอจากต่างที่มา · Cross-origin request refused")
    sent = request.headers.get("x-csrf-token", "")
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token", "")
            sent = value if isinstance(value, str) else ""
    if not sent or not hmac.compare_digest(sent, expected):
        raise HTTPException(status_code=403, detail="โทเค็น CSRF ไม่ถูกต้อง · Missing or wrong CSRF token")


def sign_in_url(request: Request) -> str:
    """The sign-in page, coming back to this page (a path of this site only) afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(target, safe="/")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site, never another site (``//evil``, ``\\\\``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return "/"
    return target
