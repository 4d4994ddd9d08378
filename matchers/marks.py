"""Reading TIS marks (มอก. numbers) and licence numbers from listing text, and recording where.

Text is cleaned first (``clean_text``: Thai digits, zero-width characters, dashes), so
``มอก. ๒๘๗๙-๒๕๖๐`` and ``ม อ ก 2879`` are read like ``มอก.2879-2560``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.numbers import TisNumber, canonical_licence, parse_tis
from core.text import clean_text

# Python's engine jumps straight between the few places a pattern can start (``ม``, ``T``, ``t``;
# ``ท``, ``น``; ``ใ``, ``L``, ``l``) only when the pattern starts with one character set, or with
# branches that each start with one plain character: so no IGNORECASE, no leading ``\b`` and no
# ``[Tt]`` at the start of a branch. The word boundary is checked by a look-behind after the letter.
_TIS_WORD = r"(?<!\w[Tt])[Ii][Ss](?![A-Za-z])\.?"
_MARK_WORD = "|".join((r"ม\s*\.?\s*อ\s*\.?\s*ก\s*\.?", "T" + _TIS_WORD, "t" + _TIS_WORD))
_MARK_NUMBER = r"(?P<number>\d{1,5}(?:\s*(?:เล่ม(?:ที่)?|[Pp][Aa][Rr][Tt])\s*\d{1,3}(?:\s*\(\s*\d{1,3}\s*\))?)?(?:\s*-\s*\d{4})?)"
_MARK = re.compile(f"(?:{_MARK_WORD})" + r"\s*(?:เลขที่|[Nn][Oo]\.?)?\s*" + _MARK_NUMBER)
# ท (made in Thailand) or น (imported), digits, -, digits, optional (n), /, the TIS base number.
_LICENCE_FORM = re.compile(
    r"[ทน](?<![ก-ฮ][ทน])\s*\.?\s*\d{1,6}\s*-\s*\d{1,4}(?:\s*\(\s*\d{1,3}\s*\))?\s*/\s*\d{1,5}"
)
_LICENCE_WORD = r"[Ii][Cc][Ee][Nn][CcSs][Ee]\s*(?:[Nn][Oo]\.?|[Nn][Uu][Mm][Bb][Ee][Rr]|\#)?"
_LICENCE_WORDS = "|".join((r"ใบอนุญาต(?:เลขที่|ที่)?", "L" + _LICENCE_WORD, "l" + _LICENCE_WORD))
_LICENCE_AFTER_WORD = re.compile(f"(?:{_LICENCE_WORDS})" + r"\s*[:：]?\s*(?P<token>[^\s,;|]{3,40})")


@dataclass(frozen=True)
class Mark:
    """A TIS number read from a listing, and where it was read."""

    tis: TisNumber
    text: str
    where: str


@dataclass(frozen=True)
class LicenceText:
    """A licence number read from a listing, and where it was read."""

    canonical: str
    text: str
    where: str


def listing_fields(title: str, description: str, spec: Mapping[str, str]) -> list[tuple[str, str]]:
    """The places text is read from, in order of weight: title, description, spec table."""
    spec_text = " ; ".join([f"{key}: {value}" for key, value in spec.items()])
    return [("title", title), ("description", description), ("spec", spec_text)]


def read_marks(fields: Iterable[tuple[str, str]], cleaned: bool = False) -> list[Mark]:
    """Every TIS number written in the fields (duplicates kept once, first place wins);
    ``cleaned``: the fields are already ``clean_text``-ed."""
    found: dict[str, Mark] = {}
    for where, raw in fields:
        text = raw if cleaned else clean_text(raw)
        for match in _MARK.finditer(text):
            try:
                tis = parse_tis(match["number"])
            except ValueError:
                continue
            if tis.canonical not in found:
                found[tis.canonical] = Mark(tis, match.group(0).strip(), where)
    return list(found.values())


def read_licences(fields: Iterable[tuple[str, str]], cleaned: bool = False) -> list[LicenceText]:
    """Every licence number written in the fields: the ท/น form anywhere, or a token after ใบอนุญาต;
    ``cleaned``: the fields are already ``clean_text``-ed."""
    found: dict[str, LicenceText] = {}
    for where, raw in fields:
        text = raw if cleaned else clean_text(raw)
        if "/" in text:
            for match in _LICENCE_FORM.finditer(text):
                canonical = canonical_licence(match.group(0))
                if canonical[1:2] == ".":  # ท.1234-56/2879: the dot after the letter is no part of it
                    canonical = canonical[0] + canonical[2:]
                if canonical not in found:
                    found[canonical] = LicenceText(canonical, match.group(0), where)
        for match in _LICENCE_AFTER_WORD.finditer(text):
            token = match["token"].rstrip(").")
            if any(char.isdigit() for char in token) and not _LICENCE_FORM.search(token):
                canonical = canonical_licence(token)
                if canonical not in found:
                    found[canonical] = LicenceText(canonical, token, where)
    return list(found.values())
