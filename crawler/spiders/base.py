"""The profile-driven spider base: discovery strategy shared by every kind of site."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Request, Response
from scrapy.utils.log import failure_to_exc_info
from twisted.python.failure import Failure

from crawler.blocking import SiteBlocked
from crawler.items import FailedUrl, Sighting
from crawler.outcome import failure_kind
from crawler.profile import SiteProfile

GONE_STATUSES = [404, 410]
PRIORITY_FIRST, PRIORITY_LAST = 100, -100
"""Request priorities of a planned run's re-checks of open violations and of the other listings."""
EVIDENCE_FIELDS = ("warc_file", "warc_offset", "payload_sha256", "screenshot_file", "screenshot_sha256")


def evidence_fields(response: Response) -> dict[str, Any]:
    """The evidence kept of a response (set in ``response.meta["evidence"]`` by the evidence middleware)."""
    evidence = response.meta.get("evidence") or {}
    return {name: evidence.get(name) for name in EVIDENCE_FIELDS}


class ProfileSpider(scrapy.Spider):
    """One spider for every site of a kind; its behaviour comes from a :class:`SiteProfile`."""

    name = "profile"

    def __init__(
        self,
        profile: SiteProfile,
        queries: Iterable[str] = (),
        urls: Iterable[str] = (),
        listing_ids: Mapping[str, str] | None = None,
        late_urls: Iterable[str] = (),
        planned: bool = False,
        first_urls: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(name=profile.name, **kwargs)
        self.profile = profile
        self.queries = list(dict.fromkeys(q.strip() for q in queries if q.strip()))
        self.listing_urls = list(urls)
        self.listing_ids = dict(listing_ids or {})
        """The known listing id of each of ``urls`` (a re-check): a page that is gone, or whose URL
        does not carry the id (it came from schema.org ``sku``), still names its listing."""
        self.late_urls = list(late_urls)
        self.planned = planned
        """A run of the daily plan (``crawler.budget``): ``urls`` first, then the search words, then
        ``late_urls``, in that order of priority."""
        self.first_urls = list(first_urls)
        """Listings a discovery re-checks before it searches (the daily crawl of a site without a
        budget: those whose case sent to ETDA is open); each is named by ``listing_ids``."""
        self.allowed_domains = profile.domains()
        discovery = profile.discovery
        self._listing_pattern = (
            re.compile(discovery.listing_url_pattern) if discovery.listing_url_pattern else None
        )
        self._id_pattern = re.compile(discovery.id_from_url) if discovery.id_from_url else None

    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_requests_for_profile():
            yield request

    def start_requests_for_profile(self) -> Iterator[Request]:
        """Explicit URLs win; otherwise the profile's discovery: search, categories, sitemap."""
        if self.planned:
            yield from self.planned_requests()
            return
        if self.listing_urls:
            for url in self.listing_urls:
                known = self.listing_ids.get(url)
                yield self.listing_request(url, **({"item_id": known} if known else {}))
            return
        for url in self.first_urls:
            known = self.listing_ids.get(url)
            request = self.listing_request(url, **({"item_id": known} if known else {}))
            yield request.replace(priority=PRIORITY_FIRST)
        for url in self.profile.discovery.urls:
            yield self.listing_request(self.profile.url(url))
        yield from self.discovery_requests()

    def planned_requests(self) -> Iterator[Request]:
        """The daily plan's requests: Scrapy fetches higher priorities first, so the open violations'
        re-checks go before the searches (and the listings they lead to), and those before the other
        re-checks; the crawl's budget (``crawler.spend``) cuts what comes last."""
        for urls, priority in ((self.listing_urls, PRIORITY_FIRST), (self.late_urls, PRIORITY_LAST)):
            for url in urls:
                known = self.listing_ids.get(url)
                request = self.listing_request(url, **({"item_id": known} if known else {}))
                yield request.replace(priority=priority)
        if self.queries or not self.profile.discovery.search_url:  # no search: categories, sitemap
            yield from self.discovery_requests()

    def discovery_requests(self) -> Iterator[Request]:
        raise NotImplementedError

    def listing_request(self, url: str, **meta: Any) -> Request:
        """A request for a listing page; 404/410 reach the callback so the listing can be marked gone."""
        return Request(
            url,
            callback=self.parse_listing,
            errback=self.failed,
            meta={"handle_httpstatus_list": GONE_STATUSES, "listing": True, **meta},
        )

    def parse_listing(self, response: Response) -> Iterator[Any]:
        raise NotImplementedError

    def search_url(self, query: str, **paging: Any) -> str:
        """The search URL for ``query``; paging placeholders default to the first page."""
        values = {"page": 1, "offset": 0, "cursor": "", "limit": self.profile.discovery.page_size, **paging}
        return self.profile.url(self.profile.discovery.search_url.format(query=quote(query), **values))

    def is_listing_url(self, url: str) -> bool:
        return self._listing_pattern is None or bool(self._listing_pattern.search(url))

    def id_from_url(self, url: str) -> str | None:
        if self._id_pattern is None:
            return None
        match = self._id_pattern.search(url.split("?", 1)[0])
        return match.group(1) if match else None

    def gone(self, response: Response, marketplace_id: str | None, removed: str = "") -> Iterator[Any]:
        """A listing page that answers 404/410, or says it was removed (``removed``, by the profile's
        ``gone_when``): the listing is gone (or was never there)."""
        marketplace_id = marketplace_id or response.meta.get("item_id")
        if marketplace_id:
            yield Sighting(
                marketplace_id,
                response.url,
                gone=True,
                http_status=response.status,
                fetched_url=response.url,
                **evidence_fields(response),
            )
        else:
            yield FailedUrl(
                response.url,
                f"{removed or f'HTTP {response.status}'}, no listing id in the URL",
                response.status,
                "not_found",
            )

    def failed(self, failure: Failure) -> Iterator[FailedUrl]:
        """Errback: the request finally failed (after retries); record why, and by what kind of failure.
        A failure no crawl expects (a bug, not the network or the site) is also logged with its traceback."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if failure.check(SiteBlocked):  # not made: left for the next run (crawler.throttle)
            if self.crawler.stats:
                self.crawler.stats.inc_value("tisiwatch/blocked/dropped")
            return
        response = getattr(failure.value, "response", None)
        status = getattr(response, "status", None)
        name = failure.type.__name__ if failure.type is not None else "Error"
        reason = f"HTTP {status}" if status else f"{name}: {failure.getErrorMessage()}"
        kind = failure_kind(failure.value) if failure.value is not None else "error"
        if kind == "error":
            self.logger.error("request failed unexpectedly: %s", url, exc_info=failure_to_exc_info(failure))
        yield FailedUrl(url, reason, status, kind)
