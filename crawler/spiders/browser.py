"""JavaScript-rendered shops, through scrapy-playwright and Debian's Chromium.

Result pages are opened in a page the spider drives: it waits for the results, clicks "load more"
until the button is gone (or a limit), optionally scrolls, then reads the links. Listing pages are
rendered until the profile's selector appears and then read like server-rendered pages. Pages are
always closed; a browser error or timeout fails only that request.

With ``[capture]`` (``crawler.capture``) the JSON the page fetches by itself is kept while it renders:
``capture:`` fields read the item answer, and with ``capture.search`` result pages are read from their
search answer (ids, total and paging as ``api`` profiles read them; listing URLs from
``discovery.listing_url``, whose placeholders may read the search item) instead of their links.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from scrapy.http import Request, Response, TextResponse
from scrapy_playwright.page import PageMethod

from crawler.capture import capture_handlers, capture_method, captured_refs, captures_of, first_json
from crawler.evidence import screenshot_page_method
from crawler.extract import dotted, json_fields
from crawler.items import FailedUrl
from crawler.profile import CAPTURE_PREFIX
from crawler.spiders.api import Page, next_page
from crawler.spiders.html import HtmlSpider
from crawler.urltemplate import fill

CHROMIUM = "/usr/bin/chromium"
RENDER_GRACE_MS = 3000
"""How long a page may take to show its selector before we look at whether the network is quiet."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def playwright_settings(max_pages: int, images: bool = False) -> dict[str, Any]:
    """Scrapy settings that route requests marked ``playwright`` through Debian's Chromium."""
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    return {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS},
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": max_pages,
        # with screenshots as evidence, product photos load: TIS marks are often printed in them
        "PLAYWRIGHT_ABORT_REQUEST": _abort_media if images else _abort_heavy_request,
    }


def _abort_heavy_request(request: Any) -> bool:
    """Images, fonts and media are not needed to read a listing: skip them."""
    return bool(request.resource_type in {"image", "font", "media"})


def _abort_media(request: Any) -> bool:
    """Fonts and media are not needed for a listing or its screenshot: skip them."""
    return bool(request.resource_type in {"font", "media"})


MORE_LOADED_JS = """([links, more, before]) =>
    document.querySelectorAll(links).length > before || !document.querySelector(more)"""


def dom_selector(css: str) -> str:
    """A Scrapy CSS selector without its ``::attr(...)``/``::text`` ending, for use in the page."""
    return re.sub(r"\s*::(?:attr\([^)]*\)|text)\s*$", "", css)


async def wait_rendered(page: Any, selector: str, timeout_ms: float) -> None:
    """Wait until the page's scripts are done and ``selector`` is there — without failing the request:
    an error page (503, 429) must reach the retry middleware, and a page that never renders is
    recorded by the spider with its reason."""
    try:
        await page.wait_for_selector(selector, timeout=min(timeout_ms, RENDER_GRACE_MS), state="attached")
        return
    except PlaywrightTimeoutError:
        pass
    try:  # slow, or an error page: once the network is quiet, the page has shown what it will show
        await page.wait_for_load_state("networkidle", timeout=timeout_ms)
        await page.wait_for_selector(selector, timeout=RENDER_GRACE_MS, state="attached")
    except PlaywrightTimeoutError:
        return


class BrowserSpider(HtmlSpider):
    name = "browser"

    def _playwright_meta(self, wait_for: str, capture: str = "", **extra: Any) -> dict[str, Any]:
        """Meta of a request a browser renders: wait for ``wait_for``; with ``capture`` (``item`` or
        ``search``) and a profile pattern for it, first wait for the JSON the page fetches."""
        timeout_s = self.profile.browser.timeout_s
        methods = [PageMethod(wait_rendered, wait_for, timeout_s * 1000)] if wait_for else []
        meta: dict[str, Any] = {"playwright": True, **extra}
        rules = self.profile.capture
        if rules is not None and capture and getattr(rules, capture):
            methods.insert(0, capture_method(capture, timeout_s))
            meta["playwright_page_event_handlers"] = capture_handlers(rules)
        return {**meta, "playwright_page_methods": methods}

    def discovery_requests(self) -> Iterator[Request]:
        if self.profile.capture is not None and self.profile.capture.search:
            yield from self.captured_discovery()
            return
        for request in super().discovery_requests():
            if request.callback == self.parse_results:
                meta = self._playwright_meta(
                    self.profile.browser.results_wait_for, playwright_include_page=True
                )
                request = request.replace(
                    meta={**request.meta, **meta},
                    callback=self.parse_rendered_results,
                    errback=self.failed_page,
                )
            yield request

    def listing_request(self, url: str, **meta: Any) -> Request:
        request = super().listing_request(url, **meta)
        playwright = self._playwright_meta(self.profile.browser.wait_for, capture="item")
        if self.settings.getbool("TISIWATCH_SCREENSHOTS"):  # evidence: a full-page PNG after rendering
            playwright["playwright_page_methods"].append(screenshot_page_method())
        return request.replace(meta={**request.meta, **playwright})

    def parse_listing(self, response: Response) -> Iterator[Any]:
        wait_for = self.profile.browser.wait_for
        if response.status == 200 and isinstance(response, TextResponse) and not response.css(wait_for):
            yield FailedUrl(
                response.url, f"listing page did not render ({wait_for!r} not found)", response.status
            )
            return
        yield from super().parse_listing(response)

    async def parse_rendered_results(self, response: Response) -> AsyncIterator[Any]:
        """Click "load more" until it is gone, scroll if asked, then follow the listing links."""
        page = response.meta["playwright_page"]
        steps = self.profile.browser
        try:
            timeout_ms = steps.timeout_s * 1000
            links = dom_selector(self.profile.discovery.listing_links)
            for _ in range(steps.max_load_more if steps.load_more else 0):
                button = page.locator(f"{steps.load_more}:visible:enabled")
                if not await button.count():
                    break
                before = await page.locator(links).count()
                try:
                    await button.first.click(timeout=timeout_ms)
                    # more results arrived, or the button is gone: the shop has shown everything
                    await page.wait_for_function(
                        MORE_LOADED_JS, arg=[links, steps.load_more, before], timeout=timeout_ms
                    )
                except PlaywrightError:  # removed between the look and the click, or nothing came
                    break
            if steps.scroll:
                await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            rendered = response.replace(body=(await page.content()).encode("utf-8"), encoding="utf-8")
        finally:
            await page.close()
        for request in self.parse_results(rendered):
            if request.callback == self.parse_results:  # a next-page link: render it too
                meta = self._playwright_meta(steps.results_wait_for, playwright_include_page=True)
                request = request.replace(
                    meta={**request.meta, **meta},
                    callback=self.parse_rendered_results,
                    errback=self.failed_page,
                )
            yield request

    def page_json(self, response: TextResponse, fields: dict[str, Any]) -> Any:
        """Fields from embedded state, then from the item JSON the page fetched (``capture:`` rules,
        relative to ``capture.item_path``); ``gone_when.path`` reads the whole captured item answer
        when the profile captures one, else the embedded state."""
        state = super().page_json(response, fields)
        rules = self.profile.capture
        if rules is None or not rules.item:
            return state
        captured = captures_of(response.meta)
        answer, _, problem = first_json(captured, "item")
        if problem:
            fields["capture_error"] = problem
            self.logger.warning("captured JSON not read on %s: %s", response.url, problem)
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("tisiwatch/capture_missed")
        item = dotted(answer, rules.item_path) if rules.item_path else answer
        fields.update(json_fields(item, self.json_rules(CAPTURE_PREFIX), self.profile.price_scale))
        fields["captured"] = captured_refs(response.meta, captured)
        return answer

    def captured_discovery(self) -> Iterator[Request]:
        """Result pages read from the search JSON they fetch: search words (all listings with none and
        no categories, as api profiles do), each paged as the profile says; each category one page."""
        discovery = self.profile.discovery
        if discovery.search_url:
            for query in self.queries or ([] if discovery.categories else [""]):
                yield self.captured_results_request(query, Page(number=1, offset=0, cursor=""))
        for category in discovery.categories:
            yield self.captured_results_request(None, Page(1, 0, ""), self.profile.url(category))

    def captured_results_request(self, query: str | None, page: Page, url: str = "") -> Request:
        if not url:
            size = self.profile.discovery.page_size
            url = self.search_url(query or "", offset=page.offset, page=page.number, cursor=quote(page.cursor),
                                  limit=size)  # fmt: skip
        meta = self._playwright_meta("", capture="search", result_page=page.number, query=query)
        return Request(url, callback=self.parse_captured_results, errback=self.failed, meta=meta,
                       cb_kwargs={"page": page})  # fmt: skip

    def parse_captured_results(self, response: Response, page: Page) -> Iterator[Any]:
        """The listings of a result page from its captured search JSON, then the next page."""
        discovery = self.profile.discovery
        data, _, problem = first_json(captures_of(response.meta), "search")
        items = dotted(data, discovery.items_path)
        if problem or not isinstance(items, list):
            yield FailedUrl(response.url, problem or f"no list at {discovery.items_path!r} in the captured "
                            "search JSON", response.status)  # fmt: skip
            return
        for item in items:
            item_id = dotted(item, discovery.item_id_path)
            if item_id is not None and not isinstance(item_id, (dict, list)):
                path = fill(discovery.listing_url, str(item_id), item)
                if path is not None:  # a search item without the values its URL needs is skipped
                    yield self.listing_request(self.profile.url(path), item_id=str(item_id))
        query = response.meta.get("query")
        following = next_page(page, data, len(items), discovery) if query is not None else None
        if following is not None:
            yield self.captured_results_request(query, following)

    async def failed_page(self, failure: Any) -> AsyncIterator[Any]:
        """Errback of requests that hold a page: close it, then record the failure."""
        page = failure.request.meta.get("playwright_page")
        if page is not None:
            await page.close()
        for item in self.failed(failure):
            yield item
