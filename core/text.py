"""Text in the forms every stage compares and shows: cleaned of invisible characters, and escaped.

Sellers dodge keyword filters with zero-width characters, Thai digits and look-alike dashes; the
register is typed by people; marketplaces and archives from elsewhere can hold characters that move a
terminal's cursor or reorder text. :func:`clean_text` gives the form text is compared in;
:func:`escaped` the form hostile text is printed in. Every function here is pure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

PURE_CACHE = 16_384
"""Results kept by the pure functions that a matcher calls on every listing with the same few values
(brands, TIS numbers, licence numbers, model codes)."""
CACHED_LENGTH = 200
"""Longer arguments are not kept: a hostile page's 100 kB brand must not stay in memory."""

_Result = TypeVar("_Result")


def pure_cached(function: Callable[[str], _Result]) -> Callable[[str], _Result]:
    """``function`` with its results for short arguments kept (an LRU cache of PURE_CACHE)."""
    keep = lru_cache(maxsize=PURE_CACHE)(function)

    @wraps(function)
    def cached(text: str) -> _Result:
        return keep(text) if len(text) <= CACHED_LENGTH else function(text)

    cached.cache_info = keep.cache_info  # type: ignore[attr-defined]
    cached.cache_clear = keep.cache_clear  # type: ignore[attr-defined]
    return cached


INVISIBLE: tuple[int, ...] = (
    *range(0x200B, 0x2010),  # zero-width space and joiners, left-to-right and right-to-left marks
    *range(0x202A, 0x202F),  # direction embeddings and overrides
    *range(0x2060, 0x2065),  # word joiner, invisible operators
    *range(0x2066, 0x206A),  # direction isolates
    0xFEFF,  # byte-order mark
    0x00AD,  # soft hyphen
)
"""Characters that show nothing and are dropped before text is compared or grouped."""
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"

_CLEAN_TABLE: dict[int, str | None] = dict.fromkeys(INVISIBLE)
_CLEAN_TABLE.update({0x0E50 + digit: str(digit) for digit in range(10)})  # Thai digits ๐-๙
_CLEAN_TABLE.update({ord(dash): "-" for dash in _DASHES})
# Fullwidth ASCII (ＴＩＳ２８７９) to ASCII; the fullwidth dash is already mapped above.
_CLEAN_TABLE.update({code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F) if code not in _CLEAN_TABLE})

_SPECIAL = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_CLEAN_TABLE)) + "]")
_INVISIBLE = re.compile("[" + "".join(re.escape(chr(code)) for code in INVISIBLE) + "]")
_SPACES = re.compile(r"\s+")
# Nikhahit + sara aa typed as two characters instead of sara am (ำ); NFC does not join them.
_SARA_AM = re.compile("\u0e4d\u0e32")


def clean_text(text: str) -> str:
    """NFC text without invisible characters, with Arabic digits, ASCII dashes and single spaces."""
    if _SPECIAL.search(text):
        text = text.translate(_CLEAN_TABLE)
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        if "\u0e4d" in text:
            text = _SARA_AM.sub("\u0e33", text)
    if not text.isprintable() or "  " in text or text.startswith(" ") or text.endswith(" "):
        # every whitespace character but the ASCII space is unprintable; str.split() splits on the
        # characters regex \s matches
        text = " ".join(text.split())
    return text


def visible(text: str) -> str:
    """Text as a name is shown and grouped: NFC, no invisible characters, spaces collapsed — digits,
    dashes and letters as they were written."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    return _SPACES.sub(" ", text).strip()


CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
"""C0 and C1 controls, DEL, the bidirectional marks, embeddings, overrides and isolates, and the line
and paragraph separators: what can move the cursor, clear a terminal, break a line or reorder text."""


def escaped(text: str, limit: int | None = None) -> str:
    """Text as it may be printed: every unprintable character (controls, direction and zero-width
    characters, line breaks; see :data:`CONTROL`) as ``\\x1b``, ``\\u202e`` or ``\\U000e0001``,
    everything else (Thai too) as it is; cut to ``limit`` characters with ``…`` when given."""
    if not text.isprintable():
        text = "".join(char if char.isprintable() else _escape(char) for char in text)
    return text if limit is None or len(text) <= limit else text[:limit] + "…"


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
