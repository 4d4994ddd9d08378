"""The HTTP side shared by the demo shops: replies, request handler, server, the one-time faults and
the fault modes at a rate (``demo.faults``)."""

from __future__ import annotations

import json
import sys
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from demo.faults import LOOP_PARAM
from demo.label import label_png
from demo.page import PRODUCT_IMAGE
from demo.world import DemoState, ShopWorld

HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(data: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(data, ensure_ascii=False).encode(), JSON)


def text_reply(text: str, status: int = 200, content_type: str = TEXT) -> Reply:
    return Reply(status, text.encode(), content_type)


class Shop:
    """A demo shop: answers a path and query for the day being served. Subclasses write `route`."""

    name = ""
    title = ""

    def __init__(self, state: DemoState) -> None:
        self.state = state

    @property
    def world(self) -> ShopWorld:
        return self.state.world(self.name)

    def route(self, path: str, query: dict[str, str], base_url: str) -> Reply:
        raise NotImplementedError

    def admit(self, client: str, path: str, target: str) -> Reply | None:
        """None when the request from ``client`` may be answered; else the reply instead (a challenge)."""
        return None

    def product_id(self, path: str) -> str | None:
        """The item id if `path` is this shop's product URL (the one the one-time faults apply to)."""
        raise NotImplementedError

    def image(self, path: str) -> Reply | None:
        """Any `/img/ID/N.png` is a small grey picture; `/img/ID/label.png` of a listing with a label is
        its product label (TIS mark, licence number, TISI QR code), drawn by `demo.label`."""
        if not (path.startswith("/img/") and path.endswith(".png")):
            return None
        body = PRODUCT_IMAGE
        if path.endswith("/label.png"):
            listing = self.world.by_id.get(path.split("/")[2])
            if listing is not None and listing.label is not None:
                body = label_png(listing.label, listing.brand, listing.model)
        return Reply(200, body, "image/png", {"Cache-Control": "max-age=86400"})

    def rate_fault(self, target: str, path: str) -> str | None:
        """The fault mode (``demo.faults``) this request meets, when the shops run with fault rates."""
        mill = self.state.mill
        return None if mill is None else mill.strike(self.name, target, self.product_id(path) is not None)

    def fault(self, path: str) -> Reply | None:
        """A 503 or 429 on the first request for the shop's two faulty product URLs, otherwise None."""
        if not self.state.faults:
            return None
        item_id = self.product_id(path)
        if item_id is None:
            return None
        world = self.world
        if item_id == world.unavailable_id and self.state.book.first_time(f"503:{item_id}"):
            body = "ระบบขัดข้องชั่วคราว กรุณาลองใหม่ (503 Service Unavailable)"
            return text_reply(body, 503)
        if item_id == world.rate_limited_id and self.state.book.first_time(f"429:{item_id}"):
            reply = text_reply("คำขอถี่เกินไป กรุณารอสักครู่ (429 Too Many Requests)", 429)
            reply.headers["Retry-After"] = "1"
            return reply
        return None


def fault_reply(kind: str | None, target: str) -> Reply | None:
    """The answer of a fault mode that replaces the page (503, 429, a redirect loop's next leg)."""
    if kind == "unavailable":
        return text_reply("ระบบขัดข้องชั่วคราว (503 Service Unavailable)", 503)
    if kind == "rate_limited":
        return Reply(429, "คำขอถี่เกินไป (429 Too Many Requests)".encode(), TEXT, {"Retry-After": "1"})
    if kind == "redirect_loop":
        path, _, query = target.partition("?")
        params = [part for part in query.split("&") if part]
        back = [part for part in params if part != LOOP_PARAM]
        location = path + ("?" + "&".join(back) if back else "") if LOOP_PARAM in params else (
            path + "?" + "&".join([*params, LOOP_PARAM]))  # fmt: skip
        return Reply(302, b"", TEXT, {"Location": location})
    return None


class ShopHandler(BaseHTTPRequestHandler):
    """Keeps connections alive (HTTP/1.1 with Content-Length) and hands each GET to the server's shop."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes; without this each answer waits ~40 ms
    server: ShopServer

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        shop = self.server.shop
        try:
            kind = shop.rate_fault(self.path, path)
            reply = (
                shop.admit(self.client_address[0], path, self.path)
                or shop.image(path)
                or fault_reply(kind, self.path)
                or shop.fault(path)
                or shop.route(path, query, self.server.base_url)
            )
        except Exception:
            traceback.print_exc(file=sys.stderr)
            kind, reply = None, text_reply("internal error", 500)
        if kind == "slow" and shop.state.mill is not None:
            time.sleep(shop.state.mill.rates.slow_s)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if kind == "truncated":  # the whole body announced, half of it sent, the connection closed
            self.wfile.write(reply.body[: len(reply.body) // 2])
            self.close_connection = True
        elif not head:
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a benchmark makes 100,000 requests."""


class ShopServer(ThreadingHTTPServer):
    """One shop on one address; a thread per connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], shop: Shop) -> None:
        super().__init__(address, ShopHandler)
        self.shop = shop
        host, port = self.server_address[0], self.server_address[1]
        self.base_url = f"http://{host!s}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer is normal for a crawler being stopped; stay quiet about it."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)
