"""Reading TIS marks and licence numbers in every written form, and where each was read."""

from __future__ import annotations

import pytest

from matchers.marks import listing_fields, read_licences, read_marks

ZWSP = "\u200b"

# (text, canonical TIS numbers read)
MARK_CASES = [
    ("พาวเวอร์แบงค์ มอก.2879-2560", ["2879-2560"]),
    ("มอก. ๒๘๗๙-๒๕๖๐", ["2879-2560"]),  # Thai digits
    ("ผ่าน ม อ ก 2879", ["2879"]),  # spaced, no year
    ("ม.อ.ก. 2432-2555", ["2432-2555"]),
    ("TIS 2879-2560", ["2879-2560"]),
    ("tis2879", ["2879"]),
    ("มอก 685-2562 ของเล่น", ["685-2562"]),  # the part dropped: resolved by the product later
    ("มอก. 685 เล่ม 1-2562", ["685 เล่ม 1-2562"]),
    ("มอก.60335 เล่ม 2(23)-2564", ["60335 เล่ม 2(23)-2564"]),
    (f"มอก.{ZWSP}28{ZWSP}79–2560", ["2879-2560"]),  # zero-width characters, an en dash
    ("มอก. เลขที่ 166-2549", ["166-2549"]),
    ("มอก.2879-2560 และ มอก. 11-2553", ["2879-2560", "11-2553"]),
    ("ไม่มี มอก", []),
    ("รุ่น TIS-X 2024", []),
    ("มอก. 2879-1999", []),  # 1999 is no Buddhist-era year
    ("Tis 2879 Part 1-2560", ["2879 เล่ม 1-2560"]),  # any case, "part"
    ("TIS NO. 2879", ["2879"]),
    ("(TIS 2879)", ["2879"]),  # after punctuation
    ("XTIS 2879", []),  # inside a word: not the TIS prefix
    ("2TIS 2879", []),
    ("TISA 2879", []),
]


@pytest.mark.parametrize(("text", "expected"), MARK_CASES)
def test_marks(text: str, expected: list[str]) -> None:
    assert [mark.tis.canonical for mark in read_marks([("title", text)])] == expected


# (text, canonical licence numbers read)
LICENCE_CASES = [
    ("ใบอนุญาต ท1234-56/2879", ["ท1234-56/2879"]),
    ("ใบอนุญาตเลขที่ ท 1234 - 56 / 2879", ["ท1234-56/2879"]),  # spaces inside
    ("ใบอนุญาตที่: น๗๗-๖๕/๒๘๗๙", ["น77-65/2879"]),  # Thai digits
    ("License No. ท1234-56/2879", ["ท1234-56/2879"]),
    ("licence number: N-7788", ["N-7788"]),  # an opaque number after the word
    ("ท400-63(2)/685 ของแท้", ["ท400-63(2)/685"]),  # the ท/น form anywhere, with an edition
    ("ใบอนุญาต น1501-61(2)/685", ["น1501-61(2)/685"]),  # the edition kept, nothing half-read
    ("ท.1234-56/2879", ["ท1234-56/2879"]),  # a dot after the letter
    ("ใบอนุญาต ท1234-56／2879", ["ท1234-56/2879"]),  # a fullwidth slash
    ("มีใบอนุญาต ถูกต้อง", []),  # the word alone is no number
    ("ขนาด 10/2879 มม.", []),
    ("LICENSE: ท1234-56/2879", ["ท1234-56/2879"]),  # the word in any case
    ("รถ1234-56/2879", []),  # ท inside a Thai word is no licence letter
    ("กน1234-56/2879", []),
    ("(น1234-56/2879)", ["น1234-56/2879"]),
]


@pytest.mark.parametrize(("text", "expected"), LICENCE_CASES)
def test_licences(text: str, expected: list[str]) -> None:
    assert [licence.canonical for licence in read_licences([("title", text)])] == expected


def test_where_each_was_read() -> None:
    fields = listing_fields(
        "หมวกกันน็อค ครึ่งใบ",
        "ได้มาตรฐาน มอก. 369-2557",
        {"เลขที่ใบอนุญาต": "ท300-62/369", "ยี่ห้อ": "Index"},
    )
    [mark] = read_marks(fields)
    [licence] = read_licences(fields)
    assert (mark.tis.canonical, mark.where) == ("369-2557", "description")
    assert (licence.canonical, licence.where) == ("ท300-62/369", "spec")


def test_the_first_place_a_number_is_read_wins() -> None:
    fields = listing_fields("มอก.2879-2560", "มอก. ๒๘๗๙-๒๕๖๐", {})
    assert [mark.where for mark in read_marks(fields)] == ["title"]
