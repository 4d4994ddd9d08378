"""The web application: ``create_app(settings, store)``, served by uvicorn (``tisiwatch serve``).

Every answer carries a Content-Security-Policy that lets a page load only this site's own scripts,
styles and images (no inline script, nothing from a marketplace), and forbids framing by other sites.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config import Settings
from store.db import Store
from web import api, cases, listing, pages, queue, seller, takedowns
from web.guard import SignInNeeded, sign_in_url
from web.render import STATIC, page

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'self'; object-src 'none'"
)
"""The policy of every page; the evidence replay sets a stricter one of its own (``sandbox``)."""

ROUTERS = (
    pages.router,
    queue.router,
    listing.router,
    seller.router,
    takedowns.router,
    cases.router,
    api.router,
)
"""Every router of the app, with full paths (no prefixes): the roles × routes test walks them."""


HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: under no-referrer a browser sends "Origin: null" with a form's POST,
    # which the CSRF check (rightly) refuses; a marketplace is still never told where a click came from
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeaders:
    """Adds :data:`HEADERS` to every answer that has not set its own (the evidence replay sets a
    stricter policy), and ``Cache-Control: no-store`` to everything but static files. Plain ASGI, so
    it costs an answer almost nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [*HEADERS, *(() if static else ((b"cache-control", b"no-store"),))]
                headers.extend((name, value) for name, value in extra if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
    for router in ROUTERS:  # the OpenAPI description is the check API's: the workspace's pages stay out
        app.include_router(router, include_in_schema=router is api.router)

    app.add_middleware(SecurityHeaders)

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
