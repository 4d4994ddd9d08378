"""Spreadsheet cells from untrusted text: never a formula, no control characters, within Excel's limit.

Marketplace text (titles, sellers, URLs, reasons) goes into CSV and XLSX files that officers open in
Excel or LibreOffice. A cell that starts with ``= + - @`` (or a tab or carriage return, or any of these
after leading spaces) could run as a formula (CSV injection), so it gets a leading ``'``. Control
characters and bidirectional overrides (which can make text read backwards, e.g. U+202E) are removed.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

XLSX_MAX_CHARS = 32_767
"""The most characters an Excel cell holds (counted in UTF-16 code units)."""

FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # with their full-width forms
"""Characters that make a spreadsheet read a cell as a formula."""

TRUNCATED = "…[ตัดทอน · truncated]"

# C0 controls except tab and line feed, DEL, C1 controls, bidirectional marks, embeddings, overrides
# and isolates. A carriage return is dropped (a CR LF line end becomes LF).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# a formula character after leading white space (\s is what str.lstrip() strips), or a tab or line break first
_FORMULA_FIRST = re.compile("[\t\r\n]|\\s*[" + re.escape("".join(sorted(FORMULA_STARTS))) + "]")


def clean(text: str) -> str:
    """``text`` without control characters and bidirectional controls (tabs and line feeds kept)."""
    return _UNSAFE.sub("", text)


def neutralise(text: str, limit: int | None = None) -> str:
    """``text`` made safe for a spreadsheet cell; with ``limit``, cut to that many UTF-16 code units."""
    if (
        _UNSAFE.search(text) is None
        and _FORMULA_FIRST.match(text) is None
        and (limit is None or 2 * len(text) <= limit)
    ):
        return text  # the common case: nothing to change
    starts_unsafe = text[:1] in {"\t", "\r", "\n"}
    text = clean(text)
    if starts_unsafe or text.lstrip()[:1] in FORMULA_STARTS:
        text = "'" + text
    if limit is not None and 2 * len(text) > limit and _utf16_length(text) > limit:
        text = _cut(text, limit - len(TRUNCATED)) + TRUNCATED
    return text


def cell(value: Any, limit: int | None = None) -> Any:
    """A value for a spreadsheet: strings neutralised, numbers as numbers, None as None."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return neutralise(str(value), limit)


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _cut(text: str, units: int) -> str:
    """The longest prefix of ``text`` that fits in ``units`` UTF-16 code units."""
    total = 0
    for index, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > units:
            return text[:index]
    return text
