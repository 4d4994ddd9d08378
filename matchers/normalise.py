"""Normalise Thai and English text, TIS numbers and licence numbers into the forms we compare.

Every function here is pure: the same text gives the same result, with no settings and no state.
Sellers dodge keyword filters with zero-width characters, Thai digits and look-alike dashes; the
register is typed by people. Both sides go through the same functions before they are compared.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache, wraps
from pathlib import Path
from typing import TypeVar

import ahocorasick
from pythainlp import (
    thai_above_vowels,
    thai_below_vowels,
    thai_follow_vowels,
    thai_lead_vowels,
    thai_tonemarks,
)
from pythainlp.corpus.common import thai_words
from pythainlp.util import normalize as pythainlp_normalize

PURE_CACHE = 16_384
"""Results kept by the pure functions below that a matcher calls on every listing with the same few
values (brands, TIS numbers, licence numbers, model codes)."""
CACHED_LENGTH = 200
"""Longer arguments are not kept: a hostile page's 100 kB brand must not stay in memory."""

_Text = TypeVar("_Text")


def _cached(function: Callable[[str], _Text]) -> Callable[[str], _Text]:
    """``function`` with its results for short arguments kept (an LRU cache of PURE_CACHE)."""
    keep = lru_cache(maxsize=PURE_CACHE)(function)

    @wraps(function)
    def cached(text: str) -> _Text:
        return keep(text) if len(text) <= CACHED_LENGTH else function(text)

    cached.cache_info = keep.cache_info  # type: ignore[attr-defined]
    return cached


# Invisible characters: zero-width space/joiners, direction marks and embeddings, word joiner and
# invisible operators, direction isolates, byte-order mark, soft hyphen.
_INVISIBLE = [
    *range(0x200B, 0x2010),
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2065),
    *range(0x2066, 0x206A),
    0xFEFF,
    0x00AD,
]
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"
_SLASHES = "\u2044\u2215\u29f8\uff0f"

_CLEAN_TABLE: dict[int, str | None] = {code: None for code in _INVISIBLE}
_CLEAN_TABLE.update({0x0E50 + digit: str(digit) for digit in range(10)})  # Thai digits ๐-๙
_CLEAN_TABLE.update({ord(dash): "-" for dash in _DASHES})
# Fullwidth ASCII (ＴＩＳ２８７９) to ASCII; the fullwidth dash is already mapped above.
_CLEAN_TABLE.update({code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F) if code not in _CLEAN_TABLE})

_SPECIAL = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_CLEAN_TABLE)) + "]")
_WHITESPACE = re.compile(r"\s+")
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


# Where PyThaiNLP's ``normalize`` would change cleaned text: ``เเ`` for ``แ``, a tone mark or
# thanthakhat before an above/below vowel or tone mark, a follow vowel before one, nikhahit (typed
# for sara am), lakkhangyao, a vowel or sign repeated (with or without a space between), a
# vowel/sign left dangling after a space or at the start. Text without any of these (nearly all
# listings) skips the call, which costs ~80 µs a title. The character pairs are found by one
# Aho-Corasick pass; several spaces in a row (uncleaned text) always take the call.
_NON_BASE = f"{thai_above_vowels}{thai_below_vowels}{thai_tonemarks}\u0e3a\u0e4c\u0e4d\u0e4e"
_REPEATABLE = (
    f"{thai_follow_vowels}{thai_lead_vowels}{thai_above_vowels}{thai_below_vowels}\u0e3a\u0e4c\u0e4d\u0e4e"
)
_MISORDER_WORDS = {
    "\u0e40\u0e40",
    "\u0e4d",
    "\u0e45",
    *(
        first + second
        for first in f"{thai_tonemarks}\u0e4c{thai_follow_vowels}"
        for second in f"{thai_above_vowels}{thai_below_vowels}{thai_tonemarks}"
    ),
    *(sign + space + sign for sign in _REPEATABLE for space in ("", " ")),
    *(space + sign for sign in _NON_BASE for space in " \n"),
}


def _automaton(words: Iterable[str]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for word in words:
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


_MISORDER = _automaton(_MISORDER_WORDS)
_NON_BASE_SET = frozenset(_NON_BASE)


def thai_normalise(text: str) -> str:
    """Thai vowels and tone marks in their standard order (PyThaiNLP ``normalize``), where needed."""
    if text[:1] in _NON_BASE_SET or "  " in text or next(_MISORDER.iter(text), None) is not None:
        return pythainlp_normalize(text)
    return text


@_cached
def fold(text: str) -> str:
    """Text in the form words are compared in: cleaned, Thai order fixed, casefolded."""
    return thai_normalise(clean_text(text)).casefold()


@dataclass(frozen=True)
class TisNumber:
    """A TIS number split into its parts: ``60335 เล่ม 2(23)-2564`` is base 60335, part 2(23), year 2564."""

    base: str
    part: str | None = None
    year: str | None = None

    @property
    def canonical(self) -> str:
        """The number as TISI writes it: ``BASE[ เล่ม PART][-YEAR]``."""
        text = self.base if self.part is None else f"{self.base} เล่ม {self.part}"
        return text if self.year is None else f"{text}-{self.year}"


_TIS_PREFIX = re.compile(r"^(?:ม\s*\.?\s*อ\s*\.?\s*ก|tis)\s*[.:]?\s*", re.IGNORECASE)
_TIS = re.compile(
    r"""^(?P<base>\d{1,5})
        (?:\s*(?:เล่ม(?:ที่)?|part|pt\.?)\s*(?P<part>\d{1,3})(?:\s*\(\s*(?P<sub>\d{1,3})\s*\))?)?
        (?:\s*-\s*(?P<year>\d{4}))?$""",
    re.IGNORECASE | re.VERBOSE,
)
# TIS years are Buddhist-era (พ.ศ.); the oldest standards date from 2511 (1968).
_FIRST_YEAR, _LAST_YEAR = 2500, 2699


@_cached
def parse_tis(text: str) -> TisNumber:
    """Split a TIS number such as ``มอก. ๒๘๗๙-๒๕๖๐`` or ``685เล่ม 1 - 2562``; ValueError if it is not one."""
    cleaned = _TIS_PREFIX.sub("", clean_text(text))
    match = _TIS.match(cleaned)
    shown = repr(text if len(text) <= 40 else text[:39] + "…")
    if match is None:
        raise ValueError(f"not a TIS number: {shown} (expected e.g. 2879-2560 or 685 เล่ม 1-2562)")
    year = match["year"]
    if year is not None and not _FIRST_YEAR <= int(year) <= _LAST_YEAR:
        raise ValueError(f"not a TIS number: {shown} (the year {year} is not a Buddhist-era year like 2560)")
    part = match["part"]
    if part is not None:
        part = str(int(part)) + (f"({int(match['sub'])})" if match["sub"] else "")
    return TisNumber(base=str(int(match["base"])), part=part, year=year)


def canonical_tis(text: str) -> str:
    """The canonical form of a TIS number: ``TIS 2879-2560`` → ``2879-2560``."""
    return parse_tis(text).canonical


def tis_base(text: str) -> str:
    """The base number of a TIS number: ``685 เล่ม 1-2562`` → ``685``."""
    return parse_tis(text).base


_LICENCE_TABLE = {ord(slash): "/" for slash in _SLASHES}


@_cached
def canonical_licence(text: str) -> str:
    """A licence number in comparable form: ``ท 1234-56 / 2879`` → ``ท1234-56/2879``."""
    cleaned = clean_text(text).translate(_LICENCE_TABLE)
    return _WHITESPACE.sub("", cleaned).upper()


def _is_word_char(char: str) -> bool:
    # letters, marks (Thai vowels and tone marks are marks) and digits
    return unicodedata.category(char)[0] in "LMN"


@_cached
def brand_key(text: str) -> str:
    """A brand for comparison: folded (Thai order fixed: ``เเสงทอง`` is ``แสงทอง``), punctuation replaced
    by spaces (``Dr.Power`` → ``dr power``)."""
    folded = fold(text)
    spaced = "".join(char if _is_word_char(char) else " " for char in folded)
    return _WHITESPACE.sub(" ", spaced).strip()


# Not a letter, digit or mark: \W keeps letters and digits; Thai and combining marks are added back.
_NOT_MODEL_CHAR = re.compile(r"[^\w\u0300-\u036f\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]|_")


@_cached
def model_key(text: str) -> str:
    """A model number for comparison: folded letters and digits only (``PB-10 000`` → ``pb10000``)."""
    return _NOT_MODEL_CHAR.sub("", fold(text))


_ASCII_NOT_WORD = bytes(code for code in range(128) if not chr(code).isalnum())


def compact_text(cleaned: str) -> str:
    """Cleaned text with Thai order fixed, casefolded, without ASCII spaces and punctuation, to look for
    brand and model keys in (a key holds letters and digits only, so every key written in the text is
    found in this).
    Deleting bytes from the UTF-8 is safe and fast: no multi-byte character holds an ASCII byte."""
    return (
        thai_normalise(cleaned)
        .casefold()
        .encode("utf-8", "surrogatepass")
        .translate(None, _ASCII_NOT_WORD)
        .decode("utf-8", "surrogatepass")
    )


class Segmenter:
    """Thai word segmentation with PyThaiNLP's dictionary plus custom words (the register's keywords
    and known brands), through nlpo3 where it is installed and PyThaiNLP's newmm otherwise."""

    def __init__(self, custom_words: Iterable[str] = ()) -> None:
        custom = {word for word in (fold(w) for w in custom_words) if word and " " not in word}
        self.words: frozenset[str] = frozenset(_base_words() | custom)
        self.engine = "nlpo3" if _nlpo3_available() else "newmm"
        if self.engine == "nlpo3":
            self._dictionary = _load_nlpo3_dictionary(self.words)
        else:
            from pythainlp.tokenize import Tokenizer

            self._tokenizer = Tokenizer(custom_dict=set(self.words), engine="newmm")

    def tokens(self, text: str) -> list[str]:
        """The words of folded text, without the spaces between them."""
        if not text:
            return []
        if self.engine == "nlpo3":
            import nlpo3

            pieces = nlpo3.segment(text, self._dictionary)
        else:
            pieces = self._tokenizer.word_tokenize(text)
        return [piece for piece in pieces if not piece.isspace()]


@cache
def _base_words() -> frozenset[str]:
    return frozenset(fold(word) for word in thai_words())


@cache
def _nlpo3_available() -> bool:
    try:
        import nlpo3  # noqa: F401
    except ImportError:
        return False
    return True


_LOADED: set[str] = set()


def _load_nlpo3_dictionary(words: frozenset[str]) -> str:
    """Load ``words`` into nlpo3 once per process under a name derived from their content."""
    digest = hashlib.sha256("\n".join(sorted(words)).encode()).hexdigest()[:16]
    name = f"tisiwatch-{digest}"
    if name not in _LOADED:
        import nlpo3

        with tempfile.TemporaryDirectory(prefix="tisiwatch-words-") as folder:
            path = Path(folder) / "words.txt"
            path.write_text("\n".join(sorted(words)), encoding="utf-8")
            message, loaded = nlpo3.load_dict(str(path), name)
        if not loaded:
            raise RuntimeError(f"nlpo3 could not load the word list: {message}")
        _LOADED.add(name)
    return name
