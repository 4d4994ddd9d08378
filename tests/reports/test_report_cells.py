from __future__ import annotations

from decimal import Decimal

import pytest

from reports.cells import FORMULA_STARTS, TRUNCATED, XLSX_MAX_CHARS, cell, clean, neutralise

NEUTRALISE_CASES = [
    # (untrusted text, what the cell holds)
    ("พาวเวอร์แบงค์ 20000mAh", "พาวเวอร์แบงค์ 20000mAh"),
    ('=HYPERLINK("http://evil.test","click")', '\'=HYPERLINK("http://evil.test","click")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-1+1", "'-1+1"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("  =1+1", "'  =1+1"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'=1+1"),
    ("\tplain", "'\tplain"),
    ("\n@x", "'\n@x"),
    ("＝1+1", "'＝1+1"),  # full-width equals sign
    ("a=b", "a=b"),
    ("ราคา -50%", "ราคา -50%"),
    ("'already quoted", "'already quoted"),
    ("bell\x07 and nul\x00 and esc\x1b", "bell and nul and esc"),
    ("line one\r\nline two", "line one\nline two"),
    ("\u202eevil\u202c txt", "evil txt"),  # right-to-left override removed
    ("\u2066isolated\u2069", "isolated"),
    ("\x00=1+1", "'=1+1"),  # a control character cannot hide a formula
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), NEUTRALISE_CASES)
def test_neutralise(text: str, expected: str) -> None:
    assert neutralise(text) == expected


@pytest.mark.parametrize("start", sorted(FORMULA_STARTS))
def test_no_cell_starts_with_a_formula_character(start: str) -> None:
    for text in (f"{start}1", f" {start}1", f"\t{start}1", f"\u202e{start}1"):
        assert not neutralise(text).lstrip().startswith(start)


LIMIT_CASES = [
    # (text, limit, expected length in UTF-16 code units, or None when unchanged)
    ("ก" * 100_000, XLSX_MAX_CHARS, XLSX_MAX_CHARS),
    ("😀" * 20_000, XLSX_MAX_CHARS, None),  # 40,000 UTF-16 units: cut, without splitting a pair
    ("x" * XLSX_MAX_CHARS, XLSX_MAX_CHARS, XLSX_MAX_CHARS),
    ("short", XLSX_MAX_CHARS, 5),
]


@pytest.mark.parametrize(("text", "limit", "length"), LIMIT_CASES)
def test_long_text_is_capped_for_xlsx(text: str, limit: int, length: int | None) -> None:
    result = neutralise(text, limit)
    units = len(result.encode("utf-16-le")) // 2
    assert units <= limit
    if length is not None:
        assert units == length
    if len(text) > limit or units < len(text.encode("utf-16-le")) // 2:
        assert result.endswith(TRUNCATED)
    result.encode("utf-8")  # no lone surrogate


CELL_CASES = [
    (None, None),
    (3, 3),
    (2.5, 2.5),
    (True, True),
    (Decimal("399.50"), 399.5),
    ("=1", "'=1"),
    ("ok", "ok"),
]


@pytest.mark.parametrize(("value", "expected"), CELL_CASES)
def test_cell(value: object, expected: object) -> None:
    assert cell(value) == expected


def test_clean_keeps_thai_tabs_and_line_feeds() -> None:
    assert clean("มอก.\t๒๘๗๙\nบรรทัด") == "มอก.\t๒๘๗๙\nบรรทัด"


def _reference(text: str) -> str:
    """neutralise() without its fast path: the rules written out once more."""
    starts_unsafe = text[:1] in {"\t", "\r", "\n"}
    text = clean(text)
    return "'" + text if starts_unsafe or text.lstrip()[:1] in FORMULA_STARTS else text


PREFIXES = ["", " ", "  ", "\t", "\n", "\r", "\u00a0", "\u2003", "\u3000", "\x00", "\u202e", " \u200f"]
STARTS = [*sorted(FORMULA_STARTS), "a", "ก", "'", "1", ""]
SUFFIXES = ["", "1+1", "x\u202ey", "\x07", "\ttab", "\nline"]


def test_the_fast_path_agrees_with_the_rules() -> None:
    for prefix in PREFIXES:
        for start in STARTS:
            for suffix in SUFFIXES:
                text = prefix + start + suffix
                assert neutralise(text) == _reference(text), repr(text)
