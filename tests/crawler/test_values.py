"""Values as real shops write them: scaled prices, price ranges, default currencies, spec tables in any
key/value markup, several images — on hand-built pages and JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse, Request, TextResponse

from crawler.extract import json_fields, schema_org_product, select_fields
from crawler.items import Sighting
from crawler.limits import MAX_IMAGES, MAX_SPEC_ROWS, fit
from crawler.profile import ProfileError, parse_profile
from crawler.spiders.api import ApiSpider
from crawler.spiders.html import HtmlSpider
from crawler.values import read_price

PRICES = [
    # (value as the shop gives it, price_scale, price kept, range kept in raw or None)
    ("2990000000", 100_000, Decimal("29900.00"), None),
    (2990000000, 100_000, Decimal("29900.00"), None),
    (1990050000, 100_000, Decimal("19900.50"), None),
    (1, 100_000, Decimal("0.00001"), None),  # exact, not rounded away
    ("29900", 1, Decimal("29900"), None),
    ("฿199 - ฿299", 1, Decimal("199"), ("199", "299")),
    ("199–299", 1, Decimal("199"), ("199", "299")),
    ("199 ~ 299", 1, Decimal("199"), ("199", "299")),
    ("1,290.50 บาท — 1,590 บาท", 1, Decimal("1290.50"), ("1290.50", "1590")),
    ("฿399 -25%", 1, Decimal("399"), None),  # a discount, not a range
    ("฿399 - 12.5 %", 1, Decimal("399"), None),
    ("299 - 199", 1, Decimal("199"), ("199", "299")),  # the lowest, whatever the order
    ("฿199 - ฿199", 1, Decimal("199"), None),  # a range of one price is a price
    ({"min": 19900000, "max": 29900000}, 100_000, Decimal("199.00"), ("199.00", "299.00")),
    ({"lowPrice": "199", "highPrice": "299"}, 1, Decimal("199"), ("199", "299")),
    ([299, 199], 1, Decimal("199"), ("199", "299")),
    ("=HYPERLINK(1)", 1, Decimal("1"), None),  # a formula is text: only its number is read
    ("9" * 30, 1, None, None),
    ("9" * 40, 7, None, None),  # too many digits to divide exactly: not a price, no error
    ("9" * 14, 1000, Decimal("99999999999.999"), None),  # too big before scaling, a price after it
    ({"min": "free", "max": "299"}, 1, None, None),
    ("free", 1, None, None),
    (None, 1, None, None),
    (True, 1, None, None),
]


@pytest.mark.parametrize(("value", "scale", "price", "shown_range"), PRICES)
def test_read_price(
    value: Any, scale: int, price: Decimal | None, shown_range: tuple[str, str] | None
) -> None:
    read, found = read_price(value, scale)
    assert read == price
    assert str(read) == str(price)  # Decimal all the way: no float digits
    assert (None if found is None else (found.raw()["low"], found.raw()["high"])) == shown_range


SPEC_PAGES = [
    # (markup, fields, spec expected)
    (
        "<table class=s><tr><th>มาตรฐาน</th><td>มอก. 2879</td></tr><tr><td>ขนาด</td><td>10000</td></tr></table>",
        {"spec": "table.s tr"},
        {"มาตรฐาน": "มอก. 2879", "ขนาด": "10000"},
    ),
    (
        "<table class=s><tbody><tr><th>มาตรฐาน</th><td>มอก. 2879</td></tr></tbody></table>",
        {"spec": "table.s"},
        {"มาตรฐาน": "มอก. 2879"},
    ),
    (
        "<dl class=s><dt>Brand</dt><dd> Eloop </dd><dt>Model</dt><dd>E12</dd><dt>orphan</dt></dl>",
        {"spec": "dl.s"},
        {"Brand": "Eloop", "Model": "E12"},
    ),
    (
        "<dl class=s><div><dt>Brand</dt><dd>Eloop</dd></div><div><dt>มอก.</dt><dd>2879</dd></div></dl>",
        {"spec": "dl.s"},
        {"Brand": "Eloop", "มอก.": "2879"},
    ),
    (
        "<dl><dt>Brand</dt><dd>Eloop</dd><dt>Model</dt><dd>E12</dd></dl>",
        {"spec": "dt"},
        {"Brand": "Eloop", "Model": "E12"},
    ),
    (
        "<ul class=s><li>ยี่ห้อ: Eloop</li><li>รุ่น：E12</li><li>มอก. ︓ 2879</li><li>no pair</li>"
        "<li>เวลา: 10:30</li><li>: no key</li></ul>",
        {"spec": "ul.s li"},
        {"ยี่ห้อ": "Eloop", "รุ่น": "E12", "มอก.": "2879", "เวลา": "10:30"},
    ),
    ("<ul class=s><li><b>Brand</b>: Eloop</li></ul>", {"spec": "ul.s"}, {"Brand": "Eloop"}),
    (
        "<div class=k>Brand</div><div class=v>Eloop</div><div class=k>Model</div><div class=v>E12</div>"
        "<div class=k>extra key</div>",
        {"spec_keys": ".k::text", "spec_values": ".v::text"},
        {"Brand": "Eloop", "Model": "E12"},
    ),
    (
        "<table class=s><tr><th>Brand</th><td>From table</td></tr></table>"
        "<span class=k>Brand</span><span class=v>From pair</span><span class=k>Colour</span><span class=v>red</span>",
        {"spec": "table.s tr", "spec_keys": ".k::text", "spec_values": ".v::text"},
        {"Brand": "From table", "Colour": "red"},  # the spec selector wins a shared key
    ),
    (
        '<ul class=s><li>=cmd|"/c calc"!A1: =1+1</li><li>@SUM(A1): <script>x</script>+1</li></ul>',
        {"spec": "ul.s li"},
        {'=cmd|"/c calc"!A1': "=1+1", "@SUM(A1)": "x +1"},  # formula-like text stays data
    ),
]


@pytest.mark.parametrize(("html", "rules", "spec"), SPEC_PAGES)
def test_spec_from_key_value_markup(html: str, rules: dict[str, str], spec: dict[str, str]) -> None:
    assert select_fields(Selector(html), rules)["spec"] == spec


def test_spec_pairs_from_json_lists() -> None:
    item = {"attrs": {"names": ["Brand", "มอก."], "values": ["Eloop", 2879]}}
    rules = {"spec_keys": "attrs.names", "spec_values": "attrs.values"}
    assert json_fields(item, rules) == {"spec": {"Brand": "Eloop", "มอก.": "2879"}}


@pytest.mark.parametrize(
    ("html", "rules"),
    [
        (
            "<ul class=s>" + "".join(f"<li>k{i}: v{i}</li>" for i in range(50_000)) + "</ul>",
            {"spec": "ul.s li"},
        ),
        ("<ul class=s>" + "".join(f"<li>k{i}: v{i}</li>" for i in range(50_000)) + "</ul>", {"spec": "ul.s"}),
        (
            "<dl class=s>" + "".join(f"<dt>k{i}</dt><dd>v{i}</dd>" for i in range(50_000)) + "</dl>",
            {"spec": "dl.s"},
        ),
        (
            "".join(f"<i>k{i}</i><b>v{i}</b>" for i in range(50_000)),
            {"spec_keys": "i::text", "spec_values": "b::text"},
        ),
        (
            "<table class=s>"
            + "".join(f"<tr><th>k{i}</th><td>v{i}</td></tr>" for i in range(50_000))
            + "</table>",
            {"spec": "table.s"},
        ),
    ],
)
def test_a_huge_spec_list_is_bounded_and_its_cut_recorded(html: str, rules: dict[str, str]) -> None:
    spec = select_fields(Selector(html), rules)["spec"]
    assert MAX_SPEC_ROWS < len(spec) <= 2_000
    fitted = fit(Sighting(marketplace_id="p1", url="http://shop.test/p/1", title="t", spec=spec))
    assert len(fitted.spec) == MAX_SPEC_ROWS
    assert fitted.raw["cut"]["spec"] > 0
    assert list(fitted.spec)[:2] == ["k0", "k1"]


def test_a_long_key_value_item_is_cut_by_the_spec_limits() -> None:
    html = f"<ul class=s><li>{'k' * 10_000}: {'v' * 100_000}</li></ul>"
    spec = select_fields(Selector(html), {"spec": "ul.s li"})["spec"]
    fitted = fit(Sighting(marketplace_id="p1", url="http://shop.test/p/1", title="t", spec=spec))
    [(key, value)] = fitted.spec.items()
    assert (len(key), len(value)) == (500, 5_000)
    assert "spec" in fitted.raw["cut"]


PROFILE = """
kind = "{kind}"
base_url = "http://shop.test"
{extra}
[discovery]
urls = ["/p/1"]
id_from_url = "/p/([^/?#]+)$"
[fields]
{fields}
"""


def _html_sighting(html: str, fields: str, extra: str = "") -> Sighting:
    profile = parse_profile(PROFILE.format(kind="html", extra=extra, fields=fields), "shop")
    request = Request("http://shop.test/p/1")
    response = HtmlResponse(request.url, body=html.encode(), encoding="utf-8", request=request)
    [sighting] = list(HtmlSpider(profile).parse_listing(response))
    assert isinstance(sighting, Sighting)
    return sighting


def _api_sighting(item: dict[str, Any], fields: str, extra: str = "") -> Sighting:
    profile = parse_profile(PROFILE.format(kind="api", extra=extra, fields=fields), "shop")
    request = Request("http://shop.test/api/items/1", meta={"item_id": "1"})
    response = TextResponse(request.url, body=json.dumps(item).encode(), request=request)
    [sighting] = list(ApiSpider(profile).parse_listing(response))
    assert isinstance(sighting, Sighting)
    return sighting


CURRENCIES = [
    # (profile's currency line, the page's currency, currency stored)
    ('currency = "THB"', "", "THB"),
    ('currency = "thb"', "", "THB"),
    ('currency = "THB"', "USD", "USD"),  # the page's own currency wins
    ("", "", None),
    ("", "USD", "USD"),
]


@pytest.mark.parametrize(("extra", "shown", "currency"), CURRENCIES)
def test_currency_default_per_profile(extra: str, shown: str, currency: str | None) -> None:
    html = f"<h1>Power bank</h1><span class=price>299</span><span class=cur>{shown}</span>"
    fields = 'title = "h1::text"\nprice = ".price::text"\ncurrency = ".cur::text"'
    assert _html_sighting(html, fields, extra).currency == currency
    item = {"title": "Power bank", "price": 299, **({"cur": shown} if shown else {})}
    assert (
        _api_sighting(item, 'title = "title"\nprice = "price"\ncurrency = "cur"', extra).currency == currency
    )


def test_scaled_range_price_reaches_the_sighting_with_its_range_in_raw() -> None:
    item = {"title": "Power bank", "price": {"min": 19900000, "max": 29900000}}
    sighting = _api_sighting(item, 'title = "title"\nprice = "price"', "price_scale = 100000")
    assert (sighting.price, sighting.raw["price"]) == (Decimal("199.00"), "199.00")
    assert sighting.raw["price_range"] == {"low": "199.00", "high": "299.00"}
    page = _html_sighting(
        "<h1>Lamp</h1><p class=price>฿199 - ฿299</p>", 'title = "h1::text"\nprice = ".price::text"'
    )
    assert (page.price, page.raw["price_range"]) == (Decimal("199"), {"low": "199", "high": "299"})


def test_schema_org_aggregate_offer_keeps_lowest_and_range_unscaled() -> None:
    html = """<script type="application/ld+json">{"@type": "Product", "name": "Lamp", "sku": "1",
    "offers": {"@type": "AggregateOffer", "lowPrice": "199", "highPrice": "299", "priceCurrency": "THB"}}
    </script>"""
    fields = schema_org_product(html, "http://shop.test/p/1")
    assert (fields["price"], fields["price_range"]) == (Decimal("199"), {"low": "199", "high": "299"})
    sighting = _html_sighting(html, 'brand = ".none::text"', "price_scale = 100")
    assert sighting.price == Decimal("199")  # schema.org prices are in the currency's units


def test_several_images_in_order_once_http_only_and_capped() -> None:
    gallery = "".join(f'<img src="/img/{i}.jpg">' for i in range(3))
    html = f'<h1>Lamp</h1><div class=g>{gallery}<img src="/img/0.jpg"><img src="http://shop.test/img/1.jpg">'
    html += '<img src="javascript:alert(1)"><img src="  "><img src="/img/3.jpg"></div>'
    sighting = _html_sighting(html, 'title = "h1::text"\nimages = ".g img::attr(src)"')
    expected = [f"http://shop.test/img/{i}.jpg" for i in (0, 1, 2)]
    assert list(sighting.images) == [*expected, "javascript:alert(1)", "http://shop.test/img/3.jpg"]
    fitted = fit(sighting)
    assert list(fitted.images) == [*expected, "http://shop.test/img/3.jpg"]
    many = {"title": "Lamp", "pics": [{"url": f"http://cdn.test/{i}.jpg"} for i in range(500)] * 2}
    api = fit(_api_sighting(many, 'title = "title"\nimages = "pics"'))
    assert list(api.images) == [f"http://cdn.test/{i}.jpg" for i in range(MAX_IMAGES)]
    assert api.raw["cut"]["images"] == 500


def test_schema_org_image_objects_are_kept() -> None:
    html = """<script type="application/ld+json">{"@type": "Product", "name": "Lamp",
    "image": [{"@type": "ImageObject", "url": "http://shop.test/a.jpg"}, "http://shop.test/b.jpg",
    {"@type": "ImageObject", "contentUrl": "http://shop.test/a.jpg"}]}</script>"""
    assert schema_org_product(html, "http://shop.test/")["images"] == [
        "http://shop.test/a.jpg",
        "http://shop.test/b.jpg",
    ]


PROFILE_ERRORS = [
    ("price_scale = 0", "shop: price_scale: Input should be greater than 0"),
    ("price_scale = -100", "shop: price_scale: Input should be greater than 0"),
    ('price_scale = "lots"', "shop: price_scale: Input should be a valid integer"),
    ('currency = "บาท"', "shop: currency: Value error, must be a 3-letter currency code"),
    ('currency = "THBX"', "shop: currency: Value error, must be a 3-letter currency code"),
    ('currency = "฿"', "shop: currency: Value error, must be a 3-letter currency code"),
]


@pytest.mark.parametrize(("extra", "message"), PROFILE_ERRORS)
def test_bad_value_keys_are_refused_on_load_naming_profile_and_key(extra: str, message: str) -> None:
    with pytest.raises(ProfileError, match="^" + message.replace("(", r"\(")):
        parse_profile(PROFILE.format(kind="html", extra=extra, fields=""), "shop")


def test_spec_keys_need_spec_values() -> None:
    with pytest.raises(ProfileError, match="shop: fields: Value error, spec_keys and spec_values: give both"):
        parse_profile(PROFILE.format(kind="html", extra="", fields='spec_keys = ".k::text"'), "shop")
