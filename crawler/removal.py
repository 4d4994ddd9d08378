"""Removed listings that answer 200: the profile's ``gone_when`` rules read the page (a selector that
exists, a text it shows) or its JSON (the api item, or a page's embedded state) at a path."""

from __future__ import annotations

import re
from typing import Any

from parsel import Selector

from crawler.extract import dotted
from crawler.profile import GoneWhen

_SPACE = re.compile(r"\s+")
VISIBLE_TEXT = "//body//text()[not(ancestor::script) and not(ancestor::style)]"


def removed_by_json(data: Any, rule: GoneWhen) -> str | None:
    """Why the JSON says the listing was removed (``gone_when.path``/``equals``), or None."""
    if not rule.path:
        return None
    value = dotted(data, rule.path)
    if value is None:
        return None
    if rule.equals is None:
        return f"{rule.path} is present"
    same_kind = isinstance(value, bool) == isinstance(rule.equals, bool)
    return f"{rule.path} = {rule.equals!r}" if same_kind and value == rule.equals else None


def removed_page(selector: Selector, rule: GoneWhen, state: Any = None) -> str | None:
    """Why a page says its listing was removed (``gone_when``), or None."""
    if rule.selector:
        css = rule.selector
        found = selector.xpath(css[6:]) if css.startswith("xpath:") else selector.css(css)
        if found:
            return f"{css!r} found"
    if rule.text:
        shown = _SPACE.sub(" ", " ".join(selector.xpath(VISIBLE_TEXT).getall()))
        if _SPACE.sub(" ", rule.text.strip()) in shown:
            return f"{rule.text!r} shown"
    return removed_by_json(state, rule) if state is not None else None
