"""The known-unsafe list: brand and model of a listing against recalls, seizures and failed tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from matchers.normalise import brand_key, model_key


@dataclass(frozen=True)
class UnsafeHit:
    brand: str
    model: str
    reason: str


class UnsafeList:
    """Lookup by brand key, then strict model-code comparison (``PB-10 000`` equals ``pb10000``)."""

    def __init__(self, entries: Iterable[tuple[str, str, str]]) -> None:
        """``entries``: (brand, model, reason) per list entry."""
        self._by_brand: dict[str, dict[str, UnsafeHit]] = defaultdict(dict)
        for brand, model, reason in entries:
            self._by_brand[brand_key(brand)][model_key(model)] = UnsafeHit(brand, model, reason)

    def find(self, brand: str | None, model: str | None, text: str = "") -> UnsafeHit | None:
        """The list entry for this brand and model; the model may also be read from ``text``."""
        models = self._by_brand.get(brand_key(brand or "")) if brand else None
        if not models:
            return None
        if model and model_key(model) in models:
            return models[model_key(model)]
        compact = model_key(text)
        return next((hit for key, hit in models.items() if len(key) >= 4 and key in compact), None)
