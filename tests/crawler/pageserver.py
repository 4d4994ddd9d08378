"""A small local HTTP server whose pages a test sets, for shops the demo does not imitate.

Pages are keyed by the request target exactly as it arrives on the wire (path and query, still
percent-encoded), so a test can tell ``/p/%E0%B8%9E`` from ``/p/%25E0%25B8%259E``. Every request
target is remembered in ``requested``, with its headers in ``received``; an unknown target answers 404.
A ``gate`` (a function of the target) may answer instead of the pages: a rate limit, a challenge page
after a burst.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


@dataclass
class Page:
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class PageServer:
    pages: dict[str, Page] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)
    received: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    gate: Callable[[str], Page | None] | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, target: str) -> str:
        return self.base_url + target

    def serve(
        self,
        target: str,
        body: str | bytes,
        status: int = 200,
        content_type: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.pages[target] = Page(data, status, content_type or Page.content_type, dict(headers or {}))

    def __enter__(self) -> Self:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requested.append(self.path)
                owner.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                gated = owner.gate(self.path) if owner.gate is not None else None
                page = gated or owner.pages.get(self.path) or Page(b"<html><body>not here</body></html>", 404)
                self.send_response(page.status)
                for name, value in page.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                self.wfile.write(page.body)

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


def product_page(product: dict[str, object], head: str = "", body: str = "") -> str:
    """An HTML page with one schema.org Product as JSON-LD."""
    data = json.dumps({"@context": "https://schema.org", "@type": "Product", **product}, ensure_ascii=False)
    data = data.replace("</", "<\\/")
    return (
        f'<html><head>{head}<script type="application/ld+json">{data}</script></head>'
        f"<body>{body}</body></html>"
    )
