"""Server-rendered shops: result pages and sitemaps lead to listing pages; fields come from
schema.org data first and the profile's selectors second."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Request, Response, TextResponse
from scrapy.utils.sitemap import Sitemap

from crawler.extract import json_fields, parse_price, schema_org_product, select_fields
from crawler.items import FailedUrl, Sighting
from crawler.profile import CAPTURE_PREFIX, STATE_PREFIX
from crawler.removal import removed_page
from crawler.spiders.base import GONE_STATUSES, ProfileSpider, evidence_fields
from crawler.state import EmbeddedState, read_state
from crawler.values import image_urls


class HtmlSpider(ProfileSpider):
    name = "html"

    def discovery_requests(self) -> Iterator[Request]:
        discovery = self.profile.discovery
        if discovery.search_url and self.queries:
            for query in self.queries:
                yield self.results_request(self.search_url(query, page=1), query=query)
        for category in discovery.categories:
            yield self.results_request(self.profile.url(category))
        if discovery.sitemap and not (discovery.search_url and self.queries):
            yield Request(
                self.profile.url(discovery.sitemap), callback=self.parse_sitemap, errback=self.failed
            )

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        sitemap = Sitemap(response.body)
        for entry in sitemap:
            url = entry.get("loc", "")
            if sitemap.type == "sitemapindex":
                yield Request(url, callback=self.parse_sitemap, errback=self.failed)
            elif self.is_listing_url(url):
                yield self.listing_request(url)

    def results_request(self, url: str, page: int = 1, query: str | None = None) -> Request:
        """A result page (search or category); ``page`` counts pages of one search word or category."""
        meta = {"result_page": page, "query": query}
        return Request(url, callback=self.parse_results, errback=self.failed, meta=meta)

    def parse_results(self, response: Response) -> Iterator[Request]:
        """Follow the listing links of a result page, then the next page: by its link, or by number."""
        discovery = self.profile.discovery
        assert isinstance(response, TextResponse)
        found = 0
        for href in response.css(discovery.listing_links).getall() if discovery.listing_links else []:
            url = response.urljoin(href)
            if self.is_listing_url(url):
                found += 1
                yield self.listing_request(url)
        page, query = response.meta.get("result_page", 1), response.meta.get("query")
        next_page = response.css(discovery.next_page).get() if discovery.next_page else None
        if next_page:
            yield self.results_request(response.urljoin(next_page), page + 1, query)
        elif found and query is not None and "{page}" in discovery.search_url:
            yield self.results_request(self.search_url(query, page=page + 1), page + 1, query)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        url_id = self.id_from_url(response.url)
        if response.status in GONE_STATUSES:
            yield from self.gone(response, url_id)
            return
        if not isinstance(response, TextResponse):
            yield FailedUrl(response.url, "not a text page", response.status)
            return
        fields: dict[str, Any] = schema_org_product(response.text, response.url)
        rules = self.profile.fields
        fields.update(
            select_fields(
                response.selector,
                {n: r for n, r in rules.items() if not is_json_rule(r)},
                self.profile.price_scale,
            )
        )
        page_json = self.page_json(response, fields)
        marketplace_id = url_id or fields.get("marketplace_id") or response.meta.get("item_id")
        gone_when = self.profile.gone_when
        removed = removed_page(response.selector, gone_when, page_json) if gone_when else None
        if removed:
            yield from self.gone(response, str(marketplace_id) if marketplace_id else None, removed)
            return
        if not marketplace_id:
            yield FailedUrl(
                response.url, "no listing id (profile id_from_url or schema.org sku)", response.status
            )
            return
        yield build_sighting(str(marketplace_id), response, fields, self.profile.currency)

    def page_json(self, response: TextResponse, fields: dict[str, Any]) -> Any:
        """Add the fields read from the page's embedded state (``state:`` rules); returns the JSON that
        ``gone_when.path`` reads (the embedded state)."""
        state = self.embedded_state(response)
        if state.problem:
            fields["state_error"] = state.problem
        fields.update(json_fields(state.data, self.json_rules(STATE_PREFIX), self.profile.price_scale))
        return state.data

    def json_rules(self, prefix: str) -> dict[str, str]:
        """The profile's field rules that read JSON by dotted path after ``prefix`` (``state:``…)."""
        return {n: r.removeprefix(prefix) for n, r in self.profile.fields.items() if r.startswith(prefix)}

    def embedded_state(self, response: TextResponse) -> EmbeddedState:
        """The page's embedded state when the profile reads one; a miss is logged and counted."""
        if self.profile.state is None:
            return EmbeddedState()
        state = read_state(response.selector, self.profile.state)
        if state.problem:
            self.logger.warning("embedded state not read on %s: %s", response.url, state.problem)
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("tisiwatch/state_missed")
        return state


def is_json_rule(rule: str) -> bool:
    """A field rule that reads JSON (``state:`` or ``capture:``), not the page's markup."""
    return rule.startswith((STATE_PREFIX, CAPTURE_PREFIX))


def build_sighting(
    marketplace_id: str, response: Response, fields: dict[str, Any], currency: str = ""
) -> Sighting:
    """A :class:`Sighting` from extracted fields; the human URL is the page unless a field says otherwise,
    the currency the profile's (``currency``) unless the page gives one. Images are kept in order, once."""
    price = fields.get("price")
    return Sighting(
        marketplace_id=marketplace_id,
        url=response.urljoin(fields.get("url") or response.url),
        title=fields.get("title") or "",
        description=fields.get("description") or "",
        brand=fields.get("brand"),
        model=fields.get("model"),
        price=price if price is None or not isinstance(price, str) else parse_price(price),
        currency=fields.get("currency") or currency or None,
        seller_name=fields.get("seller_name"),
        seller_id=fields.get("seller_id"),
        seller_url=response.urljoin(fields["seller_url"]) if fields.get("seller_url") else None,
        availability=fields.get("availability"),
        spec=fields.get("spec") or {},
        images=image_urls(response.urljoin(image) for image in fields.get("images") or []),
        raw={key: str(value) if key == "price" else value for key, value in fields.items()},
        http_status=response.status,
        fetched_url=response.url,
        **evidence_fields(response),
    )
