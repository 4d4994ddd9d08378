"""JavaScript-rendered shops, through scrapy-playwright and Debian's Chromium.

Result pages are opened in a page the spider drives: it waits for the results, clicks "load more"
until the button is gone (or a limit), optionally scrolls, then reads the links. Listing pages are
rendered until the profile's selector appears and then read like server-rendered pages. Pages are
always closed; a browser error or timeout fails only that request.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from scrapy.http import Request, Response, TextResponse
from scrapy_playwright.page import PageMethod

from crawler.evidence import screenshot_page_method
from crawler.items import FailedUrl
from crawler.spiders.html import HtmlSpider

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

    def _playwright_meta(self, wait_for: str, **extra: Any) -> dict[str, Any]:
        timeout_ms = self.profile.browser.timeout_s * 1000
        methods = [PageMethod(wait_rendered, wait_for, timeout_ms)] if wait_for else []
        return {"playwright": True, "playwright_page_methods": methods, **extra}

    def discovery_requests(self) -> Iterator[Request]:
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
        playwright = self._playwright_meta(self.profile.browser.wait_for)
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

    async def failed_page(self, failure: Any) -> AsyncIterator[Any]:
        """Errback of requests that hold a page: close it, then record the failure."""
        page = failure.request.meta.get("playwright_page")
        if page is not None:
            await page.close()
        for item in self.failed(failure):
            yield item
