"""JSON API shops: a search endpoint with offset paging leads to one detail endpoint per item."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from scrapy.http import Request, Response

from crawler.extract import dotted, json_fields
from crawler.items import FailedUrl
from crawler.profile import Discovery
from crawler.removal import removed_by_json
from crawler.spiders.base import GONE_STATUSES, ProfileSpider
from crawler.spiders.html import build_sighting


class ApiSpider(ProfileSpider):
    name = "api"

    def discovery_requests(self) -> Iterator[Request]:
        for query in self.queries or [""]:
            yield self.results_request(query, Page(number=1, offset=0, cursor=""))

    def results_request(self, query: str, page: Page) -> Request:
        discovery = self.profile.discovery
        url = self.search_url(query, offset=page.offset, page=page.number, cursor=quote(page.cursor),
                              limit=discovery.page_size)  # fmt: skip
        return Request(url, callback=self.parse_results, errback=self.failed,
                       cb_kwargs={"query": query, "page": page}, meta={"result_page": page.number, "query": query})  # fmt: skip

    def parse_results(self, response: Response, query: str, page: Page) -> Iterator[Any]:
        data = _json(response)
        if data is None:
            yield FailedUrl(response.url, "search answer is not JSON", response.status)
            return
        discovery = self.profile.discovery
        items = dotted(data, discovery.items_path)
        if not isinstance(items, list):
            yield FailedUrl(response.url, f"no list at {discovery.items_path!r}", response.status)
            return
        for item in items:
            item_id = dotted(item, discovery.item_id_path)
            if item_id is not None:
                url = self.profile.url(discovery.item_url.format(id=quote(str(item_id), safe="")))
                yield self.listing_request(url, item_id=str(item_id))
        following = next_page(page, data, len(items), discovery)
        if following is not None:
            yield self.results_request(query, following)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        item_id = response.meta.get("item_id") or self.id_from_url(response.url)
        if response.status in GONE_STATUSES:
            yield from self.gone(response, item_id)
            return
        data = _json(response)
        if not isinstance(data, dict):
            yield FailedUrl(response.url, "item answer is not a JSON object", response.status)
            return
        fields = json_fields(data, self.profile.fields, self.profile.price_scale)
        marketplace_id = fields.get("marketplace_id") or item_id
        removed = removed_by_json(data, self.profile.gone_when) if self.profile.gone_when else None
        if removed:
            yield from self.gone(response, str(marketplace_id) if marketplace_id else None, removed)
            return
        if not marketplace_id:
            yield FailedUrl(response.url, "no listing id in the item", response.status)
            return
        fields.setdefault("url", response.url)
        sighting = build_sighting(str(marketplace_id), response, fields, self.profile.currency)
        yield sighting


@dataclass(frozen=True)
class Page:
    """Where a result page is: its number (from 1), its offset, and the cursor that leads to it."""

    number: int
    offset: int
    cursor: str


def next_page(page: Page, data: Any, count: int, discovery: Discovery) -> Page | None:
    """The page after ``page``, by the profile's paging (offset, page number or cursor); None at the end."""
    if not count:
        return None
    if discovery.paging == "cursor":
        cursor = dotted(data, discovery.cursor_path)
        return Page(page.number + 1, page.offset + count, str(cursor)) if cursor not in (None, "") else None
    total = dotted(data, discovery.total_path) if discovery.total_path else None
    following = page.offset + count
    more = following < total if isinstance(total, int) else count >= discovery.page_size
    return Page(page.number + 1, following, "") if more else None


def _json(response: Response) -> Any:
    try:
        return json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        return None
