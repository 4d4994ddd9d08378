"""Text clean-up and escaping: the forms every stage compares and prints text in."""

from __future__ import annotations

import pytest

from core.text import CONTROL, INVISIBLE, clean_text, escaped, visible

# (text, escaped, escaped cut to 8)
ESCAPED = [
    ("ปลั๊กพ่วง", "ปลั๊กพ่วง", "ปลั๊กพ่ว…"),
    ("ไทย ok", "ไทย ok", "ไทย ok"),
    ("a\x1b[2Jb", "a\\x1b[2Jb", "a\\x1b[2J…"),
    ("two\nlines\ttab", "two\\x0alines\\x09tab", "two\\x0al…"),
    ("\x85\x7f\x00", "\\x85\\x7f\\x00", "\\x85\\x7f…"),
    ("cases\u202egpj.zip", "cases\\u202egpj.zip", "cases\\u2…"),
    ("zero\u200bwidth", "zero\\u200bwidth", "zero\\u20…"),
    ("tag\U000e0041", "tag\\U000e0041", "tag\\U000…"),
    ("\u2028\u2029\u061c", "\\u2028\\u2029\\u061c", "\\u2028\\u…"),
]


@pytest.mark.parametrize(("text", "expected", "cut"), ESCAPED)
def test_escaped(text: str, expected: str, cut: str) -> None:
    assert escaped(text) == expected
    assert escaped(text, 8) == cut
    assert escaped(text).isprintable()


def test_every_control_character_is_escaped() -> None:
    controls = [chr(code) for code in range(0x2100) if CONTROL.match(chr(code))]
    assert len(controls) > 60
    for char in controls:
        assert char not in escaped(f"a{char}b"), hex(ord(char))


# (text, cleaned for comparing, visible for naming)
CLEANED = [
    ("ร้าน\u200bดี", "ร้านดี", "ร้านดี"),
    ("ร้าน\u00adดี", "ร้านดี", "ร้านดี"),  # soft hyphen
    ("ร้าน\u2063ดี", "ร้านดี", "ร้านดี"),  # invisible separator
    ("ร้าน\u202eดี\u202c", "ร้านดี", "ร้านดี"),  # right-to-left override and pop
    ("\u2066ร้านดี\u2069", "ร้านดี", "ร้านดี"),  # direction isolates
    ("มอก. ๒๘๗๙–๒๕๖๐", "มอก. 2879-2560", "มอก. ๒๘๗๙–๒๕๖๐"),  # digits and dashes kept in names
    ("  Shop\t\u00a0One  ", "Shop One", "Shop One"),
    ("ＴＩＳ２８７９", "TIS2879", "ＴＩＳ２８７９"),
]


@pytest.mark.parametrize(("text", "cleaned", "shown"), CLEANED)
def test_clean_text_and_visible(text: str, cleaned: str, shown: str) -> None:
    assert clean_text(text) == cleaned
    assert visible(text) == shown


def test_visible_drops_exactly_the_characters_clean_text_drops() -> None:
    for code in INVISIBLE:
        assert visible(f"a{chr(code)}b") == "ab", hex(code)
        assert clean_text(f"a{chr(code)}b") == "ab", hex(code)
