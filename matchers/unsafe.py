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
        # brand keys and model codes long enough to look for in a listing's text, found in one pass:
        # word → (is a brand key, is a model code)
        roles: dict[str, tuple[bool, bool]] = {}
        for key, models in self._by_brand.items():
            if len(key) >= 3:
                roles[key] = (True, roles.get(key, (False, False))[1])
            for code in models:
                if len(code) >= MIN_MODEL_IN_TEXT:
                    roles[code] = (roles.get(code, (False, False))[0], True)
        self._written = ahocorasick.Automaton()
        for word, (is_brand, is_model) in roles.items():
            self._written.add_word(word, (word, is_brand, is_model))
        if roles:
            self._written.make_automaton()

    def find(self, brand: str | None, model: str | None, text: str = "") -> UnsafeHit | None:
        """The list entry for this brand and model; brand and model may also be read from ``text``
        (cleaned with ``clean_text``)."""
        if not self._by_brand:
            return None
        brands = [compact_brand(brand)] if brand else []
        written: set[str] = set()  # the model codes written in the text
        if len(self._written):  # the brand written in the title or description counts too
            for _, (word, is_brand, is_model) in self._written.iter(compact_text(text)):
                if is_brand:
                    brands.append(word)
                if is_model:
                    written.add(word)
        shown = model_key(model) if model else None
        for key in dict.fromkeys(brands):
            models = self._by_brand.get(key)
            if not models:
                continue
            if shown in models:
                return models[shown]
            hit = next((hit for code, hit in models.items() if code in written), None)
            if hit is not None:
                return hit
        return None
