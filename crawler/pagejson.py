"""The parts of a site profile that read a page's JSON: its embedded state (``[state]``), the JSON it
fetches by itself (``[capture]``), and the rules that say a listing was removed (``gone_when``).

Kept apart from ``crawler.profile`` (which re-exports them) so each module stays small.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DOTTED_PATH = r"[^.\s]+(\.[^.\s]+)*"
"""A dotted path into JSON: ``price.amount``, ``items.0.id`` (no empty part)."""
JS_NAME = r"[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*"


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _shaped(value: str, pattern: str, what: str) -> str:
    """``value`` when it is empty or has the shape of ``pattern``; else an error saying what it should be."""
    if value and re.fullmatch(pattern, value) is None:
        raise ValueError(f"{value!r} is not {what}")
    return value


class State(_Part):
    """Where a page keeps its embedded state: a JSON object in a script (html, browser).

    ``script`` picks the script elements by CSS selector (``script#__NEXT_DATA__``); ``variable`` names
    a JavaScript assignment in them (``window.__INITIAL_STATE__ = {...}``). With only ``script`` the
    whole script text is the object; with only ``variable`` every script is searched for it."""

    script: str = ""
    variable: str = ""
    max_chars: int = Field(default=5_000_000, ge=1, le=100_000_000)
    """A longer script text is not parsed (untrusted input): its fields are missed."""

    @field_validator("variable")
    @classmethod
    def _name(cls, value: str) -> str:
        return _shaped(value, JS_NAME, "a JavaScript name (like window.__INITIAL_STATE__)")

    @model_validator(mode="after")
    def _somewhere(self) -> State:
        if not (self.script or self.variable):
            raise ValueError("needs script (a CSS selector) or variable (a JavaScript name), or both")
        return self


def _pattern(value: str) -> str:
    if value:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
    return value


class Capture(_Part):
    """The JSON a browser page fetches by itself, captured while it renders (browser): the page computes
    its own tokens and signatures; tisiwatch only reads the answers. URL patterns are Python regular
    expressions, searched in the response URL."""

    item: str = ""
    """The JSON a listing page fetches (item detail); ``capture:`` fields read it."""
    search: str = ""
    """The JSON a result page fetches (search results); with it, result pages are read from that JSON
    (``discovery.items_path``, ``item_id_path``, ``total_path``, ``listing_url``)."""
    item_path: str = ""
    """Dotted path of the item object in the captured item answer (``data``); empty: the whole answer."""
    max_bytes: int = Field(default=8 * 1024 * 1024, ge=1, le=256 * 1024 * 1024)
    """A larger captured body is not read (untrusted input): its fields are missed."""

    _regex = field_validator("item", "search")(_pattern)

    @field_validator("item_path")
    @classmethod
    def _dotted(cls, value: str) -> str:
        return _shaped(value, DOTTED_PATH, "a dotted path (like data.item)")

    @model_validator(mode="after")
    def _something(self) -> Capture:
        if not (self.item or self.search):
            raise ValueError("needs item or search (a URL pattern of the JSON the page fetches)")
        if self.item_path and not self.item:
            raise ValueError("item_path needs item")
        return self


class GoneWhen(_Part):
    """When a page that answers 200 says its listing was removed: any rule that holds marks it gone,
    as a 404 does. ``selector``/``text`` read the page (html, browser); ``path``/``equals`` read the
    item's JSON (api) or the page's embedded state (html, browser, with ``[state]``)."""

    selector: str = ""
    """CSS selector (or ``xpath:`` XPath) of an element that exists only on a removed listing."""
    text: str = ""
    """Text the page shows only for a removed listing (compared with spaces collapsed)."""
    path: str = ""
    equals: str | int | float | bool | None = None
    """The value at ``path`` that means removed; without it, ``path`` being present (not null) is enough.
    With ``[capture]`` (item), ``path`` reads the whole captured item answer, not ``[state]``."""

    @field_validator("path")
    @classmethod
    def _dotted(cls, value: str) -> str:
        return _shaped(value, DOTTED_PATH, "a dotted path (like product.status)")

    @model_validator(mode="after")
    def _one_rule(self) -> GoneWhen:
        if not (self.selector or self.text or self.path):
            raise ValueError("needs selector, text or path")
        if self.equals is not None and not self.path:
            raise ValueError("equals needs path")
        return self
