"""Site profiles: a marketplace described as data (TOML), validated when loaded.

An error names the profile, the key and the problem, e.g.
``demo-html: discovery.search_url: must contain {query}``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin, urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator

from crawler.blocking import BlockedWhen
from crawler.pagejson import DOTTED_PATH as DOTTED_PATH
from crawler.pagejson import JS_NAME as JS_NAME
from crawler.pagejson import Capture as Capture
from crawler.pagejson import GoneWhen as GoneWhen
from crawler.pagejson import State as State
from crawler.pagejson import _Part
from crawler.session import Session, check_kind
from crawler.urltemplate import id_only, listing_template, one_group, placeholders

SHIPPED_DIR = Path(__file__).resolve().parent / "sites"
STARTERS = frozenset({"lazada", "shopee"})
"""Shipped profiles of real marketplaces written without checking them against the live site."""
STATE_PREFIX = "state:"
"""A field rule that reads the page's embedded state (``[state]``) by dotted path."""
CAPTURE_PREFIX = "capture:"
"""A field rule that reads the item JSON the page fetched by itself (``[capture]``) by dotted path."""
FIELD_NAMES = ("marketplace_id", "url", "title", "description", "brand", "model", "price", "currency",
               "seller_name", "seller_id", "seller_url", "availability", "spec", "spec_keys", "spec_values",
               "images")  # fmt: skip


class ProfileError(ValueError):
    """A site profile is missing or invalid; the message names the profile and the key."""


class Discovery(_Part):
    """How listings are found: search pages, categories, a sitemap, or explicit URLs."""

    search_url: str = ""
    """URL template with ``{query}``; API profiles page with ``{offset}`` (and ``{limit}``)."""
    paging: Literal["offset", "page", "cursor"] = "offset"
    """API result paging: ``{offset}`` (and ``{limit}``), ``{page}`` from 1, or ``{cursor}`` read from
    ``cursor_path`` of each answer. HTML result pages follow ``next_page`` links, or ``{page}``."""
    cursor_path: str = ""
    page_size: int = Field(default=50, ge=1, le=1000)
    next_page: str = ""
    """CSS selector of the next-page link on result pages (html)."""
    listing_links: str = ""
    """CSS selector of the links from result pages to listing pages (html)."""
    categories: list[str] = Field(default_factory=list)
    sitemap: str = ""
    listing_url_pattern: str = ""
    """Regular expression a URL must match to count as a listing page (sitemaps, links)."""
    urls: list[str] = Field(default_factory=list)
    items_path: str = ""
    """Dotted path of the result list in an API search response."""
    total_path: str = ""
    item_id_path: str = "id"
    item_url: str = ""
    """API: URL template of an item's detail endpoint, with ``{id}``."""
    listing_url: str = ""
    """URL template of a listing page with ``{id}``, used to re-check known listings (html, browser);
    with ``capture.search`` it may also name dotted paths into the search item
    (``/product/{item_basic.shopid}/{item_basic.itemid}``, ``crawler.urltemplate``)."""
    id_from_url: str = ""
    """Regular expression with one group that reads the marketplace id from a listing URL."""
    max_result_pages: int = Field(default=200, ge=1, le=100_000)
    """Result pages followed per search word or category (also bounds the crawl depth)."""
    deny: list[str] = Field(default_factory=list)
    """Regular expressions of URLs never to request (carts, calendars, sort and filter links)."""

    @field_validator("search_url")
    @classmethod
    def _has_query(cls, value: str) -> str:
        if value and "{query}" not in value:
            raise ValueError("must contain {query}")
        return value

    _template = field_validator("listing_url")(listing_template)
    _id_pattern = field_validator("id_from_url")(one_group)


class Politeness(_Part):
    concurrency: int = Field(default=8, ge=1, le=64)
    delay_s: float = Field(default=0.0, ge=0)
    obey_robots: bool = True


class BrowserSteps(_Part):
    """What a browser does on a JavaScript-rendered site before the page is read."""

    wait_for: str = ""
    """CSS selector that is present once a listing page has rendered."""
    results_wait_for: str = ""
    """CSS selector that is present once a result page has rendered."""
    load_more: str = ""
    """CSS selector of a "load more" button on result pages, clicked until it is gone."""
    max_load_more: int = Field(default=50, ge=0, le=1000)
    scroll: bool = False
    """Scroll to the bottom of result pages (infinite scroll)."""
    timeout_s: float = Field(default=20.0, gt=0, le=300)


class Budget(_Part):
    """The site's daily crawl budget (``crawler.budget``): requests per run of the daily plan."""

    requests: int = Field(ge=1, le=10_000_000)


class SiteProfile(_Part):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    kind: Literal["html", "api", "browser"]
    base_url: str
    allowed_domains: list[str] = Field(default_factory=list)
    discovery: Discovery = Discovery()
    fields: dict[str, str] = Field(default_factory=dict)
    """Field → CSS/XPath selector or ``state:`` dotted path (html, browser), ``capture:`` dotted path
    (browser with ``[capture]``), or dotted JSON path (api);
    fills gaps left by schema.org data, or overrides it."""
    price_scale: int = Field(default=1, gt=0, le=1_000_000_000)
    """Every price read through ``fields.price`` is divided by this (a shop that writes ฿299.00 as
    29900000 has ``price_scale = 100000``); schema.org prices are not scaled."""
    currency: str = ""
    """The currency of a listing whose page gives none (ISO 4217, e.g. ``THB``)."""
    state: State | None = None
    capture: Capture | None = None
    gone_when: GoneWhen | None = None
    session: Session | None = None
    """Headers, a cookie file, a browser profile directory (``crawler.session``)."""
    budget: Budget | None = None
    """Overrides ``crawl.daily_requests`` for this site."""
    blocked_when: BlockedWhen | None = None
    """How the site shows it blocks or challenges the crawler (``crawler.blocking``)."""
    politeness: Politeness = Politeness()
    browser: BrowserSteps = BrowserSteps()

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        if value and not (len(value) == 3 and value.isascii() and value.isalpha()):
            raise ValueError("must be a 3-letter currency code such as THB")
        return value.upper()

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FIELD_NAMES))
        if unknown:
            raise ValueError(f"unknown field {', '.join(unknown)} (known: {', '.join(FIELD_NAMES)})")
        if ("spec_keys" in value) != ("spec_values" in value):
            raise ValueError("spec_keys and spec_values: give both (the keys' and the values' selectors)")
        return value

    @field_validator("base_url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _discoverable(self) -> SiteProfile:
        d = self.discovery
        if not (d.search_url or d.categories or d.sitemap or d.urls):
            raise ValueError("discovery: needs search_url, categories, sitemap or urls")
        if self.kind == "api" and d.search_url and not (d.items_path and d.item_url):
            raise ValueError("discovery: an api profile needs items_path and item_url")
        if d.paging == "cursor" and not d.cursor_path:
            raise ValueError("discovery.cursor_path: cursor paging needs the path of the next cursor")
        if self.kind == "browser" and not self.browser.wait_for:
            raise ValueError("browser.wait_for: a browser profile must say what to wait for on listing pages")
        self._state_rules()
        if self.session is not None:
            check_kind(self.session, self.kind)
        self._capture_rules()
        return self

    def _capture_rules(self) -> None:
        """``[capture]`` only for browser profiles; ``capture:`` fields need its ``item``; reading
        results from captured JSON needs their paths and the listing URL template."""
        paths = {
            f"fields.{name}": rule for name, rule in self.fields.items() if rule.startswith(CAPTURE_PREFIX)
        }
        capture = self.capture
        if capture is not None and self.kind != "browser":
            raise ValueError(
                f"capture: only a browser profile captures the JSON a page fetches, not {self.kind}"
            )
        for key, rule in paths.items():
            path = rule.removeprefix(CAPTURE_PREFIX)
            if not path or re.fullmatch(DOTTED_PATH, path) is None:
                raise ValueError(f"{key}: {rule!r} is not a dotted path after 'capture:'")
        if paths and (capture is None or not capture.item):
            raise ValueError(f"{min(paths)}: reads captured JSON, but the profile has no [capture] item")
        if capture is not None and capture.search:
            d = self.discovery
            if not d.items_path:
                raise ValueError("discovery.items_path: capture.search needs the path of the result list")
            if not placeholders(d.listing_url):
                raise ValueError(
                    "discovery.listing_url: capture.search needs a listing URL template with {id}"
                    " or dotted paths into the search item"
                )
        elif not id_only(self.discovery.listing_url):
            raise ValueError(
                "discovery.listing_url: only {id} here: dotted paths read the search item of capture.search"
            )

    def _state_rules(self) -> None:
        """``[state]``, ``state:`` fields and ``gone_when`` fit the kind of site and each other."""
        paths = {
            f"fields.{name}": rule for name, rule in self.fields.items() if rule.startswith(STATE_PREFIX)
        }
        if self.kind == "api":
            if self.state is not None:
                raise ValueError("state: an api profile reads JSON already; use dotted paths in fields")
            if paths:
                raise ValueError(f"{min(paths)}: an api profile's fields are dotted paths, without 'state:'")
            if self.gone_when is not None and (self.gone_when.selector or self.gone_when.text):
                raise ValueError("gone_when: an api profile can use only path (and equals)")
            return
        for key, rule in paths.items():
            path = rule.removeprefix(STATE_PREFIX)
            if not path or re.fullmatch(DOTTED_PATH, path) is None:
                raise ValueError(f"{key}: {rule!r} is not a dotted path after 'state:'")
        if self.state is None and paths:
            raise ValueError(f"{min(paths)}: reads embedded state, but the profile has no [state]")
        captured = self.capture is not None and bool(self.capture.item)
        if self.state is None and not captured and self.gone_when is not None and self.gone_when.path:
            raise ValueError(
                "gone_when.path: reads embedded state, but the profile has no [state] (nor [capture] item)"
            )

    def url(self, path: str) -> str:
        """An absolute URL for a path of this site."""
        return urljoin(self.base_url + "/", path)

    def domains(self) -> list[str]:
        return self.allowed_domains or [urlsplit(self.base_url).hostname or ""]

    def with_base_url(self, base_url: str) -> SiteProfile:
        """The same profile pointed at another address (the demo shops listen on free ports)."""
        host = urlsplit(base_url).hostname or ""
        return self.model_copy(update={"base_url": base_url.rstrip("/"), "allowed_domains": [host]})


def profile_dirs(extra_dir: str | Path | None = None) -> list[Path]:
    return ([Path(extra_dir)] if extra_dir else []) + [SHIPPED_DIR]


def available_profiles(extra_dir: str | Path | None = None) -> list[str]:
    names = {
        path.stem for folder in profile_dirs(extra_dir) if folder.is_dir() for path in folder.glob("*.toml")
    }
    return sorted(names)


def load_profile(name: str, extra_dir: str | Path | None = None) -> SiteProfile:
    """Load and validate the profile ``name`` (a file ``NAME.toml`` in the profile directories)."""
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ProfileError(f"{name!r}: not a profile name")
    for folder in profile_dirs(extra_dir):
        path = folder / f"{name}.toml"
        if path.is_file():
            return parse_profile(path.read_text(encoding="utf-8"), name)
    known = ", ".join(available_profiles(extra_dir)) or "none"
    raise ProfileError(f"{name}: no such site profile (known: {known})")


def parse_profile(text: str, name: str) -> SiteProfile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{name}: not valid TOML: {exc}") from exc
    data.setdefault("name", name)
    try:
        return SiteProfile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "(profile)"
            problem = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{name}: {key}: {problem}")
        raise ProfileError("; ".join(problems)) from None
