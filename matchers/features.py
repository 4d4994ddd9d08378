"""Classification features: each a small pure function ``feature(text, entry, config) -> FeatureResult``.

The one-line docstring of each feature is what an officer reads in a verdict's reasons; a test fails
any feature without one. Weights come from settings (``[match]``), never from branches here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from config import MatchConfig
from matchers.itemhead import joins, not_the_item
from matchers.marks import Mark


@dataclass(frozen=True)
class Near:
    """A word of the listing close to a register word (a misspelling, or a name written apart)."""

    seen: str
    ratio: float
    start: int = 0
    end: int = 0
    """Where the near word is in the (folded) title."""


@dataclass(frozen=True)
class ListingText:
    """What the classifier read in a listing: register words found as whole words, by place.

    ``title_words``/``body_words`` hold register phrases (keywords and exclusion words, in their
    compact form: folded, without spaces) that appear in the title / in the description or spec
    table on word boundaries, with (start, end) of their first occurrence. ``near_words`` maps a keyword to the title word that nearly spells it.
    """

    title: str
    body: str
    title_words: Mapping[str, tuple[int, int]]
    body_words: Mapping[str, tuple[int, int]]
    near_words: Mapping[str, Near]
    marks: Sequence[Mark]
    first_keyword: str | None = None
    """The register keyword the title names first (the longest, where several start together)."""
    fitment: tuple[tuple[int, int], ...] = ()
    """Where the title's fitment words are (``สำหรับ``, ``for`` …): see ``matchers.itemhead``."""
    product_ends: frozenset[int] = frozenset()
    """Where the title's product words (keywords of any standard) end."""
    lead: str | None = None
    """The item a Thai title names in its first piece, before all its product words (``ผงล้างตะกรัน``
    in ``ผงล้างตะกรัน กระติกน้ำร้อน``): see ``matchers.itemhead.lead_item``."""
    item_nouns: frozenset[str] = frozenset()
    """The register's English accessory nouns (``Classifier.item_nouns``)."""


@dataclass(frozen=True)
class StandardTerms:
    """What the classifier knows of a standard: its keywords and exclusion words (compact form)."""

    tis_number: str
    tis_base: str
    part: str | None
    keywords: frozenset[str]
    exclude: frozenset[str]
    review: frozenset[str]
    shown: Mapping[str, str]
    """compact word → the word as the register writes it, for the reasons."""


@dataclass(frozen=True)
class FeatureResult:
    score: float
    detail: str


Feature = Callable[[ListingText, StandardTerms, MatchConfig], FeatureResult | None]


def _longest(words: frozenset[str], within: Collection[str]) -> str | None:
    """The longest of ``words`` that is in ``within`` (the alphabetically last among equals)."""
    hits = words.intersection(within)
    if len(hits) == 1:
        (word,) = hits
        return word
    return max(hits, key=lambda word: (len(word), word)) if hits else None


def keyword_in_title(text: ListingText, entry: StandardTerms, config: MatchConfig) -> FeatureResult | None:
    """A search word of the standard appears as a whole word in the title."""
    word = _longest(entry.keywords, text.title_words)
    if word is None:
        return None
    return FeatureResult(config.keyword_weight, f"คำค้น / keyword “{entry.shown[word]}” in title")


def keyword_in_description(
    text: ListingText, entry: StandardTerms, config: MatchConfig
) -> FeatureResult | None:
    """A search word of the standard appears in the description or spec table, not in the title."""
    if not entry.keywords.isdisjoint(text.title_words) or not entry.keywords.isdisjoint(text.near_words):
        return None
    word = _longest(entry.keywords, text.body_words)
    if word is None:
        return None
    return FeatureResult(
        config.keyword_weight * config.description_factor,
        f"คำค้นในรายละเอียด / keyword “{entry.shown[word]}” in description or spec",
    )


def keyword_misspelt_in_title(
    text: ListingText, entry: StandardTerms, config: MatchConfig
) -> FeatureResult | None:
    """A title word nearly spells a search word of the standard (a misspelling or a variant)."""
    if not text.near_words or not entry.keywords.isdisjoint(text.title_words):
        return None
    best = max(
        ((word, near) for word, near in text.near_words.items() if word in entry.keywords),
        key=lambda hit: (hit[1].ratio, hit[0]),
        default=None,
    )
    if best is None:
        return None
    word, near = best
    return FeatureResult(
        config.fuzzy_weight * near.ratio / 100,
        f"คำใกล้เคียง / “{near.seen}” ≈ keyword “{entry.shown[word]}” ({near.ratio:.0f}%)",
    )


def named_first(text: ListingText, entry: StandardTerms, config: MatchConfig) -> FeatureResult | None:
    """The title names this product before any other (sellers and Thai grammar put the item first)."""
    if text.first_keyword is None or text.first_keyword not in entry.keywords:
        return None
    return FeatureResult(
        config.first_word_weight, f"ชื่อสินค้าแรกในชื่อรายการ / named first: “{entry.shown[text.first_keyword]}”"
    )


def tis_number_shown(text: ListingText, entry: StandardTerms, config: MatchConfig) -> FeatureResult | None:
    """The listing shows this standard's TIS number (with or without its part or year)."""
    for mark in text.marks:
        if mark.tis.base == entry.tis_base and (mark.tis.part is None or mark.tis.part == entry.part):
            return FeatureResult(
                config.tis_agreement_weight, f"แสดง มอก. / shows มอก. {mark.tis.canonical} ({mark.where})"
            )
    return None


def look_alike_word(text: ListingText, entry: StandardTerms, config: MatchConfig) -> FeatureResult | None:
    """The title names an accessory, part or look-alike (a case, a cover, a part …), not the product."""
    words = [word for word in entry.exclude.intersection(text.title_words) if _names_item(text, entry, word)]
    if words:
        word = max(words, key=lambda w: (len(w), w))
        return FeatureResult(
            -config.exclusion_penalty,
            f"สินค้าคล้าย/อุปกรณ์เสริม / look-alike word “{entry.shown[word]}” in title",
        )
    spans = [span for word, span in text.title_words.items() if word in entry.keywords]
    spans += [(near.start, near.end) for word, near in text.near_words.items() if word in entry.keywords]
    head = not_the_item(
        text.title, spans, text.fitment, entry.keywords, text.product_ends, text.lead, text.item_nouns
    )
    if head is None:
        return None
    return FeatureResult(
        -config.exclusion_penalty, _HEAD_REASONS[head.how].format(shown=head.shown, word=head.word)
    )


_HEAD_REASONS = {
    "fitment": "อุปกรณ์เสริม/อะไหล่ ชื่อสินค้าอยู่หลังคำว่าใช้กับ / accessory or part: “{word}” is named as "
    "what the item fits (“{shown}”)",
    "joined": "อุปกรณ์เสริม/อะไหล่ ชื่อสินค้าขยายคำนามที่อยู่หน้า / accessory or part: “{word}” only "
    "qualifies the item named before it (“{shown}”)",
    "spaced": "อุปกรณ์เสริม/อะไหล่ ชื่อสินค้าตามหลังชื่อสิ่งของที่ขาย / accessory or part: “{word}” follows "
    "the item the title names first (“{shown}”)",
    "qualifies": "อุปกรณ์เสริม/อะไหล่ ชื่อสินค้าขยายคำนามที่ตามมา / accessory or part: “{word}” only "
    "qualifies the item named after it (“{shown}”)",
}
"""What an officer reads when the product word of the title is not its item (see ``matchers.itemhead``)."""


FOR_WORDS = ("สำหรับ", "ใช้กับ", "ใส่", "for")
"""Words after which an exclusion word says who or what the item is for (``ตุ๊กตาสำหรับสัตว์เลี้ยง``)."""


def _names_item(text: ListingText, entry: StandardTerms, word: str) -> bool:
    """Whether an exclusion word names the item sold rather than a part or feature of it.

    A Thai title names its item first (``เคสพาวเวอร์แบงค์`` is a case; ``หม้อหุงข้าว … หม้อในเคลือบ``
    a rice cooker); English names it last (``power bank case``). So a Thai word counts before the
    title's first keyword or right after a "for" word; an English word before the first English
    keyword, right after one, or when the title names the item in English only through this word.
    """
    english = word.isascii()
    keywords = [
        span for k, span in text.title_words.items() if k in entry.keywords and (k.isascii() or not english)
    ]
    if not english:  # a misspelt Thai keyword still names the item where it stands
        keywords += [(n.start, n.end) for k, n in text.near_words.items() if k in entry.keywords]
    start, stop = text.title_words[word]
    keywords = [(s, e) for s, e in keywords if e <= start or s >= stop]  # not the words inside this one
    if not keywords:
        return True
    if start <= min(keywords)[0]:  # before the product, unless in a bundle with it: "เคสใส + พาวเวอร์แบงค์"
        return start in text.product_ends or not joins(text.title[stop : min(keywords)[0]])
    if english:  # English names the item last: "air fryer silicone liner", not "power bank with case"
        last = max(end for _, end in keywords)
        return start >= last and not joins(text.title[last:start])
    # joined to the product word it makes a kind of its own (หม้อหุงข้าวของเล่น is a toy)
    return any(start == end for _, end in keywords) or text.title[:start].rstrip().endswith(FOR_WORDS)


def scope_doubt_word(text: ListingText, entry: StandardTerms, config: MatchConfig) -> FeatureResult | None:
    """A word puts the listing at the edge of the standard's scope (a 12 V lamp, a figure for adults)."""
    if not entry.review:
        return None
    word = _longest(entry.review, text.title_words) or _longest(entry.review, text.body_words)
    if word is None:
        return None
    return FeatureResult(
        -config.review_penalty,
        f"อาจอยู่นอกขอบข่ายมาตรฐาน / may be outside the standard's scope: “{entry.shown[word]}”",
    )


FEATURES: tuple[Feature, ...] = (
    keyword_in_title,
    keyword_in_description,
    keyword_misspelt_in_title,
    named_first,
    tis_number_shown,
    look_alike_word,
    scope_doubt_word,
)
