"""The head of a title's phrase (matchers/itemhead.py) on its own: fitment words, bundles, heads."""

from __future__ import annotations

import pytest

from matchers.itemhead import fitment_words, joins, lead_item, not_the_item

POWER_BANK = frozenset({"พาวเวอร์แบงค์", "powerbank"})
ITEM_NOUNS = frozenset({"cover", "lock", "pouch"})


def _head(title: str, word: str, ends: frozenset[int] = frozenset(), lead: str | None = None) -> str | None:
    start = title.index(word)
    found = not_the_item(
        title, [(start, start + len(word))], fitment_words(title), POWER_BANK, ends, lead, ITEM_NOUNS
    )
    return found.how if found else None


@pytest.mark.parametrize(
    ("title", "word", "how"),
    [
        ("สายชาร์จสำหรับพาวเวอร์แบงค์", "พาวเวอร์แบงค์", "fitment"),
        ("ซอง ใช้ได้กับ eloop พาวเวอร์แบงค์", "พาวเวอร์แบงค์", "fitment"),
        ("visor for bell qualifier power bank", "power bank", "fitment"),
        ("cable to fit power bank", "power bank", "fitment"),
        ("ฝาครอบพาวเวอร์แบงค์", "พาวเวอร์แบงค์", "joined"),
        ("power bank-compatible pouch", "power bank", "qualifies"),
        ("power bank replacement cable", "power bank", "qualifies"),
        ("power bank door cover for cars", "power bank", "qualifies"),
        ("power bank lock for cars", "power bank", "qualifies"),  # one word: a noun naming an item
        # the product itself
        ("พาวเวอร์แบงค์ สำหรับ iphone", "พาวเวอร์แบงค์", None),
        ("power bank for iphone", "power bank", None),
        ("power bank 10000mah for iphone", "power bank", None),
        ("power bank slim for iphone 15", "power bank", None),  # an adjective names no item
        ("mini power bank portable for android", "power bank", None),
        ("ชุดพาวเวอร์แบงค์", "พาวเวอร์แบงค์", None),  # a set word names no other item
        ("เคสพร้อมพาวเวอร์แบงค์", "พาวเวอร์แบงค์", None),  # a bundle holds the product
        ("สำหรับ iphone พาวเวอร์แบงค์", "พาวเวอร์แบงค์", None),  # nothing named before the fitment word
        ("ตุ๊กตา สำหรับ 3 ปีขึ้นไป สีสดใส ปลอดภัย power bank", "power bank", None),  # too far from it
        ("forever power bank", "power bank", None),  # "for" inside a word is no fitment word
    ],
)
def test_which_item_the_title_names(title: str, word: str, how: str | None) -> None:
    assert _head(title, word) == how


def test_a_product_word_joined_before_another_makes_a_kind_of_its_own() -> None:
    """``หมวกกันน็อคพาวเวอร์แบงค์`` — with หมวกกันน็อค a product word ending where this one starts."""
    title = "หมวกกันน็อคพาวเวอร์แบงค์"
    assert _head(title, "พาวเวอร์แบงค์") == "joined"
    assert _head(title, "พาวเวอร์แบงค์", frozenset({title.index("พาวเวอร์แบงค์")})) is None


@pytest.mark.parametrize(
    ("between", "bundle"),
    [(" + ", True), (" with ", True), ("พร้อม", True), (" แถมฟรี ", True), (" 10000mah ", False), ("", False)],
)
def test_words_that_join_items_into_a_bundle(between: str, bundle: bool) -> None:
    assert joins(between) is bundle


def test_a_thai_item_named_first_makes_the_product_words_after_it_what_it_fits() -> None:
    title = "ผงล้างตะกรัน พาวเวอร์แบงค์ 10 ซอง"
    lead = lead_item(title, title.index("พาวเวอร์แบงค์"))
    assert lead == "ผงล้างตะกรัน"
    assert _head(title, "พาวเวอร์แบงค์", lead=lead) == "spaced"


@pytest.mark.parametrize(
    "title",
    [
        "พาวเวอร์แบงค์ 20000mah ชาร์จเร็ว",  # nothing before the product word
        "พร้อมส่ง พาวเวอร์แบงค์",  # a seller's stock phrase
        "ลดราคา พาวเวอร์แบงค์",
        "[ส่งฟรี] พาวเวอร์แบงค์",  # a tag in brackets
        "ลดพิเศษ! พาวเวอร์แบงค์",
        "ชุด พาวเวอร์แบงค์",  # a set word
        "สำหรับ พาวเวอร์แบงค์",  # a fitment word names no item
        "ซอง ใส่ พาวเวอร์แบงค์",  # two pieces: not one item named first
        "   ไทยแบรนด์ พาวเวอร์แบงค์",  # opens with something else (a blanked brand)
        "ซองพาวเวอร์แบงค์",  # no space: a joined head, not a lead
    ],
)
def test_no_lead_item(title: str) -> None:
    assert lead_item(title, title.index("พาวเวอร์แบงค์")) is None


def test_a_lead_word_that_holds_a_stock_stem_inside_is_still_an_item() -> None:
    title = "ชิลด์ พาวเวอร์แบงค์"  # ชิลด์ holds ลด, but does not begin with it
    assert lead_item(title, title.index("พาวเวอร์แบงค์")) == "ชิลด์"
