"""JSON API shops: a search endpoint with offset paging leads to one detail endpoint per item."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from scrapy.http import Request, Response

from crawler.extract import dotted, json_fields
from crawler.items import FailedUrl
from crawler.spiders.base import GONE_STATUSES, ProfileSpider
from crawler.spiders.html import build_sighting


class ApiSpider(ProfileSpider):
    name = "api"

    def discovery_requests(self) -> Iterator[Request]:
        discovery = self.profile.discovery
        for query in self.queries or [""]:
            url = self.search_url(query, offset=0, limit=discovery.page_size)
            yield Request(
                url, callback=self.parse_results, errback=self.failed, cb_kwargs={"query": query, "offset": 0}
            )

    def parse_results(self, response: Response, query: str, offset: int) -> Iterator[Any]:
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
            if item_id is None:
                continue
            yield self.listing_request(
                self.profile.url(discovery.item_url.format(id=item_id)), item_id=str(item_id)
            )
        total = dotted(data, discovery.total_path) if discovery.total_path else None
        following = offset + len(items)
        more = following < total if isinstance(total, int) else len(items) >= discovery.page_size
        if items and more:
            url = self.search_url(query, offset=following, limit=discovery.page_size)
            yield Request(
                url,
                callback=self.parse_results,
                errback=self.failed,
                cb_kwargs={"query": query, "offset": following},
            )

    def parse_listing(self, response: Response) -> Iterator[Any]:
        item_id = response.meta.get("item_id") or self.id_from_url(response.url)
        if response.status in GONE_STATUSES:
            yield from self.gone(response, item_id)
            return
        data = _json(response)
        if not isinstance(data, dict):
            yield FailedUrl(response.url, "item answer is not a JSON object", response.status)
            return
        fields = json_fields(data, self.profile.fields)
        marketplace_id = fields.get("marketplace_id") or item_id
        if not marketplace_id:
            yield FailedUrl(response.url, "no listing id in the item", response.status)
            return
        fields.setdefault("url", response.url)
        sighting = build_sighting(str(marketplace_id), response, fields)
        yield sighting


def _json(response: Response) -> Any:
    try:
        return json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        return None
