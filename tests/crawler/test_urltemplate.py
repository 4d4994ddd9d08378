"""Listing URL templates that read the search item (``{item_basic.shopid}``), checked at load; a stored
listing of such a profile is re-checked at its own URL."""

from __future__ import annotations

import re

import pytest

from crawler.profile import ProfileError, load_profile, parse_profile
from crawler.runner import _old_listing_url
from crawler.urltemplate import fill, id_only

CAPTURED = """
kind = "browser"
base_url = "https://shop.example"
[discovery]
search_url = "/search?keyword={query}"
items_path = "items"
item_id_path = "item_basic.itemid"
listing_url = "TEMPLATE"
id_from_url = "(?:/product/\\\\d+/)(\\\\d+)"
[capture]
search = "/api/search"
[browser]
wait_for = "h1"
"""


def test_placeholders_read_the_search_item_and_are_quoted_whole() -> None:
    item = {"item_basic": {"shopid": 11, "itemid": 22, "name": "a/b c", "tags": ["x"]}}
    assert fill("/product/{item_basic.shopid}/{item_basic.itemid}", "22", item) == "/product/11/22"
    assert fill("/p/{id}?n={item_basic.name}", "x/y", item) == "/p/x%2Fy?n=a%2Fb%20c"
    assert fill("/p/{item_basic.missing}", "22", item) is None  # no URL is made up
    assert fill("/p/{item_basic.tags}", "22", item) is None
    assert fill("/p/{{literal}}/{id}", "7") == "/p/{literal}/7"
    assert id_only("/p/{id}")
    assert not id_only("/product/{item_basic.shopid}/{id}")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("/p/{}", "placeholder {} must be {id} or a dotted path into the search item"),
        ("/p/{id!r}", "placeholder {id!r} must be"),
        ("/p/{id:>5}", "placeholder {id:>5} must be"),
        ("/p/{a..b}", "placeholder {a..b} must be"),
        ("/p/{item[0]}", "placeholder {item[0]} must be"),
        ("/p/{id", "write {{ and }} for a literal brace"),
    ],
)
def test_a_bad_listing_url_is_refused_at_load(template: str, message: str) -> None:
    with pytest.raises(ProfileError) as error:
        parse_profile(CAPTURED.replace("TEMPLATE", template), "myshop")
    assert "myshop: discovery.listing_url: " in str(error.value)
    assert message in str(error.value)


def test_item_paths_need_capture_search_and_id_from_url_one_group() -> None:
    html = 'kind = "html"\nbase_url = "https://s.example"\n[discovery]\nurls = ["/p/1"]\n'
    with pytest.raises(ProfileError, match=r"only \{id\} here: dotted paths read the search item"):
        parse_profile(html + 'listing_url = "/p/{shop.id}/{id}"\n', "myshop")
    with pytest.raises(
        ProfileError, match=r"id_from_url: Value error, needs exactly one group \(the id\), has 2"
    ):
        parse_profile(html + 'id_from_url = "/p/(\\\\d+)/(\\\\d+)"\n', "myshop")


def test_recheck_urls_rebuild_id_only_templates_and_keep_the_others() -> None:
    profile = parse_profile(CAPTURED.replace("TEMPLATE", "/product/{item_basic.shopid}/{id}"), "myshop")
    stored = "https://shop.example/Kettle-i.11.22?sp_atk=x"
    assert _old_listing_url(profile, "22", stored) == stored
    plain = parse_profile(CAPTURED.replace("TEMPLATE", "/product/1/{id}"), "myshop")
    assert _old_listing_url(plain, "22", "https://shop.example/product/1/22?utm=x") == (
        "https://shop.example/product/1/22"
    )


def test_the_shopee_ids_are_item_ids_read_from_either_url_shape() -> None:
    discovery = load_profile("shopee").discovery
    assert discovery.item_id_path == "item_basic.itemid"
    item = {"item_basic": {"itemid": 22812345678, "shopid": 33456}}
    assert fill(discovery.listing_url, "22812345678", item) == "/product/33456/22812345678"
    for url in (
        "https://shopee.co.th/product/33456/22812345678",
        "https://shopee.co.th/Kettle-i.33456.22812345678",
    ):
        found = re.search(discovery.id_from_url, url)
        assert found is not None
        assert found.group(1) == "22812345678"
