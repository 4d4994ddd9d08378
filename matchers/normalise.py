"""Normalise Thai and English text, brands and model numbers into the forms the matcher compares.

Every function here is pure: the same text gives the same result, with no settings and no state.
Sellers dodge keyword filters with zero-width characters, Thai digits and look-alike dashes; the
register is typed by people. Both sides go through the same functions before they are compared.
Text clean-up (``core.text.clean_text``) and the canonical TIS and licence numbers
(``core.numbers``) live in ``core``: every stage uses them.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

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

from core.text import clean_text, pure_cached

_WHITESPACE = re.compile(r"\s+")

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


@pure_cached
def fold(text: str) -> str:
    """Text in the form words are compared in: cleaned, Thai order fixed, casefolded."""
    return thai_normalise(clean_text(text)).casefold()


def _is_word_char(char: str) -> bool:
    # letters, marks (Thai vowels and tone marks are marks) and digits
    return unicodedata.category(char)[0] in "LMN"


@pure_cached
def brand_key(text: str) -> str:
    """A brand for comparison: folded (Thai order fixed: ``เเสงทอง`` is ``แสงทอง``), punctuation replaced
    by spaces (``Dr.Power`` → ``dr power``)."""
    folded = fold(text)
    spaced = "".join(char if _is_word_char(char) else " " for char in folded)
    return _WHITESPACE.sub(" ", spaced).strip()


# Not a letter, digit or mark: \W keeps letters and digits; Thai and combining marks are added back.
_NOT_MODEL_CHAR = re.compile(r"[^\w\u0300-\u036f\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]|_")


@pure_cached
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
