"""Normalisation of text, TIS numbers, licence numbers, brands and models: tables of cases."""

from __future__ import annotations

import random

import pytest
from pythainlp.util import normalize as pythainlp_normalize

from core.numbers import TisNumber, canonical_licence, canonical_tis, parse_tis, tis_base
from core.text import clean_text
from matchers import normalise
from matchers.normalise import (
    Segmenter,
    brand_key,
    compact_text,
    fold,
    model_key,
    thai_normalise,
)

ZWSP, ZWJ, BOM, SHY, LRM, RLO, WJ, LRI = (
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u00ad",
    "\u200e",
    "\u202e",
    "\u2060",
    "\u2066",
)

CLEAN_CASES = [
    ("  พาวเวอร์แบงค์   10000 mAh ", "พาวเวอร์แบงค์ 10000 mAh"),
    (f"พาว{ZWSP}เวอร์{ZWJ}แบงค์", "พาวเวอร์แบงค์"),
    (f"{BOM}power{SHY}bank{LRM}{RLO}{WJ}{LRI}", "powerbank"),
    ("มอก. ๒๘๗๙-๒๕๖๐", "มอก. 2879-2560"),
    ("๐๑๒๓๔๕๖๗๘๙", "0123456789"),
    ("2879‐2560 2879‑2560 2879‒2560", "2879-2560 2879-2560 2879-2560"),
    ("2879–2560 2879—2560 2879―2560", "2879-2560 2879-2560 2879-2560"),
    ("2879−2560 2879﹣2560 2879－2560", "2879-2560 2879-2560 2879-2560"),
    ("ＴＩＳ　２８７９", "TIS 2879"),
    ("line\none\ttab\r\n\u00a0nbsp", "line one tab nbsp"),
    ("e\u0301", "\u00e9"),  # NFC joins e + combining acute
    ("น\u0e4d\u0e32", "นำ"),  # nikhahit + sara aa typed apart is sara am
    ("", ""),
    (f" {ZWSP} ", ""),
]


@pytest.mark.parametrize(("text", "expected"), CLEAN_CASES)
def test_clean_text(text: str, expected: str) -> None:
    assert clean_text(text) == expected


WHITESPACE = [chr(code) for code in range(0x110000) if chr(code).isspace()]


@pytest.mark.parametrize("space", WHITESPACE, ids=[f"U+{ord(char):04X}" for char in WHITESPACE])
def test_clean_text_leaves_single_spaces_only(space: str) -> None:
    """Text with only single ASCII spaces skips the split; every other whitespace is still found."""
    for text in (f"ปลั๊ก{space}พ่วง", f"ปลั๊ก{space}{space}พ่วง", f"ปลั๊ก {space}พ่วง", f"{space}ปลั๊ก พ่วง{space}"):
        assert clean_text(text) == "ปลั๊ก พ่วง", repr(text)


TIS_CASES = [
    ("2879-2560", "2879-2560"),
    ("มอก. ๒๘๗๙-๒๕๖๐", "2879-2560"),
    ("มอก.2879-2560", "2879-2560"),
    ("TIS 2879-2560", "2879-2560"),
    ("tis2879-2560", "2879-2560"),
    ("ม.อ.ก. 2879-2560", "2879-2560"),
    ("ม อ ก 2879 – 2560", "2879-2560"),
    (f"มอก.{ZWSP}28{ZWSP}79-2560", "2879-2560"),
    ("２８７９－２５６０", "2879-2560"),
    ("685 เล่ม 1-2562", "685 เล่ม 1-2562"),
    ("685 เล่ม1 - 2562", "685 เล่ม 1-2562"),
    ("685เล่ม 1-2562", "685 เล่ม 1-2562"),
    ("685 เล่มที่ 1-2562", "685 เล่ม 1-2562"),
    ("TIS 685 Part 1-2562", "685 เล่ม 1-2562"),
    ("60335 เล่ม 2(23)-2564", "60335 เล่ม 2(23)-2564"),
    ("60335 เล่ม 2 (23)-2564", "60335 เล่ม 2(23)-2564"),
    ("60335 เล่ม ๒ ( ๒๓ ) - ๒๕๖๔", "60335 เล่ม 2(23)-2564"),
    ("มอก. 685-2562", "685-2562"),
    ("TIS 2879", "2879"),
    ("685 เล่ม 1", "685 เล่ม 1"),
    ("11 เล่ม 101-2559", "11 เล่ม 101-2559"),
]


@pytest.mark.parametrize(("text", "expected"), TIS_CASES)
def test_canonical_tis(text: str, expected: str) -> None:
    assert canonical_tis(text) == expected
    assert canonical_tis(expected) == expected


PARSE_CASES = [
    ("60335 เล่ม 2(23)-2564", TisNumber("60335", "2(23)", "2564")),
    ("685 เล่ม 1-2562", TisNumber("685", "1", "2562")),
    ("มอก. 2879", TisNumber("2879", None, None)),
    ("0166-2549", TisNumber("166", None, "2549")),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_tis(text: str, expected: TisNumber) -> None:
    assert parse_tis(text) == expected
    assert tis_base(text) == expected.base


NOT_TIS_CASES = [
    ("", "not a TIS number"),
    ("มอก.", "not a TIS number"),
    ("abc", "not a TIS number"),
    ("ท1234-56/2879", "not a TIS number"),
    ("2879/2560", "not a TIS number"),
    ("123456-2560", "not a TIS number"),
    ("2879-2017", "not a Buddhist-era year"),
    ("2879-256", "not a TIS number"),
    ("=2879-2560", "not a TIS number"),
]


@pytest.mark.parametrize(("text", "message"), NOT_TIS_CASES)
def test_not_a_tis_number(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        canonical_tis(text)


LICENCE_CASES = [
    ("ท1234-56/2879", "ท1234-56/2879"),
    ("ท 1234-56 / 2879", "ท1234-56/2879"),
    ("ท๑๒๓๔-๕๖/๒๘๗๙", "ท1234-56/2879"),
    (f"ท12{ZWSP}34–56／2879", "ท1234-56/2879"),
    ("น 5678 (2) - 61 ⁄ 166", "น5678(2)-61/166"),
    ("n1234-56∕2879", "N1234-56/2879"),
    ("  ท1234-56/2879\u00a0", "ท1234-56/2879"),
]


@pytest.mark.parametrize(("text", "expected"), LICENCE_CASES)
def test_canonical_licence(text: str, expected: str) -> None:
    assert canonical_licence(text) == expected


BRAND_CASES = [
    ("ANKER", "anker"),
    ("  Dr.Power ", "dr power"),
    (f"Zap{ZWSP}-Power", "zap power"),
    ("พาวเวอร์ดี", "พาวเวอร์ดี"),
    ("Xiaomi (小米)", "xiaomi 小米"),
    ("เเสงทอง", "แสงทอง"),  # sara e typed twice for sara ae
    ("SiamPlug \u0e31", "siamplug"),  # a vowel left dangling after a space
    ("ไทยว\u0e48\u0e31ฒน์", "ไทยวั่ฒน์"),  # tone mark typed before its vowel
]


@pytest.mark.parametrize(("text", "expected"), BRAND_CASES)
def test_brand_key(text: str, expected: str) -> None:
    assert brand_key(text) == expected


MODEL_CASES = [
    ("PB-10 000", "pb10000"),
    ("pb 10000", "pb10000"),
    ("PB–10000", "pb10000"),
    ("Robo (X1)", "robox1"),
    ("รุ่น ใหม่-๑", "รุ่นใหม่1"),  # Thai vowels and tone marks are kept
    (f"A{ZWSP}1", "a1"),
    ("---", ""),
    ("เเอลบี-9", "แอลบี9"),
]


@pytest.mark.parametrize(("text", "expected"), MODEL_CASES)
def test_model_key(text: str, expected: str) -> None:
    assert model_key(text) == expected


def test_only_short_arguments_are_kept_by_the_caches() -> None:
    info = brand_key.cache_info  # type: ignore[attr-defined]
    before = info().currsize
    assert brand_key("Acme-Power " + "x" * 100_000) == "acme power " + "x" * 100_000
    assert info().currsize == before  # a hostile page's 100 kB brand is not kept
    assert brand_key(f"Acme-Power {before}") == f"acme power {before}"
    assert info().currsize == before + 1


COMPACT_CASES = [
    ("Power-Link PB 10,000 (ของแท้)", "powerlinkpb10000ของแท้"),  # ASCII punctuation and spaces go
    ("Ａｃｍｅ PB", "ａｃｍｅpb"),  # non-ASCII is kept as it is (clean_text turns fullwidth to ASCII first)
    ("ÉCLAIR É-1", "éclairé1"),
    ("พาวเวอร์แบงค์ ๒๐๐๐๐", "พาวเวอร์แบงค์๒๐๐๐๐"),
    ("bad \ud800 surrogate", "bad\ud800surrogate"),  # a lone surrogate from scraped JSON: no error
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), COMPACT_CASES)
def test_compact_text(text: str, expected: str) -> None:
    assert compact_text(text) == expected


THAI_ORDER_CASES = [
    ("เเปลก", "แปลก"),  # two sara e typed for sara ae
    ("กิ่่ง", "กิ่ง"),  # a tone mark typed twice
    ("ปลั๊กพ่วง", "ปลั๊กพ่วง"),  # already in order: unchanged
    ("น้ำ", "น้ำ"),
    ("power bank", "power bank"),
]


@pytest.mark.parametrize(("text", "expected"), THAI_ORDER_CASES)
def test_thai_normalise(text: str, expected: str) -> None:
    assert thai_normalise(text) == expected


def test_thai_normalise_agrees_with_pythainlp_where_it_skips_the_call() -> None:
    """The fast path must never skip text PyThaiNLP's normalize would change."""
    alphabet = [chr(code) for code in range(0x0E01, 0x0E5C)] + [" ", "a", "1"]
    rng = random.Random(2567)
    for _ in range(30_000):
        text = clean_text("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))))
        assert thai_normalise(text) == pythainlp_normalize(text), repr(text)


FOLD_CASES = [
    ("POWER BANK", "power bank"),
    ("พาว\u200bเวอร์แบงค์", "พาวเวอร์แบงค์"),
    ("เเบตสำรอง ๒๐๐๐๐ mAh", "แบตสำรอง 20000 mah"),
    ("ＴＩＳ　２８７９", "tis 2879"),
]


@pytest.mark.parametrize(("text", "expected"), FOLD_CASES)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


SEGMENT_CASES = [
    ("พาวเวอร์แบงค์ 20000mah ชาร์จเร็ว", ["พาวเวอร์แบงค์", "20000", "mah", "ชาร์จ", "เร็ว"]),
    ("เคสพาวเวอร์แบงค์", ["เคส", "พาวเวอร์แบงค์"]),  # the custom word is kept whole
    ("ปลั๊กพ่วง 4 ช่อง", ["ปลั๊กพ่วง", "4", "ช่อง"]),
    ("", []),
]


@pytest.mark.parametrize("engine", ["nlpo3", "newmm"])
@pytest.mark.parametrize(("text", "expected"), SEGMENT_CASES)
def test_segmenter(engine: str, text: str, expected: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    if engine == "newmm":
        monkeypatch.setattr(normalise, "_nlpo3_available", lambda: False)
    else:
        pytest.importorskip("nlpo3", reason="nlpo3 is not installed; newmm is used instead")
    segmenter = Segmenter(["พาวเวอร์แบงค์", "ปลั๊กพ่วง"])
    assert segmenter.engine == engine
    assert segmenter.tokens(fold(text)) == expected
