"""Blocked, challenged and rate-limited answers: the profile's ``[blocked_when]`` rule, and what a
response that is not the page asked for looks like.

A site that has had enough of a crawler rarely says so with an error: it answers 429 or 503, a 403,
or a 200 "verify you are human" page — often at another URL after a redirect. Such an answer is a
*block signal* (:func:`block_signal`): it is never parsed as a listing or result page, it slows the
whole site down (``crawler.throttle``), and if it persists the site's crawl stops with status
``blocked``. tisiwatch never tries to solve a challenge: it waits, or comes back another day.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from parsel import Selector
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse

THROTTLED = (429, 503)
"""Statuses that always mean "slow down" (with or without ``Retry-After``)."""
_SPACE = re.compile(r"\s+")
VISIBLE_TEXT = "//body//text()[not(ancestor::script) and not(ancestor::style)]"


class BlockedWhen(BaseModel):
    """How a site shows that it blocks or challenges the crawler; any rule that holds is a block signal.

    ``url`` is matched against the final URL of the answer (after redirects), so a site that sends
    blocked clients to ``/verify?...`` is recognised whatever page was asked for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = ""
    """Regular expression (searched) of the final URL of a challenge, verify or captcha page."""
    selector: str = ""
    """CSS selector (or ``xpath:`` XPath) of an element only a challenge page has (html, browser)."""
    text: str = ""
    """Text only a challenge page shows (compared with spaces collapsed, scripts excluded)."""
    status: list[int] = Field(default_factory=list)
    """HTTP statuses that mean "blocked" on this site (429 and 503 always slow the site down)."""

    @field_validator("url")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
        return value

    @field_validator("status")
    @classmethod
    def _statuses(cls, value: list[int]) -> list[int]:
        wrong = [code for code in value if not 100 <= code <= 599]
        if wrong:
            raise ValueError(f"{wrong[0]} is not an HTTP status (100-599)")
        if any(200 <= code < 300 for code in value):
            raise ValueError(
                "a 2xx status cannot mean blocked; use url, selector or text for a 200 challenge page"
            )
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> BlockedWhen:
        if not (self.url or self.selector or self.text or self.status):
            raise ValueError("needs url, selector, text or status")
        return self


class BlockedPage(IgnoreRequest):
    """A request whose every answer was a block signal, past its own limit of slowdown rounds."""


class SiteBlocked(IgnoreRequest):
    """The site's crawl stopped for this run (status ``blocked``): the request was not made, and is
    left for the next run — not a failure of its URL."""


def challenge_redirect(response: Response, rule: BlockedWhen | None) -> str | None:
    """The challenge URL a 3xx answer redirects to (``rule.url`` matches its ``Location``), or None."""
    if rule is None or not rule.url or not 300 <= response.status < 400:
        return None
    location = response.headers.get(b"Location")
    if not location:
        return None
    target = urljoin(response.url, location.decode("latin-1"))
    return target if re.search(rule.url, target) else None


def block_signal(response: Response, rule: BlockedWhen | None) -> str | None:
    """Why ``response`` is a block signal rather than the page asked for, or None."""
    status = response.status
    if status in THROTTLED:
        return f"HTTP {status}"
    if rule is None:
        return None
    if status in rule.status:
        return f"HTTP {status}"
    if rule.url and re.search(rule.url, response.url):
        return f"challenge page {response.url[:200]}"
    if (target := challenge_redirect(response, rule)) is not None:
        return f"redirect to challenge page {target[:200]}"
    if not isinstance(response, TextResponse) or not (rule.selector or rule.text):
        return None
    try:
        selector = Selector(text=response.text)
    except (ValueError, TypeError):
        return None
    if rule.selector:
        css = rule.selector
        if selector.xpath(css[6:]) if css.startswith("xpath:") else selector.css(css):
            return f"challenge page ({css!r} found)"
    if rule.text:
        shown = _SPACE.sub(" ", " ".join(selector.xpath(VISIBLE_TEXT).getall()))
        if _SPACE.sub(" ", rule.text.strip()) in shown:
            return f"challenge page ({rule.text!r} shown)"
    return None
