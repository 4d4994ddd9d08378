"""Two checks of token-4, table-driven: the licence's brand read from the text of a listing without a
brand field, and QR codes in pictures that pose as TISI's but lead elsewhere."""

from __future__ import annotations

from datetime import date

import pytest

from config import MatchConfig
from matchers.classify import Classifier
from matchers.images import ImageReading
from matchers.tisiqr import qr_not_tisi, tisi_record_ids
from matchers.unsafe import UnsafeList
from matchers.verdict import Judge, ListingFacts
from tests.matchers.test_verdict import STANDARDS, Lic

LICENCES = {
    "ท1234-56/2879": Lic("ท1234-56/2879", "2879-2560", "บริษัท พลังดี จำกัด", ("Eloop", "อีลูป"), "active"),
    "น3107-62/2879": Lic("น3107-62/2879", "2879-2560", "Anker Thailand", ("Anker",), "active"),
    "ท8-61/2879": Lic("ท8-61/2879", "2879-2560", "Power Co.", ("Dr.Power",), "active"),
    "ท9-61/2432": Lic("ท9-61/2432", "2432-2555", "Toshino Co.", (), "active"),
}
ON = date(2026, 11, 25)

# (title, description, brand field, verdict, licence status, where the brand was read or None)
BRAND_CASES = [
    # no brand field, the title names another brand of the register: not this licence's
    ("Anker พาวเวอร์แบงค์ 10000mAh ใบอนุญาต ท1234-56/2879", "", None, "invalid_licence", "wrong_brand", "the title: “Anker”"),
    # ... and the licence's own brand: licensed, and the reason says where the brand was read
    ("Eloop พาวเวอร์แบงค์ 10000mAh ใบอนุญาต ท1234-56/2879", "", None, "licensed", "valid", "the title: “Eloop”"),
    # no brand named anywhere: the brand is not checked, as before
    ("พาวเวอร์แบงค์ 10000mAh ใบอนุญาต ท1234-56/2879", "ชาร์จเร็ว", None, "licensed", "valid", None),
    # only the description names a brand
    ("พาวเวอร์แบงค์ 10000mAh ใบอนุญาต ท1234-56/2879", "สินค้าแบรนด์ Anker แท้", None, "invalid_licence", "wrong_brand", "the description: “Anker”"),
    ("พาวเวอร์แบงค์ 10000mAh ใบอนุญาต น3107-62/2879", "สินค้าแบรนด์ Anker แท้", None, "licensed", "valid", "the description: “Anker”"),
    # a Thai brand written joined to the Thai product word
    ("พาวเวอร์แบงค์อีลูป 10000mAh ใบอนุญาต น3107-62/2879", "", None, "invalid_licence", "wrong_brand", "the title: “อีลูป”"),
    ("พาวเวอร์แบงค์อีลูป 10000mAh ใบอนุญาต ท1234-56/2879", "", None, "licensed", "valid", "the title: “อีลูป”"),
    # inside a longer Latin word a brand is not named
    ("Ankerite พาวเวอร์แบงค์ 10000mAh ใบอนุญาต ท1234-56/2879", "", None, "licensed", "valid", None),
    # punctuation and case as the brand key compares them
    ("DR POWER พาวเวอร์แบงค์ ใบอนุญาต ท1234-56/2879", "", None, "invalid_licence", "wrong_brand", "the title: “Dr.Power”"),
    ("drpower พาวเวอร์แบงค์ ใบอนุญาต ท8-61/2879", "", None, "licensed", "valid", "the title: “Dr.Power”"),
    # the licence's own brand named anywhere wins over another one (a part's maker, what it fits)
    ("Eloop พาวเวอร์แบงค์ เซลล์ Anker ใบอนุญาต ท1234-56/2879", "", None, "licensed", "valid", "the title: “Eloop”"),
    # a brand field decides, the text is not read for a brand
    ("Anker พาวเวอร์แบงค์ 10000mAh ใบอนุญาต ท1234-56/2879", "", "Eloop", "licensed", "valid", None),
    # a licence whose register row lists no brands is not checked for one
    ("Anker ปลั๊กพ่วง 4 ช่อง ใบอนุญาต ท9-61/2432", "", None, "licensed", "valid", None),
]  # fmt: skip


@pytest.fixture(scope="module")
def judge() -> Judge:
    config = MatchConfig()
    brands = {brand for licence in LICENCES.values() for brand in licence.brands}
    return Judge(Classifier(STANDARDS, config, brands), LICENCES, UnsafeList([]), config)


@pytest.mark.parametrize(("title", "description", "brand", "verdict", "status", "read"), BRAND_CASES)
def test_the_licence_brand_is_read_from_the_text_without_a_brand_field(
    judge: Judge, title: str, description: str, brand: str | None, verdict: str, status: str, read: str | None
) -> None:
    judgement = judge.judge(ListingFacts(title, description, brand=brand, observed_on=ON))
    assert (judgement.verdict, judgement.licence_status) == (verdict, status), judgement.reasons
    said = [reason["detail"] for reason in judgement.reasons if reason["feature"] == "brand_from_text"]
    assert said == ([f"ไม่มีช่องยี่ห้อ ยี่ห้ออ่านจาก{_TH[read.split(':')[0]]}: {read.split(': ')[1]} / "
                     f"no brand field; brand read from {read}"] if read else [])  # fmt: skip


_TH = {"the title": "ชื่อสินค้า", "the description": "รายละเอียดสินค้า"}

FAKE = "qr_not_tisi"
TISI = "https://appdb.tisi.go.th/Q/i.php?d=0123456789"
# (QR payloads in the picture, OCR text, verdict, whether the flag gives a QR leading elsewhere)
QR_CASES = [
    # TISI's own licence QR: needs review as before, nothing fake
    ((TISI,), "", "needs_review", False),
    # look-alike host, TISI's host as user name, plain http, other hosts with TISI's path or name
    (("https://appdb.tisi.go.th.evil.example/Q/i.php?d=0123456789",), "", "no_licence_shown", True),
    (("https://appdb.tisi.go.th@evil.example/Q/i.php?d=0123456789",), "", "no_licence_shown", True),
    (("http://appdb.tisi.go.th/Q/i.php?d=0123456789",), "", "no_licence_shown", True),
    (("https://evil.example/Q/i.php?d=0123456789",), "", "no_licence_shown", True),
    (("https://tisi-check.example/licence?id=42",), "", "no_licence_shown", True),
    (("appdb-tisi.example/Q/i.php?d=0123456789",), "", "no_licence_shown", True),
    (("https://evil-tisi.go.th/Q/i.php?d=0123456789",), "", "no_licence_shown", True),
    # a fake beside the real one: still reviewed, and the fake is said
    ((TISI, "http://appdb.tisi.go.th/Q/i.php?d=0123456789"), "", "needs_review", True),
    # a valid licence read from the picture does not outweigh a fake TISI QR in it: officer review
    (("https://appdb.tisi.go.th.evil.example/Q/i.php?d=0123456789",), "ใบอนุญาต ท1234-56/2879", "needs_review", True),
    (("https://shop.example/item/42",), "ใบอนุญาต ท1234-56/2879", "licensed", False),
    # QR codes that do not pose as TISI's: a shop link, TISI's home page, text naming TISI
    (("https://shop.example/item/42",), "", "no_licence_shown", False),
    (("https://www.tisi.go.th/",), "", "no_licence_shown", False),
    (("TISI 2879",), "", "no_licence_shown", False),
]  # fmt: skip


@pytest.mark.parametrize(("payloads", "ocr", "verdict", "fake"), QR_CASES)
def test_a_qr_code_leading_elsewhere_is_a_reason_for_the_flag_never_a_licence(
    judge: Judge, payloads: tuple[str, ...], ocr: str, verdict: str, fake: bool
) -> None:
    reading = ImageReading("http://shop.test/img/1.png", "0" * 64, ocr, payloads, tisi_record_ids(payloads))
    facts = ListingFacts("Eloop พาวเวอร์แบงค์ 10000mAh", brand="Eloop", observed_on=ON)
    judgement = judge.judge(facts, [reading])
    assert judgement.verdict == verdict, judgement.reasons
    flagged = [reason for reason in judgement.reasons if reason["feature"] == FAKE]
    assert bool(flagged) == fake, judgement.reasons
    if fake:
        assert flagged[0]["evidence"] == [{"url": "http://shop.test/img/1.png"}]
        assert all(link in flagged[0]["detail"] for link in qr_not_tisi(payloads))
        assert judgement.licence_status is None


def test_a_qr_code_leading_elsewhere_gives_no_licence_record() -> None:
    fakes = (
        "http://appdb.tisi.go.th/Q/i.php?d=0123456789",
        "https://appdb.tisi.go.th.evil.example/Q/i.php?d=0123456789",
    )
    assert tisi_record_ids(fakes) == ()
    assert qr_not_tisi((TISI, *fakes, "https://shop.example/")) == fakes
