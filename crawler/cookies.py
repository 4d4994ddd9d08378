"""The cookies of a profile's cookie file, handed to Scrapy's own cookie middleware.

The file is read once, by the standard library's Netscape parser (``crawler.session``). The first
request to each host carries that host's cookies in ``Request.cookies``; Scrapy's ``CookiesMiddleware``
puts them in its cookie jar, and from there they go with every later request and are updated by the
site's answers as in a browser.
"""

from __future__ import annotations

from http.cookiejar import Cookie
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request

from crawler.session import read_cookie_file


def domain_matches(host: str, cookie: Cookie) -> bool:
    """Whether a cookie of the file belongs to ``host``: its own host, or a ``.domain`` above it."""
    domain = cookie.domain.lower()
    if domain.startswith("."):
        return host == domain[1:] or host.endswith(domain)
    return host == domain


def as_request_cookie(cookie: Cookie) -> dict[str, Any]:
    """A cookie as Scrapy's ``Request.cookies`` takes it; a host-only cookie stays host-only."""
    given: dict[str, Any] = {"name": cookie.name, "value": cookie.value or "", "path": cookie.path or "/"}
    if cookie.domain.startswith("."):
        given["domain"] = cookie.domain
    if cookie.secure:
        given["secure"] = True
    return given


class CookieFileMiddleware:
    """Downloader middleware (before Scrapy's ``CookiesMiddleware``) that seeds its jar from the file."""

    def __init__(self, cookies: list[Cookie]) -> None:
        self.cookies = cookies
        self.seeded: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("TISIWATCH_COOKIE_FILE")
        if not path or not crawler.settings.getbool("COOKIES_ENABLED"):
            raise NotConfigured
        return cls(read_cookie_file(Path(path)))

    def process_request(self, request: Request, spider: Any = None) -> None:
        host = (urlsplit(request.url).hostname or "").lower()
        if host in self.seeded or request.meta.get("dont_merge_cookies"):
            return
        self.seeded.add(host)
        mine: list[Any] = [as_request_cookie(c) for c in self.cookies if domain_matches(host, c)]
        if not mine:
            return
        given: Any = request.cookies
        earlier = [{"name": k, "value": v} for k, v in given.items()] if isinstance(given, dict) else given
        request.cookies = [*mine, *earlier]
