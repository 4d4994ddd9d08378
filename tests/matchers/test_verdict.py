"""The verdict, table-driven: (title, description, spec, brand, model) → (verdict, licence_status, TIS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from config import MatchConfig
from matchers.classify import Classifier
from matchers.features import FEATURES
from matchers.images import ImageReading
from matchers.unsafe import UnsafeList
from matchers.verdict import Judge, ListingFacts

STANDARDS = [
    ("2879-2560", ["พาวเวอร์แบงค์", "พาวเวอร์แบงก์", "แบตสำรอง", "power bank"], ["เคส", "case", "ซอง"]),
    ("2432-2555", ["ปลั๊กพ่วง", "รางปลั๊ก", "extension cord"], ["ที่เก็บสาย"]),
    ("11 เล่ม 5-2553", ["สายไฟอ่อน", "สาย vff"], []),
    ("369-2557", ["หมวกกันน็อค", "หมวกกันน็อก", "helmet"], ["สติ๊กเกอร์", "sticker"]),
    ("685 เล่ม 1-2562", ["ของเล่น", "ตุ๊กตา", "toy"], ["สัตว์เลี้ยง", "pet toy", "สุนัข"]),
]


@dataclass(frozen=True)
class Lic:
    licence_no: str
    tis_number: str
    licensee: str
    brands: tuple[str, ...]
    status: str
    expires: date | None = None

    def status_on(self, day: date) -> str:
        return "expired" if self.status == "active" and self.expires and self.expires < day else self.status


LICENCES = {
    "ท1234-56/2879": Lic("ท1234-56/2879", "2879-2560", "บริษัท พลังดี จำกัด", ("Eloop", "Orsen"), "active"),
    "น77-65/2879": Lic("น77-65/2879", "2879-2560", "Import Co.", (), "revoked"),
    "น78-65/2879": Lic("น78-65/2879", "2879-2560", "Import Co.", (), "suspended"),
    "ท6-60/2879": Lic("ท6-60/2879", "2879-2560", "Old Co.", (), "active", date(2024, 1, 31)),
    "ท5-60/11": Lic("ท5-60/11", "11 เล่ม 5-2553", "Cable Co.", (), "active"),
    "ท9-61/2432": Lic("ท9-61/2432", "2432-2555", "Toshino Co.", (), "active"),
    "ท300-62/369": Lic("ท300-62/369", "369-2557", "Index Helmet", (), "active"),
    "ท400-63(2)/685": Lic("ท400-63(2)/685", "685 เล่ม 1-2562", "Toy Co.", (), "active"),
}
UNSAFE = [("Eloop", "E-99X", "ตัวเครื่องร้อนเกิน ทดสอบไม่ผ่าน", "2879-2560")]

CASES = [
    # licensed, mark and licence in the title
    (
        "Eloop พาวเวอร์แบงค์ 10000mAh มอก.2879-2560 ใบอนุญาต ท1234-56/2879",
        "",
        {},
        "Eloop",
        "E12",
        "licensed",
        "valid",
        "2879-2560",
    ),
    # Thai digits and spaces inside the licence number, licence only in the spec table
    (
        "พาวเวอร์แบงก์ 20000mAh",
        "",
        {"เลขที่ใบอนุญาต": "ท ๑๒๓๔-๕๖ / ๒๘๗๙"},
        "Orsen",
        "P20",
        "licensed",
        "valid",
        "2879-2560",
    ),
    # zero-width character inside the keyword and the licence
    (
        "พาวเวอร์\u200bแบงค์ ชาร์จเร็ว",
        "ใบอนุญาตเลขที่ ท1234-\u200b56/2879",
        {},
        "Eloop",
        "E5",
        "licensed",
        "valid",
        "2879-2560",
    ),
    # a bare มอก. claim is not a licence
    ("แบตสำรอง 10000 mAh มีมอก.", "", {}, "NoName", "X1", "no_licence_shown", None, "2879-2560"),
    ("ปลั๊กพ่วง 4 ช่อง 3 เมตร", "สินค้าคุณภาพดี", {}, "Toshino", "T4", "no_licence_shown", None, "2432-2555"),
    # unknown, revoked, suspended licences
    (
        "power bank 5000mAh licence no. ท9999-99/2879",
        "",
        {},
        "Acme",
        "A1",
        "invalid_licence",
        "not_found",
        "2879-2560",
    ),
    ("พาวเวอร์แบงค์ ใบอนุญาต น77-65/2879", "", {}, "Acme", "A2", "invalid_licence", "revoked", "2879-2560"),
    ("พาวเวอร์แบงค์ ใบอนุญาต น78-65/2879", "", {}, "Acme", "A3", "invalid_licence", "suspended", "2879-2560"),
    # active in the register, but past its expiry date on the day the listing was seen
    ("พาวเวอร์แบงค์ 10000 ใบอนุญาต ท6-60/2879", "", {}, "Old", "O1", "invalid_licence", "expired", "2879-2560"),
    # a component's licence (cable มอก. 11) on an extension cord
    (
        "ปลั๊กพ่วง 5 ช่อง สายยาว 5 ม.",
        "สายไฟผ่าน มอก. 11 ใบอนุญาต ท5-60/11",
        {},
        "Cheap",
        "C5",
        "invalid_licence",
        "wrong_standard",
        "2432-2555",
    ),
    # licence for other brands
    (
        "พาวเวอร์แบงค์ 10000mAh ใบอนุญาต ท1234-56/2879",
        "",
        {},
        "Yoobao",
        "Y1",
        "invalid_licence",
        "wrong_brand",
        "2879-2560",
    ),
    # the unsafe list: brand read from the text when the brand field is empty, model code strictly
    ("พาวเวอร์แบงค์ ELOOP e 99x 10000mAh", "", {}, "", "", "unsafe", None, "2879-2560"),
    # … but a case that fits the listed power bank is not the power bank
    ("เคสซิลิโคน ใส่ Eloop E-99X ได้พอดี", "", {}, "", "", "not_controlled", None, None),
    # … while the listed power bank that comes with a pouch is the power bank, whatever licence it shows
    (
        "พาวเวอร์แบงค์ Eloop E-99X 10000mAh แถมซองกันกระแทก ใบอนุญาต ท1234-56/2879",
        "",
        {},
        "Eloop",
        "E-99X",
        "unsafe",
        None,
        "2879-2560",
    ),
    # several licences shown: the product's own decides (the cable's is a component's)
    (
        "ปลั๊กพ่วง 4 ช่อง",
        "สายไฟ ใบอนุญาต ท5-60/11 ตัวราง ใบอนุญาต ท9-61/2432",
        {},
        "",
        "",
        "licensed",
        "valid",
        "2432-2555",
    ),
    # a TIS number and a valid licence for it, no product words: licensed
    (
        "Gundam plastic model kit",
        "มอก. 685-2562 ใบอนุญาต ท400-63(2)/685",
        {},
        "",
        "",
        "licensed",
        "valid",
        "685 เล่ม 1-2562",
    ),
    # a TIS number alone, no product words: an officer looks
    ("สินค้าตามรูป ราคาส่ง", "มอก. 2879-2560", {}, "", "", "needs_review", None, "2879-2560"),
    # unsafe, whatever licence is shown
    ("Eloop พาวเวอร์แบงค์ E-99X ใบอนุญาต ท1234-56/2879", "", {}, "Eloop", "E-99X", "unsafe", None, "2879-2560"),
    # look-alikes are not controlled
    ("เคสซิลิโคน สำหรับ พาวเวอร์แบงค์ Eloop", "", {}, "", "", "not_controlled", None, None),
    ("สติ๊กเกอร์ติดหมวกกันน็อค ลายการ์ตูน", "", {}, "", "", "not_controlled", None, None),
    ("ของเล่นสุนัข ตุ๊กตายางกัด สำหรับสัตว์เลี้ยง", "", {}, "", "", "not_controlled", None, None),
    ("เสื้อยืดคอกลม cotton 100%", "", {}, "", "", "not_controlled", None, None),
    # misspelling that the register lists, licence for the helmet standard
    ("หมวกกันน็อก เต็มใบ", "ใบอนุญาต ท300-62/369", {}, "Index", "I1", "licensed", "valid", "369-2557"),
    # a TIS number without its part: มอก. 685-2562 means 685 เล่ม 1-2562 for a toy
    (
        "ตุ๊กตาหมี ของเล่นเด็ก มอก. 685-2562",
        "ใบอนุญาต ท400-63(2)/685",
        {},
        "Teddy",
        "T1",
        "licensed",
        "valid",
        "685 เล่ม 1-2562",
    ),
]


@pytest.fixture(scope="module")
def judge() -> Judge:
    config = MatchConfig()
    return Judge(Classifier(STANDARDS, config), LICENCES, UnsafeList(UNSAFE), config)


@pytest.mark.parametrize(
    ("title", "description", "spec", "brand", "model", "verdict", "status", "tis"), CASES
)
def test_verdicts(
    judge: Judge,
    title: str,
    description: str,
    spec: dict[str, str],
    brand: str,
    model: str,
    verdict: str,
    status: str | None,
    tis: str | None,
) -> None:
    facts = ListingFacts(
        title, description, spec, brand or None, model or None, observed_on=date(2026, 11, 25)
    )
    judgement = judge.judge(facts)
    assert (judgement.verdict, judgement.licence_status, judgement.tis_number) == (verdict, status, tis), (
        judgement.reasons
    )
    assert judgement.reasons, "every verdict carries its reasons"


def test_every_feature_has_a_one_line_docstring() -> None:
    for feature in FEATURES:
        doc = (feature.__doc__ or "").strip()
        assert doc, f"{feature.__name__} has no docstring"
        assert "\n" not in doc, f"{feature.__name__}: the docstring must be one line"


IMAGE_CASES = [
    # the licence and mark only in a picture: read from it, checked as from the text
    ("มอก. 2879-2560 ใบอนุญาต ท1234-56/2879", (), "licensed", "valid"),
    # only the TISI QR code: its record cannot be checked offline, an officer looks
    ("", ("0123456789",), "needs_review", None),
    # a licence number the register does not know, read by OCR: perhaps misread, an officer looks
    ("ใบอนุญาต ท9999-99/2879", (), "needs_review", None),
    # a picture with nothing on it: the text's verdict stands
    ("", (), "no_licence_shown", None),
]


@pytest.mark.parametrize(("ocr", "qr", "verdict", "status"), IMAGE_CASES)
def test_what_pictures_show(
    judge: Judge, ocr: str, qr: tuple[str, ...], verdict: str, status: str | None
) -> None:
    reading = ImageReading("http://shop.test/img/1.png", "0" * 64, ocr, qr=(), tisi_qr=qr)
    facts = ListingFacts("Eloop พาวเวอร์แบงค์ 10000mAh", brand="Eloop", observed_on=date(2026, 11, 25))
    judgement = judge.judge(facts, [reading])
    assert (judgement.verdict, judgement.licence_status) == (verdict, status), judgement.reasons
