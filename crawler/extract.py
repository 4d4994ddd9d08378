"""Field extraction: schema.org Product (JSON-LD, microdata) first, then the profile's selectors.

Everything here is untrusted marketplace data: values are kept as text, never evaluated; prices are
parsed with Decimal and rejected when they are not numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from itertools import islice
from typing import Any

import extruct
from parsel import Selector, SelectorList

from crawler.values import MAX_SPEC_SCAN, image_urls, read_price, spec_pairs, zipped_spec

TEXT_FIELDS = (
    "title",
    "description",
    "brand",
    "model",
    "currency",
    "seller_name",
    "seller_id",
    "seller_url",
    "availability",
    "marketplace_id",
    "url",
)
_SPACE = re.compile(r"\s+")


def parse_price(value: Any, scale: int = 1) -> Decimal | None:
    """A price from text such as ``฿1,290.00``, ``1290`` or ``1,290 - 1,590`` (the lowest of a range),
    divided by the profile's ``price_scale``; None when there is no number."""
    return read_price(value, scale)[0]


def price_fields(value: Any, scale: int = 1) -> dict[str, Any]:
    """``price`` (the lowest of a range) and, for a range, ``price_range`` (kept in the raw data)."""
    price, shown_range = read_price(value, scale)
    fields: dict[str, Any] = {"price": price}
    if shown_range is not None:
        fields["price_range"] = shown_range.raw()
    return fields


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = value.get("name") or value.get("@id")
    if isinstance(value, list):
        value = value[0] if value else None
        return _text(value)
    text = _SPACE.sub(" ", str(value)).strip()
    return text or None


def _products(data: Mapping[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    found = []
    for syntax in ("json-ld", "microdata"):
        for node in data.get(syntax, []):
            nodes = node.get("@graph", [node]) if isinstance(node, dict) else []
            for candidate in nodes:
                kind = candidate.get("@type") if isinstance(candidate, dict) else None
                if kind == "Product" or (isinstance(kind, list) and "Product" in kind):
                    found.append(candidate)
    return found


def schema_org_product(html: str, base_url: str) -> dict[str, Any]:
    """The fields of the first schema.org Product on a page, or an empty dict."""
    try:
        data = extruct.extract(html, base_url=base_url, syntaxes=["json-ld", "microdata"], uniform=True)
    except Exception:  # malformed embedded data must not lose the page: selectors still apply
        return {}
    products = _products(data)
    if not products:
        return {}
    product = products[0]
    offers = product.get("offers") or {}
    if isinstance(offers, list):
        offers = offers[0] if offers else {}
    seller = offers.get("seller") if isinstance(offers, dict) else None
    fields: dict[str, Any] = {
        "title": _text(product.get("name")),
        "description": _text(product.get("description")),
        "brand": _text(product.get("brand")),
        "model": _text(product.get("model") or product.get("mpn")),
        "marketplace_id": _text(product.get("sku") or product.get("productID")),
        "images": image_urls(_as_list(product.get("image"))),
    }
    if isinstance(offers, dict):
        shown = offers.get("price")
        fields.update(price_fields(offers if shown is None else shown))  # AggregateOffer: low/highPrice
        fields.update(
            currency=_text(offers.get("priceCurrency")),
            availability=_text(offers.get("availability")),
            seller_name=_text(seller),
        )
    return {key: value for key, value in fields.items() if value not in (None, "", [])}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _query(selector: Selector, rule: str) -> SelectorList[Selector]:
    return selector.xpath(rule[6:]) if rule.startswith("xpath:") else selector.css(rule)


def select_fields(selector: Selector, rules: Mapping[str, str], scale: int = 1) -> dict[str, Any]:
    """Apply the profile's CSS (or ``xpath:``-prefixed XPath) selectors to a page; prices are divided
    by ``scale`` (the profile's ``price_scale``)."""
    fields: dict[str, Any] = {}
    for name, rule in rules.items():
        query = _query(selector, rule)
        if name == "spec":
            fields["spec"] = {**fields.get("spec", {}), **spec_pairs(query)}
        elif name == "spec_keys" and "spec_values" in rules:
            pairs = zipped_spec(query.getall(), _query(selector, rules["spec_values"]).getall())
            fields["spec"] = {**pairs, **fields.get("spec", {})}
        elif name == "images":
            fields["images"] = image_urls(query.getall())
        elif name == "price":
            fields.update(price_fields(query.get(), scale))
        elif name == "spec_values":
            continue
        else:
            value = _text(" ".join(part.strip() for part in query.getall()))
            if value:
                fields[name] = value
    return {key: value for key, value in fields.items() if value not in (None, "", [], {})}


def dotted(data: Any, path: str) -> Any:
    """The value at a dotted path (``price.amount``, ``items.0.id``) of JSON data, or None."""
    for part in path.split(".") if path else []:
        if isinstance(data, Mapping):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def json_fields(data: Any, rules: Mapping[str, str], scale: int = 1) -> dict[str, Any]:
    """Apply the profile's dotted paths to an API item; prices are divided by ``scale``."""
    fields: dict[str, Any] = {}
    for name, path in rules.items():
        value = dotted(data, path)
        if name == "spec":
            fields["spec"] = {**fields.get("spec", {}), **_json_spec(value)}
        elif name == "spec_keys" and "spec_values" in rules:
            pairs = zipped_spec(_as_list(value), _as_list(dotted(data, rules["spec_values"])))
            fields["spec"] = {**pairs, **fields.get("spec", {})}
        elif name == "images":
            fields["images"] = image_urls(str(v) if isinstance(v, int) else v for v in _as_list(value))
        elif name == "price":
            fields.update(price_fields(value, scale))
        elif name == "spec_values":
            continue
        else:
            fields[name] = _text(value)
    return {key: value for key, value in fields.items() if value not in (None, "", [], {})}


def _json_spec(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in islice(value.items(), MAX_SPEC_SCAN)}
    table: dict[str, str] = {}
    for row in _as_list(value)[:MAX_SPEC_SCAN]:
        if isinstance(row, Mapping) and row.get("name") is not None:
            table[str(row["name"])] = str(row.get("value", ""))
    return table
