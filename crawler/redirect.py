"""Redirect loops end as failures with their reason, not in silence.

Scrapy's RedirectMiddleware sends each redirect through the scheduler, whose duplicate filter drops a
redirect back to a URL already fetched — so a page that redirects in a loop (A → B → A) vanished
without a word: no failure, no errback. Here a redirect to a URL already in the request's own chain
of redirects is refused with ``IgnoreRequest("redirect loop: A → B → A")``, which reaches the
spider's errback and is recorded as a failed URL like any other.

A redirect to the site's challenge page (``[blocked_when] url``) is not followed: the 3xx answer itself
is the block signal (``crawler.throttle``). Following it would also lose requests: every blocked page
redirects to the same challenge URL, which the duplicate filter lets through once.
"""

from __future__ import annotations

from typing import Any

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from crawler.blocking import challenge_redirect


class LoopRedirectMiddleware(RedirectMiddleware):
    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        profile = getattr(self.crawler.spider, "profile", None)
        if challenge_redirect(response, getattr(profile, "blocked_when", None)):
            return response
        return super().process_response(request, response)

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if redirected.url in chain:
            raise IgnoreRequest(f"redirect loop: {' → '.join([*chain, redirected.url])}")
        return super()._redirect(redirected, request, reason)
