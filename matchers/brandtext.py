"""The brands a listing names in its title or description, for the licence's brand check of a
listing that has no brand field.

A brand is named where its ``brand_key`` (``Dr.Power`` → ``dr power``, also written together:
``drpower``) occurs in the ``brand_key`` of the text on word boundaries: a space, a change of script
(Thai, Latin, digits), or, between two Thai characters, where Thai word segmentation puts one — so
``Anker`` is not named in ``Ankerite`` and a short Thai brand is not read inside a longer word.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

import ahocorasick
from rapidfuzz import fuzz

from matchers.normalise import brand_key

MIN_KEY = 2
"""Shortest brand key looked for (``LG``, ``3M``); shorter ones are letters, not names."""


@dataclass(frozen=True)
class BrandSeen:
    """A known brand named in a listing: as the register writes it, and where (``title``, ``description``)."""

    brand: str
    where: str


def brand_fits(brand: str, brands: Sequence[str], min_ratio: float) -> bool:
    """Whether ``brand`` is one of ``brands`` (rapidfuzz ratio of their ``brand_key`` ≥ ``min_ratio``)."""
    shown = brand_key(brand)
    return any(fuzz.ratio(shown, brand_key(known)) >= min_ratio for known in brands)


def _script(char: str) -> int:
    """0 for a digit or space, 1 for Thai, 2 for another alphabet."""
    if "\u0e01" <= char <= "\u0e4e":
        return 1
    return 2 if char.isalpha() else 0


class BrandReader:
    """Finds the known brands (``brands``: as the registers write them) a text names; ``segment``
    splits a piece of folded Thai text into words; brands in ``skip`` (folded product words of the
    standards register, ``power`` …) are never read as brands."""

    def __init__(
        self, brands: Iterable[str], segment: Callable[[str], list[str]], skip: Collection[str] = ()
    ) -> None:
        self.segment = segment
        self.automaton = ahocorasick.Automaton()
        skipped = {brand_key(word) for word in skip}
        for brand in brands:
            key = brand_key(brand)
            if len(key) < MIN_KEY or key in skipped:
                continue
            for form in {key, key.replace(" ", "")}:
                if not self.automaton.exists(form):
                    self.automaton.add_word(form, (len(form), brand))
        self.empty = not len(self.automaton)
        if not self.empty:
            self.automaton.make_automaton()

    def named(self, text: str) -> list[str]:
        """The known brands ``text`` names on word boundaries, in the order they first appear."""
        if self.empty or not text:
            return []
        key = brand_key(text)
        found: dict[str, int] = {}
        for last, (length, brand) in self.automaton.iter(key):
            start, end = last + 1 - length, last + 1
            if brand not in found and self._edge(key, start) and self._edge(key, end):
                found[brand] = start
        return sorted(found, key=found.__getitem__)

    def _edge(self, key: str, i: int) -> bool:
        """Whether a word may start or end at ``i`` of ``key`` (a ``brand_key``: words split by one space)."""
        if i <= 0 or i >= len(key) or " " in key[i - 1 : i + 1]:
            return True
        before, after = _script(key[i - 1]), _script(key[i])
        if before != after or before == 0:
            return True
        if before == 2:
            return False
        low, high = key.rfind(" ", 0, i) + 1, key.find(" ", i)
        piece = key[low : len(key) if high < 0 else high]
        cursor = low
        for token in self.segment(piece):
            cursor += len(token)
            if cursor >= i:
                return cursor == i
        return False


def brand_read(
    reader: BrandReader, title: str, description: str, brands: Sequence[str], min_ratio: float
) -> BrandSeen | None:
    """The brand a listing without a brand field names, for a licence of ``brands``: one of the
    licence's brands named in the title or description (the title first), else another known brand
    the title names, else one the description names; None when none is named (the licence's brand is
    then not checked, as before). The licence's own brand named anywhere wins: a title may also name
    a part's maker (``ใช้เซลล์ LG``) or what the product fits."""
    named = [(where, reader.named(text)) for where, text in (("title", title), ("description", description))]
    for where, brands_named in named:
        own = [brand for brand in brands_named if brand_fits(brand, brands, min_ratio)]
        if own:
            return BrandSeen(own[0], where)
    for where, brands_named in named:
        if brands_named:
            return BrandSeen(brands_named[0], where)
    return None
