"""Field extraction: schema.org Product (JSON-LD, microdata) first, then the profile's selectors.

Everything here is untrusted marketplace data: values are kept as text, never evaluated; prices are
parsed with Decimal and rejected when they are not numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import extruct
from parsel import Selector

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
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def parse_price(value: Any) -> Decimal | None:
    """A price from text such as ``฿1,290.00``, ``1290`` or ``1,290 - 1,590`` (the first number); None
    when there is no number."""
    if value is None or isinstance(value, bool):
        return None
    match = _NUMBER.search(str(value))
    if match is None:
        return None
    text = match.group(0).replace(",", "")
    try:
        price = Decimal(text)
    except InvalidOperation:
        return None
    return price if price.is_finite() and 0 <= price < Decimal("1e11") else None


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
        "images": [str(i) for i in _as_list(product.get("image")) if isinstance(i, str)],
    }
    if isinstance(offers, dict):
        fields.update(
            price=parse_price(offers.get("price")),
            currency=_text(offers.get("priceCurrency")),
            availability=_text(offers.get("availability")),
            seller_name=_text(seller),
        )
    return {key: value for key, value in fields.items() if value not in (None, "", [])}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def select_fields(selector: Selector, rules: Mapping[str, str]) -> dict[str, Any]:
    """Apply the profile's CSS (or ``xpath:``-prefixed XPath) selectors to a page."""
    fields: dict[str, Any] = {}
    for name, rule in rules.items():
        query = selector.xpath(rule[6:]) if rule.startswith("xpath:") else selector.css(rule)
        if name == "spec":
            fields["spec"] = spec_table(query)
        elif name == "images":
            fields["images"] = [value.strip() for value in query.getall() if value.strip()]
        elif name == "price":
            fields["price"] = parse_price(query.get())
        else:
            value = _text(" ".join(part.strip() for part in query.getall()))
            if value:
                fields[name] = value
    return {key: value for key, value in fields.items() if value not in (None, "", [], {})}


def spec_table(rows: Iterable[Selector]) -> dict[str, str]:
    """A spec table (rows of a key cell and a value cell) as a dict."""
    table: dict[str, str] = {}
    for row in rows:
        cells = [_text(" ".join(cell.css("::text").getall())) for cell in row.css("th, td")]
        if len(cells) >= 2 and cells[0]:
            table[cells[0]] = cells[1] or ""
    return table


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


def json_fields(data: Any, rules: Mapping[str, str]) -> dict[str, Any]:
    """Apply the profile's dotted paths to an API item."""
    fields: dict[str, Any] = {}
    for name, path in rules.items():
        value = dotted(data, path)
        if name == "spec":
            fields["spec"] = _json_spec(value)
        elif name == "images":
            fields["images"] = [str(v) for v in _as_list(value) if isinstance(v, str | int)]
        elif name == "price":
            fields["price"] = parse_price(value)
        else:
            fields[name] = _text(value)
    return {key: value for key, value in fields.items() if value not in (None, "", [], {})}


def _json_spec(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    table: dict[str, str] = {}
    for row in _as_list(value):
        if isinstance(row, Mapping) and row.get("name") is not None:
            table[str(row["name"])] = str(row.get("value", ""))
    return table
