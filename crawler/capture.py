"""The JSON a browser page fetches by itself, captured while it renders (a profile's ``[capture]``).

Marketplaces whose search and item endpoints refuse calls made outside the page (a token or signature
the page's own script computes) are read by letting the page do its work and keeping the answers it
gets: a Playwright ``response`` handler (``playwright_page_event_handlers``, attached before the page
navigates) reads each response whose URL matches the profile's pattern, and the page method
:func:`wait_captured` waits until the expected JSON has arrived, the network has gone quiet without it,
or ``browser.timeout_s`` has passed. Nothing here makes a request of its own or re-creates a signature.

What the page method returns (a list of :class:`Captured`) stays in the request's page method as its
result: ``crawler.evidence`` writes each as a WARC ``response`` record and the spider reads the JSON.
Captured bodies are untrusted: one over ``max_bytes`` is not read (its ``problem`` says so), and a body
that is not JSON is a miss with its reason, never an error.
"""

from __future__ import annotations

import asyncio
import json
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from playwright.async_api import Error as PlaywrightError
from scrapy_playwright.page import PageMethod

from crawler.pagejson import Capture
from crawler.warc import Exchange, sha256_hex

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class Captured:
    """One response the page fetched: what a WARC ``response`` record needs, and which pattern it met."""

    kind: str
    """``item`` or ``search``: the profile's pattern it matched."""
    url: str
    status: int
    headers: Headers
    body: bytes
    method: str = "GET"
    request_headers: Headers = field(default_factory=list)
    problem: str | None = None
    """Why the body was not kept (over ``max_bytes``, or unreadable); the body is then empty."""

    def json(self) -> tuple[Any, str | None]:
        """The parsed body, or None with the reason it could not be read."""
        if self.problem:
            return None, self.problem
        try:
            return json.loads(self.body), None
        except (ValueError, UnicodeDecodeError):
            return None, f"captured {self.kind} answer {self.url} is not JSON"


@dataclass
class _Box:
    """What one page has captured so far, and how many bodies are still being read."""

    captured: list[Captured] = field(default_factory=list)
    pending: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)


_BOXES: weakref.WeakKeyDictionary[Any, _Box] = weakref.WeakKeyDictionary()


def _box(page: Any) -> _Box:
    box = _BOXES.get(page)
    if box is None:
        box = _BOXES[page] = _Box()
    return box


def patterns(capture: Capture, kinds: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The (kind, URL pattern) pairs of ``capture`` to watch for, of the kinds asked for and set."""
    return tuple((kind, getattr(capture, kind)) for kind in kinds if getattr(capture, kind))


def response_handler(watch: tuple[tuple[str, str], ...], max_bytes: int) -> Any:
    """The page's ``response`` event handler that captures responses matching ``watch``."""
    return partial(_on_response, watch, max_bytes)


async def _on_response(watch: tuple[tuple[str, str], ...], max_bytes: int, response: Any) -> None:
    kind = next((kind for kind, pattern in watch if re.search(pattern, response.url)), None)
    if kind is None:
        return
    try:
        box = _box(response.frame.page)
    except PlaywrightError:  # a service worker's response belongs to no page
        return
    box.pending += 1
    try:
        box.captured.append(await _read(kind, response, max_bytes))
    finally:
        box.pending -= 1
        box.changed.set()


async def _read(kind: str, response: Any, max_bytes: int) -> Captured:
    request = response.request
    try:
        headers = [(h["name"], h["value"]) for h in await response.headers_array()]
        request_headers = [(h["name"], h["value"]) for h in await request.headers_array()]
    except PlaywrightError:
        headers, request_headers = [], []
    seen = Captured(kind, response.url, response.status, headers, b"", request.method, request_headers)
    announced = next((value for name, value in headers if name.lower() == "content-length"), "")
    if announced.isdigit() and int(announced) > max_bytes:
        return _problem(seen, f"captured {kind} answer has {announced} bytes, over max_bytes {max_bytes}")
    try:
        body = await response.body()
    except PlaywrightError as exc:  # a redirect, or the page went away first
        why = (exc.message or "error").splitlines()[0]
        return _problem(seen, f"captured {kind} answer not readable: {why}")
    if len(body) > max_bytes:
        return _problem(seen, f"captured {kind} answer has {len(body)} bytes, over max_bytes {max_bytes}")
    return Captured(kind, seen.url, seen.status, headers, body, seen.method, request_headers)


def _problem(seen: Captured, problem: str) -> Captured:
    return Captured(seen.kind, seen.url, seen.status, seen.headers, b"", seen.method, seen.request_headers,
                    problem)  # fmt: skip


async def wait_captured(page: Any, kind: str, timeout_ms: float) -> list[Captured]:
    """Page method: wait until a ``kind`` answer has been captured (and no body is still being read),
    or the network is quiet with nothing of that kind on the way, or ``timeout_ms`` passed; returns
    everything the page captured."""
    box = _box(page)
    idle = asyncio.ensure_future(page.wait_for_load_state("networkidle", timeout=timeout_ms))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_ms / 1000

    def settled() -> bool:
        return not box.pending and (idle.done() or any(c.kind == kind for c in box.captured))

    try:
        while not settled() and (remaining := deadline - loop.time()) > 0:
            box.changed.clear()
            changed = asyncio.ensure_future(box.changed.wait())
            waiting = {changed} if idle.done() else {changed, idle}
            await asyncio.wait(waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            changed.cancel()
    finally:
        idle.cancel()
        if idle.done() and not idle.cancelled():
            _ = idle.exception()  # a timeout or a closed page: what was captured stands
    captured = list(box.captured)
    _BOXES.pop(page, None)
    return captured


def capture_handlers(capture: Capture) -> dict[str, Any]:
    """``playwright_page_event_handlers`` that capture every answer matching the profile's patterns."""
    return {"response": response_handler(patterns(capture, ["item", "search"]), capture.max_bytes)}


def capture_method(kind: str, timeout_s: float) -> PageMethod:
    """The page method that waits for the page's ``kind`` JSON (``item`` or ``search``); put it first."""
    return PageMethod(wait_captured, kind, timeout_s * 1000)


def captures_of(meta: dict[str, Any]) -> list[Captured]:
    """What the capture page method of a request returned (empty when it did not run)."""
    methods = meta.get("playwright_page_methods") or []
    if isinstance(methods, dict):
        methods = list(methods.values())
    for method in methods:
        result = getattr(method, "result", None)
        if isinstance(result, list) and result and all(isinstance(c, Captured) for c in result):
            return result
    return []


def first_json(captured: Iterable[Captured], kind: str) -> tuple[Any, Captured | None, str | None]:
    """The JSON of the first ``kind`` answer that is a 2xx and reads as JSON; else None and why not."""
    problem = f"no {kind} JSON captured"
    for answer in captured:
        if answer.kind != kind:
            continue
        if not 200 <= answer.status < 300:
            problem = f"captured {kind} answer {answer.url} has HTTP {answer.status}"
            continue
        data, problem_now = answer.json()
        if problem_now is None:
            return data, answer, None
        problem = problem_now
    return None, None, problem


def exchange(answer: Captured) -> Exchange:
    """A captured answer as a WARC exchange: a ``response`` record of its status, headers and body."""
    return Exchange(
        url=answer.url,
        status=answer.status,
        response_headers=answer.headers,
        body=answer.body,
        method=answer.method,
        request_headers=answer.request_headers,
    )


def reference(answer: Captured) -> dict[str, Any]:
    """What a sighting's raw data says of a captured answer (its WARC record is added by the evidence)."""
    ref: dict[str, Any] = {"kind": answer.kind, "url": answer.url, "status": answer.status}
    if answer.problem:
        ref["problem"] = answer.problem
    else:
        ref["payload_sha256"] = sha256_hex(answer.body)
    return ref


def captured_refs(meta: dict[str, Any], captured: list[Captured]) -> list[dict[str, Any]]:
    """The references of a page's captured answers: with their WARC records where evidence is kept."""
    kept = (meta.get("evidence") or {}).get("captured")
    return list(kept) if kept else [reference(answer) for answer in captured]
