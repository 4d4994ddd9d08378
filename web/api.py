"""The check API for platforms: ``POST /api/v1/check`` (SPEC, "Check API for platforms").

A platform sends one listing or up to 1,000 with its bearer token (``tisiwatch tokens add``) and gets
each one's verdict, licence status, TIS number, category score and reasons, judged by the match
stage's judge under the register in force (``matchers.check``). Nothing is stored unless the request
asks ``"store": true`` and its token may store (``tokens add NAME --may-store``; another token asking
gets 403): then the listings and their verdicts are stored under the site ``api-<token name>``
(``matchers.recorder``) and the answer says ``"stored": true``. Each token may make
``web.api_requests_per_minute`` requests in any minute (a sliding window, in this process); more get
429 with ``Retry-After``. A missing, unknown or revoked token gets the same 401, which never says
whether a token exists. Errors are JSON; no answer repeats what was sent (a token, a listing's text).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, field_validator

from config import Settings
from core.verdicts import VERDICTS
from matchers.check import Checker, CheckItem, NoRegister, RegisterMissing
from matchers.recorder import RecordRefused, record_checked
from matchers.verdict import MATCHER_VERSION
from store.clock import utcnow
from store.db import Store
from store.tokens import TokenError, find_token, site_name

router = APIRouter()

MAX_LISTINGS = 1_000
MAX_SPEC_ROWS, MAX_SPEC_KEY, MAX_SPEC_VALUE = 200, 500, 5_000
WINDOW_S = 60.0

UNAUTHORISED = "a valid bearer token is needed (Authorization: Bearer <token>)"


class Listing(BaseModel):
    """One listing as the platform would publish it."""

    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=200, description="The platform's own id of the listing.")
    title: str = Field(min_length=1, max_length=20_000)
    description: str = Field(default="", max_length=50_000)
    spec: dict[str, str] = Field(
        default_factory=dict,
        description=f"The specification table: name → value (up to {MAX_SPEC_ROWS} rows, names up to "
        f"{MAX_SPEC_KEY} characters, values up to {MAX_SPEC_VALUE}).",
    )
    brand: str | None = Field(default=None, max_length=1_000)
    model: str | None = Field(default=None, max_length=1_000)
    licence_text: str | None = Field(
        default=None,
        max_length=1_000,
        description="The TIS licence as the listing shows it (e.g. ท1234-56/2879); read like a row "
        "of the spec table.",
    )
    image_urls: list[Annotated[str, Field(max_length=2_000)]] = Field(
        default_factory=list,
        max_length=100,
        description="The product images' addresses: accepted, never fetched (verdicts rest on the text).",
    )

    @field_validator("spec", mode="before")
    @classmethod
    def _spec(cls, value: Any) -> Any:
        """Checked here, so that an error names the field and never a key that was sent."""
        if not isinstance(value, Mapping):
            raise ValueError("must be an object of names to text values")
        if len(value) > MAX_SPEC_ROWS:
            raise ValueError(f"at most {MAX_SPEC_ROWS} rows")
        for key, row in value.items():
            if not isinstance(key, str) or not isinstance(row, str):
                raise ValueError("every name and value must be text")
            if len(key) > MAX_SPEC_KEY or len(row) > MAX_SPEC_VALUE:
                raise ValueError(f"names up to {MAX_SPEC_KEY} characters, values up to {MAX_SPEC_VALUE}")
        return value


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    listings: list[Listing] = Field(min_length=1, max_length=MAX_LISTINGS)
    store: bool = Field(
        default=False,
        description="Store the listings and their verdicts under the site api-<token name>, where "
        "TISI's officers review them like crawled ones. Only a token made with --may-store may ask "
        "(another gets 403); a listing sent again unchanged makes no new observation.",
    )


class Result(BaseModel):
    id: str
    verdict: str = Field(description=f"One of {', '.join(sorted(VERDICTS))}.")
    licence_status: str | None = Field(
        description="valid, not_found, revoked, suspended, expired, wrong_standard, wrong_brand, or null."
    )
    tis_number: str | None = Field(description="The standard the listing was matched to, as TISI writes it.")
    category_score: float
    reasons: list[dict[str, Any]] = Field(
        description="Why: each with a feature, a score and a detail (Thai, then English)."
    )


class CheckResponse(BaseModel):
    register_version: int
    matcher_version: str
    results: list[Result]
    stored: bool = Field(
        description='Whether the listings were stored: true only when "store": true was asked (and allowed).'
    )


class Problem(BaseModel):
    field: str
    message: str


class Refusal(BaseModel):
    detail: str
    problems: list[Problem] | None = None


class Window:
    """At most ``limit`` requests per key in any ``WINDOW_S`` seconds (a sliding log, in memory)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: int, now: float | None = None) -> int:
        """0 when the request may go ahead (it is counted), else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - WINDOW_S:
                seen.popleft()
            if len(seen) >= self.limit:
                return max(1, math.ceil(seen[0] + WINDOW_S - now))
            seen.append(now)
            return 0


@dataclass
class Service:
    checker: Checker
    window: Window


_made = threading.Lock()


def service(request: Request) -> Service:
    """The app's judge and rate window, made on the first request."""
    state = request.app.state
    with _made:
        if not hasattr(state, "check_api"):
            settings: Settings = state.settings
            store: Store = state.store
            state.check_api = Service(Checker(store, settings), Window(settings.web.api_requests_per_minute))
    found: Service = state.check_api
    return found


@dataclass(frozen=True)
class Caller:
    token_id: int
    name: str
    may_store: bool


bearer = HTTPBearer(auto_error=False, description="A token made by `tisiwatch tokens add NAME`.")


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The token's holder; 401 (the same for no, an unknown or a revoked token), 429 over the limit."""
    refused = HTTPException(status_code=401, detail=UNAUTHORISED, headers={"WWW-Authenticate": "Bearer"})
    if credentials is None:
        raise refused
    with request.app.state.store.session() as session:
        token = find_token(session, credentials.credentials)
        if token is None:
            raise refused
        found = Caller(token.id, token.name, token.may_store)
    wait = service(request).window.wait(found.token_id)
    if wait:
        raise HTTPException(
            status_code=429,
            detail=f"too many requests for this token: at most {service(request).window.limit} a minute",
            headers={"Retry-After": str(wait)},
        )
    return found


@router.post(
    "/api/v1/check",
    response_model=CheckResponse,
    summary="Judge listings against the compulsory standards and the licence register",
    responses={
        401: {"model": Refusal, "description": "No token, or not a valid one."},
        403: {"model": Refusal, "description": "Storing was asked for with a token that may not store."},
        409: {
            "model": Refusal,
            "description": "Storing was asked for and the token's site is a crawled one.",
        },
        422: {"model": Refusal, "description": "The body is not as described; each problem names its field."},
        429: {"model": Refusal, "description": "Over the token's rate limit; see Retry-After."},
        503: {"model": Refusal, "description": "No register to judge under."},
    },
)
def check(body: CheckRequest, request: Request, who: Annotated[Caller, Depends(caller)]) -> JSONResponse:
    """Each listing's verdict under the register in force, by the judge the daily match uses; in the
    order sent. Stored only when the request asks and its token may store."""
    if body.store and not who.may_store:
        raise HTTPException(status_code=403, detail='this token may not store listings: send without "store"')
    if body.store:
        try:
            site_name(who.name)
        except TokenError as exc:
            raise HTTPException(status_code=403, detail=str(exc)) from None
    items = [
        CheckItem(x.id, x.title, x.description, x.spec, x.brand, x.model, x.licence_text, tuple(x.image_urls))
        for x in body.listings
    ]
    now = utcnow()
    try:
        version, results = service(request).checker.check(items, now)
    except (NoRegister, RegisterMissing) as exc:
        raise HTTPException(status_code=503, detail=f"cannot judge now: {exc}") from None
    if body.store:
        try:
            with request.app.state.store.session() as session:
                record_checked(session, who.name, items, version, results, now)
        except RecordRefused as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
    answer = {
        "register_version": version,
        "matcher_version": MATCHER_VERSION,
        "results": [result.as_dict() for result in results],
        "stored": body.store,
    }
    return JSONResponse(answer)
