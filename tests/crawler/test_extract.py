from __future__ import annotations

from decimal import Decimal

import pytest
from parsel import Selector

from crawler.extract import dotted, json_fields, parse_price, schema_org_product, select_fields

PRICES = [
    ("฿1,290.00", Decimal("1290.00")),
    ("459", Decimal("459")),
    (459.5, Decimal("459.5")),
    ("ราคา 99 บาท", Decimal("99")),
    ("free", None),
    ("", None),
    (None, None),
    (True, None),
    ("1,290 - 1,590", Decimal("1290")),
    ("9" * 30, None),
]


@pytest.mark.parametrize(("text", "price"), PRICES)
def test_parse_price(text: object, price: Decimal | None) -> None:
    assert parse_price(text) == price


PAGE = """<html><head><script type="application/ld+json">
{"@context": "https://schema.org", "@type": "Product", "name": "พาวเวอร์แบงค์ <b>10000</b>", "sku": "p1",
 "brand": {"@type": "Brand", "name": "Eloop"}, "model": "E12",
 "offers": {"@type": "Offer", "price": "459.00", "priceCurrency": "THB", "seller": {"name": "ร้านดี"}}}
</script></head><body><table class="spec"><tr><th>มาตรฐาน</th><td>มอก. 2879-2560</td></tr>
<tr><th>ใบอนุญาต</th><td> ท1234-56/2879 </td></tr></table><a class="seller">ร้าน  ดี </a></body></html>"""


def test_schema_org_product_then_selectors() -> None:
    fields = schema_org_product(PAGE, "http://shop.test/product/p1")
    assert fields["title"] == "พาวเวอร์แบงค์ <b>10000</b>"  # kept as text, escaped later by the reports
    assert (fields["brand"], fields["model"], fields["marketplace_id"]) == ("Eloop", "E12", "p1")
    assert (fields["price"], fields["currency"], fields["seller_name"]) == (Decimal("459.00"), "THB", "ร้านดี")
    selected = select_fields(Selector(PAGE), {"spec": "table.spec tr", "seller_name": "a.seller::text"})
    assert selected == {
        "spec": {"มาตรฐาน": "มอก. 2879-2560", "ใบอนุญาต": "ท1234-56/2879"},
        "seller_name": "ร้าน ดี",
    }


@pytest.mark.parametrize(
    "html",
    [
        '<script type="application/ld+json">{"@type": "Product", "name": </script>',  # truncated JSON
        '<script type="application/ld+json">[1, 2, 3]</script>',
        "<html><body>no data",
        "",
    ],
)
def test_broken_embedded_data_gives_no_fields_and_no_error(html: str) -> None:
    assert schema_org_product(html, "http://shop.test/") == {}


def test_dotted_paths_and_json_fields() -> None:
    item = {
        "id": 7,
        "price": {"amount": "99.50"},
        "specs": [{"name": "มอก.", "value": "2879"}],
        "tags": ["a"],
    }
    assert dotted(item, "price.amount") == "99.50"
    assert dotted(item, "tags.0") == "a"
    assert dotted(item, "tags.5") is None
    assert dotted(item, "missing.deeper") is None
    rules = {"marketplace_id": "id", "price": "price.amount", "spec": "specs", "title": "title"}
    assert json_fields(item, rules) == {
        "marketplace_id": "7",
        "price": Decimal("99.50"),
        "spec": {"มอก.": "2879"},
    }
