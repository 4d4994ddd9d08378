"""Embedded state: fields read by dotted path from a JSON object in a script of the page, and the
profile keys that say where it is, refused on load when they do not fit."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from parsel import Selector

from crawler.extract import json_fields
from crawler.profile import ProfileError, State, parse_profile
from crawler.state import read_state

PRODUCT = {
    "product": {
        "id": "FAN-16",
        "name": "พัดลมตั้งพื้น 16 นิ้ว",
        "price": {"amount": 1290, "currency": "THB"},
        "images": ["/img/1.jpg", "/img/2.jpg"],
        "sellers": [{"name": "ร้านดี"}, {"name": "ร้านสอง"}],
    }
}
RULES = {
    "title": "product.name",
    "price": "product.price.amount",
    "currency": "product.price.currency",
    "seller_name": "product.sellers.1.name",
    "images": "product.images",
}
READ = {
    "title": "พัดลมตั้งพื้น 16 นิ้ว",
    "price": Decimal("1290"),
    "currency": "THB",
    "seller_name": "ร้านสอง",
    "images": ["/img/1.jpg", "/img/2.jpg"],
}
AS_JSON = json.dumps(PRODUCT, ensure_ascii=False)
AS_JS = (  # a JavaScript object literal, not JSON: unquoted keys, single quotes, a trailing comma
    "{product: {id: 'FAN-16', name: 'พัดลมตั้งพื้น 16 นิ้ว', price: {amount: 1290, currency: 'THB'},"
    " images: ['/img/1.jpg', '/img/2.jpg'], sellers: [{name: 'ร้านดี'}, {name: 'ร้านสอง'},]}}"
)
OTHER_SCRIPT = '<script>var analytics = {"id": "UA-1"}; window.dataLayer = [];</script>'


def _page(*scripts: str) -> Selector:
    return Selector(f"<html><head>{''.join(scripts)}</head><body><h1>x</h1></body></html>")


FOUND = [
    pytest.param(
        _page(OTHER_SCRIPT, f'<script id="__NEXT_DATA__" type="application/json">{AS_JSON}</script>'),
        State(script="script#__NEXT_DATA__"),
        id="script-json",
    ),
    pytest.param(
        _page(OTHER_SCRIPT, f"<script>window.__INITIAL_STATE__ = {AS_JS};\nrender();</script>"),
        State(variable="window.__INITIAL_STATE__"),
        id="window-assignment",
    ),
    pytest.param(
        _page(f"<script>window.__INITIAL_STATE__={AS_JSON}</script>"),
        State(variable="__INITIAL_STATE__"),
        id="window-assignment-by-bare-name",
    ),
    pytest.param(
        _page(OTHER_SCRIPT, f"<script>if (a == b) {{}} var __moduleData__ = {AS_JS}; var x = 1;</script>"),
        State(variable="__moduleData__"),
        id="var-assignment",
    ),
    pytest.param(
        _page(f'<script class="state">let __moduleData__ = {AS_JS}</script>'),
        State(script="script.state", variable="__moduleData__"),
        id="var-in-chosen-script",
    ),
]


@pytest.mark.parametrize(("page", "state"), FOUND)
def test_fields_are_read_by_dotted_path_from_embedded_state(page: Selector, state: State) -> None:
    found = read_state(page, state)
    assert found.problem is None
    assert json_fields(found.data, RULES) == READ


MISSED = [
    pytest.param(
        _page('<script id="__NEXT_DATA__" type="application/json">{"product": {"name": "x", </script>'),
        State(script="#__NEXT_DATA__"),
        "not a readable object",
        id="broken-script",
    ),
    pytest.param(
        _page("<script>window.__INITIAL_STATE__ = undefinedThing();</script>"),
        State(variable="window.__INITIAL_STATE__"),
        "not a readable object",
        id="assignment-of-no-object",
    ),
    pytest.param(
        _page(f'<script id="__NEXT_DATA__" type="application/json">{AS_JSON}</script>'),
        State(script="#__NEXT_DATA__", max_chars=len(AS_JSON) - 1),
        "over max_chars",
        id="oversized-script",
    ),
    pytest.param(
        _page(OTHER_SCRIPT), State(variable="__moduleData__"), "no script assigns", id="no-variable"
    ),
    pytest.param(
        _page("<script>var __moduleData__ == {a: 1}</script>"),
        State(variable="__moduleData__"),
        "no script assigns",
        id="comparison-is-not-assignment",
    ),
    pytest.param(_page(OTHER_SCRIPT), State(script="#__NEXT_DATA__"), "no script", id="no-script"),
    pytest.param(
        _page(
            "<script>var x = '" + "[" * 100_000 + "';</script>",
            "<script>var s = " + "[" * 100_000 + "</script>",
        ),
        State(variable="s"),
        "not a readable object",
        id="deeply-nested",
    ),
]


@pytest.mark.parametrize(("page", "state", "problem"), MISSED)
def test_unreadable_state_is_a_miss_with_its_reason(page: Selector, state: State, problem: str) -> None:
    found = read_state(page, state)
    assert found.data is None
    assert found.problem is not None
    assert problem in found.problem
    assert json_fields(found.data, RULES) == {}


HTML = """
kind = "html"
base_url = "https://shop.example"
[discovery]
urls = ["/p/1"]
"""
API = """
kind = "api"
base_url = "https://api.example"
[discovery]
urls = ["/items/1"]
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HTML + '[fields]\ntitle = "state:product.name"\n', "myshop: (profile): Value error, fields.title: "
         "reads embedded state, but the profile has no [state]"),
        (HTML + '[state]\nscript = "#__NEXT_DATA__"\n[fields]\ntitle = "state:product..name"\n',
         "fields.title: 'state:product..name' is not a dotted path after 'state:'"),
        (HTML + '[state]\nscript = "#__NEXT_DATA__"\n[fields]\ntitle = "state:"\n',
         "fields.title: 'state:' is not a dotted path"),
        (HTML + "[state]\nmax_chars = 10\n", "myshop: state: Value error, needs script (a CSS selector) or variable"),
        (HTML + '[state]\nvariable = "window[\'x\']"\n', "myshop: state.variable: Value error, \"window['x']\" is "
         "not a JavaScript name"),
        (HTML + '[state]\nvariable = "x"\nmax_chars = 0\n', "myshop: state.max_chars: Input should be greater"),
        (HTML + '[state]\nvariable = "x"\nselector = "y"\n', "myshop: state.selector: unknown key"),
        (API + '[state]\nvariable = "x"\n', "state: an api profile reads JSON already"),
        (API + '[fields]\ntitle = "state:name"\n', "fields.title: an api profile's fields are dotted paths"),
    ],
)  # fmt: skip
def test_state_keys_that_do_not_fit_are_refused_naming_profile_and_key(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as error:
        parse_profile(text, "myshop")
    assert message in str(error.value)


def test_a_state_profile_loads() -> None:
    profile = parse_profile(
        HTML + '[state]\nvariable = "window.__INITIAL_STATE__"\n[fields]\ntitle = "state:product.name"\n'
        'price = ".price::text"\n',
        "myshop",
    )
    assert profile.state == State(variable="window.__INITIAL_STATE__")
    assert profile.fields["title"] == "state:product.name"
