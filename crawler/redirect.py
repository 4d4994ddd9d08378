"""Redirect loops end as failures with their reason, not in silence.

Scrapy's RedirectMiddleware sends each redirect through the scheduler, whose duplicate filter drops a
redirect back to a URL already fetched — so a page that redirects in a loop (A → B → A) vanished
without a word: no failure, no errback. Here a redirect to a URL already in the request's own chain
of redirects is refused with ``IgnoreRequest("redirect loop: A → B → A")``, which reaches the
spider's errback and is recorded as a failed URL like any other.
"""

from __future__ import annotations

from typing import Any

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request


class LoopRedirectMiddleware(RedirectMiddleware):
    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if redirected.url in chain:
            raise IgnoreRequest(f"redirect loop: {' → '.join([*chain, redirected.url])}")
        return super()._redirect(redirected, request, reason)
