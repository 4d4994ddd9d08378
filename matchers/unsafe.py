"""The known-unsafe list: brand and model of a listing against recalls, seizures and failed tests.

Brands are compared without case, punctuation or spaces (``Power Link`` is ``PowerLink``); a listing
without a brand field is searched for the listed brands in its text. Model codes are compared
strictly, letters and digits only (``PB-10 000`` is ``pb10000``), from the model field or the text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick

from matchers.normalise import brand_key, compact_text, model_key

MIN_MODEL_IN_TEXT = 4
"""Shortest model code looked for inside a listing's text (shorter codes match too much)."""


@dataclass(frozen=True)
class UnsafeHit:
    brand: str
    model: str
    reason: str
    tis_number: str | None = None


def compact_brand(text: str) -> str:
    """A brand as the unsafe list compares it: ``brand_key`` without spaces."""
    return brand_key(text).replace(" ", "")


class UnsafeList:
    """Lookup by brand, then strict model-code comparison."""

    def __init__(self, entries: Iterable[Sequence[str | None]]) -> None:
        """``entries``: (brand, model, reason[, TIS number]) per list entry."""
        self._by_brand: dict[str, dict[str, UnsafeHit]] = defaultdict(dict)
        for brand, model, reason, *more in entries:
            hit = UnsafeHit(brand or "", model or "", reason or "", more[0] if more else None)
            self._by_brand[compact_brand(hit.brand)][model_key(hit.model)] = hit
        self._brands = ahocorasick.Automaton()
        self._models = ahocorasick.Automaton()  # model codes long enough to look for in the text
        for key, models in self._by_brand.items():
            if len(key) >= 3:
                self._brands.add_word(key, key)
            for code in models:
                if len(code) >= MIN_MODEL_IN_TEXT:
                    self._models.add_word(code, code)
        for automaton in (self._brands, self._models):
            if len(automaton):
                automaton.make_automaton()

    def find(self, brand: str | None, model: str | None, text: str = "") -> UnsafeHit | None:
        """The list entry for this brand and model; brand and model may also be read from ``text``
        (cleaned with ``clean_text``)."""
        if not self._by_brand:
            return None
        compact = compact_text(text)
        brands = [compact_brand(brand)] if brand else []
        if len(self._brands):  # the brand written in the title or description counts too
            brands += [key for _, key in self._brands.iter(compact)]
        written: set[str] | None = None  # the model codes written in the text, found once when needed
        for key in dict.fromkeys(brands):
            models = self._by_brand.get(key)
            if not models:
                continue
            if model and model_key(model) in models:
                return models[model_key(model)]
            if written is None:
                written = {code for _, code in self._models.iter(compact)} if len(self._models) else set()
            hit = next((hit for code, hit in models.items() if code in written), None)
            if hit is not None:
                return hit
        return None
