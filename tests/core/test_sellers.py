"""Seller names as shown and grouped."""

from __future__ import annotations

import pytest

from core.sellers import seller_key, seller_name
from core.text import INVISIBLE

# (two names, one seller?)
CASES = [
    (("ร้านดี", " ร้าน\u200bดี "), True),
    (("ร้านดี", "ร้าน\u00adดี"), True),  # soft hyphen: was a second seller before core
    (("ร้านดี", "ร้าน\u202eดี"), True),  # right-to-left override: likewise
    (("ร้านดี", "\u2066ร้านดี\u2069"), True),  # direction isolates: likewise
    (("Shop One", "SHOP  one"), True),
    (("Cafe\u0301", "Caf\u00e9"), True),  # NFC
    (("ร้านดี", "ร้านดีดี"), False),
    (("Shop 1", "Shop 2"), False),
]


@pytest.mark.parametrize(("names", "same"), CASES)
def test_seller_key(names: tuple[str, str], same: bool) -> None:
    first, second = names
    assert (seller_key(first) == seller_key(second)) is same


@pytest.mark.parametrize("code", INVISIBLE)
def test_no_invisible_character_splits_a_seller(code: int) -> None:
    assert seller_key(f"ร้าน{chr(code)}ดี") == seller_key("ร้านดี")
    assert seller_name(f"ร้าน{chr(code)}ดี") == "ร้านดี"


def test_a_name_of_nothing_has_an_empty_key() -> None:
    assert seller_key(" \u200b\u00ad ") == ""
