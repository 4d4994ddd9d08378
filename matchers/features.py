"""Classification features: each a small pure function ``feature(text, entry, config) -> FeatureResult``.

The one-line docstring of each feature is what an officer reads in a verdict's reasons; a test fails
any feature without one. Weights come from settings (``[match]``), never from branches here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from config import MatchConfig
from matchers.marks import Mark


@dataclass(frozen=True)
class ListingText:
    """A listing's text, cleaned and casefolded once, by place."""

    title: str
    body: str
    marks: Sequence[Mark]


@dataclass(frozen=True)
class StandardTerms:
    """What the classifier knows of a standard: its normalised keywords and exclusion words."""

    tis_number: str
    tis_base: str
    part: str | None
    keywords: Sequence[str]
    exclude: Sequence[str]


@dataclass(frozen=True)
class FeatureResult:
    score: float
    detail: str


Feature = Callable[[ListingText, StandardTerms, MatchConfig], FeatureResult | None]


def _longest_hit(text: str, words: Sequence[str]) -> str | None:
    hits = [word for word in words if word and word in text]
    return max(hits, key=len) if hits else None


def keyword_in_title(text: ListingText, entry: StandardTerms, config: MatchConfig) -> FeatureResult | None:
    """A search word of the standard appears in the title."""
    word = _longest_hit(text.title, entry.keywords)
    return FeatureResult(config.keyword_weight, f"คำค้น / keyword “{word}” in title") if word else None


def keyword_in_description(
    text: ListingText, entry: StandardTerms, config: MatchConfig
) -> FeatureResult | None:
    """A search word of the standard appears in the description or spec table, not the title."""
    if _longest_hit(text.title, entry.keywords):
        return None
    word = _longest_hit(text.body, entry.keywords)
    return (
        FeatureResult(config.keyword_weight * 0.75, f"keyword “{word}” in description/spec") if word else None
    )


def tis_number_shown(text: ListingText, entry: StandardTerms, config: MatchConfig) -> FeatureResult | None:
    """The listing shows this standard's TIS number (with or without its part or year)."""
    for mark in text.marks:
        if mark.tis.base == entry.tis_base and (mark.tis.part is None or mark.tis.part == entry.part):
            return FeatureResult(
                config.tis_agreement_weight, f"shows มอก. {mark.tis.canonical} ({mark.where})"
            )
    return None


def look_alike_word(text: ListingText, entry: StandardTerms, config: MatchConfig) -> FeatureResult | None:
    """The title has a word for a look-alike or accessory (case, cover, sticker, spare part, pet toy)."""
    word = _longest_hit(text.title, entry.exclude)
    return FeatureResult(-config.exclusion_penalty, f"look-alike word “{word}” in title") if word else None


FEATURES: tuple[Feature, ...] = (keyword_in_title, keyword_in_description, tis_number_shown, look_alike_word)
