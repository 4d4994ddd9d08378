"""TIS numbers and licence numbers in the canonical forms they are compared in.

Thai digits become Arabic, invisible characters go, dash and slash variants are unified and spaces
normalised (:func:`core.text.clean_text`), so ``มอก. ๒๘๗๙–๒๕๖๐`` and ``TIS 2879-2560`` are one number,
and ``ท 1234-56 / 2879`` one licence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.text import clean_text, pure_cached


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


@pure_cached
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


_SLASHES = "\u2044\u2215\u29f8\uff0f"
_LICENCE_TABLE = {ord(slash): "/" for slash in _SLASHES}
_WHITESPACE = re.compile(r"\s+")


@pure_cached
def canonical_licence(text: str) -> str:
    """A licence number in comparable form: ``ท 1234-56 / 2879`` → ``ท1234-56/2879``."""
    cleaned = clean_text(text).translate(_LICENCE_TABLE)
    return _WHITESPACE.sub("", cleaned).upper()
