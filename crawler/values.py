"""Values as real shops write them: scaled integer prices, price ranges, spec tables in any key/value
markup, and image lists.

Everything here is untrusted marketplace data: values are kept as text, never evaluated; prices are
Decimal (no float on the way), and a number that is not a price gives None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from parsel import Selector

MAX_PRICE = Decimal("1e11")
MAX_SPEC_SCAN = 2_000
"""Elements read for a spec table: ten times what is kept (``crawler.limits``), so that the cut of a
huge table is still recorded, while a page of a million list items cannot stall the crawl."""
CENT = Decimal("0.01")
_NUMBER = r"\d[\d,]*(?:\.\d+)?"
_MONEY = r"(?:[฿$€£¥]|บาท|THB|USD)?"
_RANGE = re.compile(
    rf"({_NUMBER})\s*{_MONEY}\s*(?:-|–|—|~|〜|to|ถึง)\s*{_MONEY}\s*({_NUMBER})(?![\d,.]*\s*%)",
    re.IGNORECASE,
)
"""Two prices with a dash, tilde or word between them; ``฿399 -25%`` is a discount, not a range."""
_FIRST_NUMBER = re.compile(_NUMBER)
_RANGE_KEYS = (("min", "max"), ("low", "high"), ("lowPrice", "highPrice"), ("minPrice", "maxPrice"),
               ("price_min", "price_max"), ("from", "to"))  # fmt: skip
_COLONS = re.compile("[:：︓﹕∶꞉]")
"""A colon, the full-width one of Thai and CJK shop pages, and its look-alikes."""
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class PriceRange:
    """A price shown as a range (``฿199 - ฿299``, a min/max pair): the lowest is the listing's price."""

    low: Decimal
    high: Decimal

    def raw(self) -> dict[str, str]:
        """The range as kept in an observation's raw data."""
        return {"low": str(self.low), "high": str(self.high)}


def scaled(number: Decimal, scale: int = 1) -> Decimal | None:
    """``number`` divided by the profile's ``price_scale``, exact, with at least two decimals when scaled;
    None when the result is not a price."""
    price = number / scale if scale != 1 else number
    if not (price.is_finite() and 0 <= price < MAX_PRICE):
        return None
    return price.quantize(CENT) if scale != 1 and price == price.quantize(CENT) else price


def _decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _number(value: Any) -> Decimal | None:
    """The first number in a value (text, int, float via its text); None for anything else."""
    if isinstance(value, list):
        return _number(value[0]) if value else None
    if value is None or isinstance(value, bool | Mapping):
        return None
    match = _FIRST_NUMBER.search(str(value))
    return _decimal(match.group(0)) if match else None


def _range_of(value: Any) -> tuple[Decimal, Decimal] | None:
    """Two prices of a range: a text ``199 - 299``, a JSON ``{"min": …, "max": …}`` or ``[199, 299]``."""
    if isinstance(value, Mapping):
        for low_key, high_key in _RANGE_KEYS:
            low, high = _number(value.get(low_key)), _number(value.get(high_key))
            if low is not None and high is not None:
                return low, high
        return None
    if isinstance(value, list):
        low, high = (_number(item) for item in [*value[:2], None, None][:2])
        return (low, high) if low is not None and high is not None else None
    if value is None or isinstance(value, bool):
        return None
    match = _RANGE.search(str(value))
    if match is None:
        return None
    low, high = _decimal(match.group(1)), _decimal(match.group(2))
    return (low, high) if low is not None and high is not None else None


def read_price(value: Any, scale: int = 1) -> tuple[Decimal | None, PriceRange | None]:
    """The price of a value as a shop writes it, and the range when it is one (lowest kept as price)."""
    pair = _range_of(value)
    if pair is not None:
        low, high = (scaled(number, scale) for number in sorted(pair))
        if low is not None and high is not None:
            return low, (PriceRange(low, high) if low != high else None)
    number = _number(value)
    return (scaled(number, scale) if number is not None else None), None


def clean_text(value: Any) -> str | None:
    text = _SPACE.sub(" ", str(value)).strip() if value is not None else ""
    return text or None


def _element_text(element: Selector) -> str:
    return clean_text(" ".join(element.css("::text").getall())) or ""


def _tag(element: Selector) -> str:
    name = element.xpath("name()").get() or ""
    return name.lower()


def _row_pair(row: Selector) -> tuple[str, str] | None:
    cells = [_element_text(cell) for cell in row.css("th, td")]
    return (cells[0], cells[1]) if len(cells) >= 2 and cells[0] else None


def _colon_pair(element: Selector) -> tuple[str, str] | None:
    """``key: value`` in one element (a list item, a paragraph); the first colon of any form splits."""
    parts = _COLONS.split(_element_text(element), maxsplit=1)
    if len(parts) != 2:
        return None
    key, value = parts[0].strip(), parts[1].strip()
    return (key, value) if key else None


def _first(element: Selector, path: str) -> list[Selector]:
    """The first elements an XPath gives, bounded inside libxml2 (a union of a huge list is slow)."""
    return list(element.xpath(f"({path})[position() <= {MAX_SPEC_SCAN}]"))


def _definition_pairs(dl: Selector) -> Iterator[tuple[str, str]]:
    """The ``dt``/``dd`` pairs of a definition list (also when each pair is wrapped in a ``div``)."""
    key: str | None = None
    for child in _first(dl, "./*"):
        tag = _tag(child)
        for part in _first(child, "./*") if tag == "div" else [child]:
            if _tag(part) == "dt":
                key = _element_text(part)
            elif key and _tag(part) == "dd":
                yield key, _element_text(part)
                key = None


def _element_pairs(element: Selector) -> Iterator[tuple[str, str]]:
    """The key/value pairs of one selected element, by what it is."""
    tag = _tag(element)
    if tag in {"table", "tbody", "thead"}:
        yield from (pair for pair in map(_row_pair, _first(element, ".//tr")) if pair)
    elif tag == "dl":
        yield from _definition_pairs(element)
    elif tag in {"ul", "ol"}:
        yield from (pair for pair in map(_colon_pair, _first(element, "./li")) if pair)
    elif tag == "dt":
        value = element.xpath("following-sibling::*[1][self::dd]")
        key = _element_text(element)
        if key and value:
            yield key, _element_text(value[0])
    else:
        pair = _row_pair(element) if tag == "tr" else _colon_pair(element)
        if pair:
            yield pair


def spec_pairs(elements: Iterable[Selector]) -> dict[str, str]:
    """A spec table from selected elements: table rows (key cell, value cell), ``dl`` (``dt``/``dd``),
    ``ul``/``ol`` or single elements reading ``key: value``; a repeated key keeps its last value."""
    table: dict[str, str] = {}
    for count, element in enumerate(elements):
        if count >= MAX_SPEC_SCAN or len(table) >= MAX_SPEC_SCAN:
            break
        for key, value in _element_pairs(element):
            table[key] = value
    return table


def zipped_spec(keys: Iterable[Any], values: Iterable[Any]) -> dict[str, str]:
    """A spec table from two parallel lists (a keys selector and a values selector, or two JSON lists)."""
    table: dict[str, str] = {}
    for count, (key, value) in enumerate(zip(keys, values, strict=False)):
        if count >= MAX_SPEC_SCAN:
            break
        key_text = clean_text(key)
        if key_text:
            table[key_text] = clean_text(value) or ""
    return table


def image_urls(values: Iterable[Any]) -> list[str]:
    """Image addresses in order, each once: text, or an object's ``url``/``contentUrl``/``src``."""
    urls: dict[str, None] = {}
    for value in values:
        if isinstance(value, Mapping):
            value = value.get("url") or value.get("contentUrl") or value.get("src")
        text = value.strip() if isinstance(value, str) else ""
        if text:
            urls.setdefault(text)
    return list(urls)
