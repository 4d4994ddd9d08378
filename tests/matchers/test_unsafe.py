"""The known-unsafe list: brand from the field or the text, model code compared strictly."""

from __future__ import annotations

import pytest

from core.text import clean_text
from matchers.unsafe import UnsafeList

ENTRIES = [
    ("Eloop", "E-99X", "ร้อนเกิน", "2879-2560"),
    ("Volt", "ABCD1", "ไฟไหม้", None),
    ("ABCD1", "ZZ-100", "ไฟดูด", None),  # a brand spelt like another entry's model code
    ("Power Link", "PB 10 000", "ระเบิด", None),
    ("แสงทอง", "LB-99", "ไฟช็อต", "2780-2562"),
]

# (brand field, model field, title and description, the reason of the entry found or None)
CASES = [
    ("Eloop", "E-99X", "", "ร้อนเกิน"),
    ("ELOOP", "e 99x", "", "ร้อนเกิน"),  # case, spaces and punctuation do not count
    ("", "", "พาวเวอร์แบงค์ ELOOP e-99x 10000mAh", "ร้อนเกิน"),  # brand and model read from the text
    ("Eloop", "", "พาวเวอร์แบงค์ รุ่น E99X", "ร้อนเกิน"),
    ("Eloop", "E-99", "", None),  # model codes are compared strictly
    ("Eloop", "E-99XS", "", None),
    ("Volt", "", "ปลั๊กพ่วง Volt รุ่น ABCD1", "ไฟไหม้"),  # the code is also a brand: still a code
    ("", "", "ปลั๊กพ่วง ABCD1 รุ่น ZZ-100", "ไฟดูด"),
    ("Nova", "", "เข้ากันได้กับ Eloop E-99X", "ร้อนเกิน"),  # a listed brand in the text counts too
    ("Powerlink", "PB-10000", "", "ระเบิด"),
    ("Power Link", "PB-1000", "", None),
    ("Other", "X1", "พาวเวอร์แบงค์ 20000mAh", None),
    (None, None, "", None),
    # Thai written out of order is the same brand: sara e twice for sara ae, a dangling vowel
    ("เเสงทอง", "LB-99", "", "ไฟช็อต"),
    ("", "", "หลอดไฟ LED เเสงทอง LB-99 ประหยัดไฟ", "ไฟช็อต"),
    ("Eloop \u0e31", "E-99X", "", "ร้อนเกิน"),
]


@pytest.mark.parametrize(("brand", "model", "text", "reason"), CASES)
def test_find(brand: str | None, model: str | None, text: str, reason: str | None) -> None:
    hit = UnsafeList(ENTRIES).find(brand, model, clean_text(text))
    assert (hit.reason if hit else None) == reason


def test_an_empty_list_finds_nothing() -> None:
    assert UnsafeList([]).find("Eloop", "E-99X", "Eloop E-99X") is None
