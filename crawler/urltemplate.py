"""Listing URL templates (``discovery.listing_url``): ``{id}``, and dotted paths into a search item.

Some marketplaces build a listing's URL from more than its id: Shopee's item page is
``/product/{shopid}/{itemid}``, and both numbers come with each item of its search JSON. A template
may therefore name, besides ``{id}`` (the marketplace id), dotted paths into the search item, e.g.
``/product/{item_basic.shopid}/{item_basic.itemid}``. Values are untrusted: each is percent-quoted
whole (a ``/`` in it cannot add a path segment). A template is checked when the profile is loaded.
"""

from __future__ import annotations

import re
from string import Formatter
from typing import Any
from urllib.parse import quote

from crawler.extract import dotted

PLACEHOLDER = r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*"
"""``id``, or a dotted path into the search item (``item_basic.shopid``, ``images.0``)."""


def placeholders(template: str) -> list[str]:
    """The placeholders of ``template`` in order; ValueError saying what is wrong with one."""
    try:
        parts = list(Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"{template!r}: {exc} (write {{{{ and }}}} for a literal brace)") from None
    names = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if spec or conversion or re.fullmatch(PLACEHOLDER, name) is None:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValueError(
                f"{template!r}: placeholder {shown} must be {{id}} or a dotted path into the search item "
                "(like {item_basic.shopid})"
            )
        names.append(name)
    return names


def listing_template(value: str) -> str:
    """Validator of ``discovery.listing_url``: every placeholder is ``id`` or a dotted path."""
    placeholders(value)
    return value


def one_group(value: str) -> str:
    """Validator of ``discovery.id_from_url``: a regular expression with exactly one group, the id."""
    if not value:
        return value
    try:
        groups = re.compile(value).groups
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    if groups != 1:
        raise ValueError(f"needs exactly one group (the id), has {groups}; write (?:...) for the others")
    return value


def id_only(template: str) -> bool:
    """Whether ``template`` needs nothing but the marketplace id (so a stored listing can be re-built)."""
    return set(placeholders(template)) <= {"id"}


def fill(template: str, item_id: str, item: Any = None) -> str | None:
    """``template`` with ``{id}`` as ``item_id`` and each dotted path read from ``item``, every value
    percent-quoted; None when a path is missing or not a plain value (no URL is made up)."""
    values: dict[str, str] = {}
    for key in placeholders(template):
        value = item_id if key == "id" else dotted(item, key)
        if value is None or isinstance(value, (dict, list)):
            return None
        values[key] = quote(str(value), safe="")
    pieces = []
    for literal, name, _, _ in Formatter().parse(template):
        pieces.append(literal)
        if name is not None:
            pieces.append(values[name])
    return "".join(pieces)
