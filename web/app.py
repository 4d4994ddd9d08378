"""The web application: ``create_app(settings, store)``, served by uvicorn (``tisiwatch serve``).

Every answer carries a Content-Security-Policy that lets a page load only this site's own scripts,
styles and images (no inline script, nothing from a marketplace), and forbids framing by other sites.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from config import Settings
from store.db import Store
from web import pages, queue
from web.guard import SignInNeeded, sign_in_url
from web.render import STATIC, page

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'self'; object-src 'none'"
)
"""The policy of every page; the evidence replay sets a stricter one of its own (``sandbox``)."""

ROUTERS = (pages.router, queue.router)
"""Every router of the app, with full paths (no prefixes): the roles × routes test walks them."""


def create_app(settings: Settings, store: Store) -> FastAPI:
    """The workspace and the check API over ``store`` under ``settings``."""
    app = FastAPI(
        title="tisiwatch",
        summary="Check API for platforms: judge listings against Thailand's compulsory standards",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.store = store
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(SignInNeeded)
    async def sign_in(request: Request, _exc: SignInNeeded) -> Response:
        if request.method == "GET" and not request.headers.get("hx-request"):
            return RedirectResponse(sign_in_url(request), status_code=303)
        return JSONResponse({"detail": "ต้องเข้าสู่ระบบ · Sign in first"}, status_code=401)

    @app.exception_handler(HTTPException)
    async def refused(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.headers.get("hx-request"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return page(request, "error.html", status_code=exc.status_code, detail=str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(part) for part in error["loc"][1:]), "message": error["msg"]}
            for error in exc.errors()
        ]
        return JSONResponse({"detail": "invalid request", "problems": problems}, status_code=422)

    return app
