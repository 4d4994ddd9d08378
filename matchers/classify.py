"""Classification: score a listing against the standards of the register through the features.

Reading a listing (:meth:`Classifier.read`) finds the register's words in it as whole words
(``matchers.wordspot``: an Aho-Corasick automaton over every keyword and exclusion word, confirmed by
Thai word segmentation). A title with no keyword is searched for near spellings of the longer
keywords (``matchers.nearwords``).

Blocking: only standards with a word, a near word or a TIS number in the listing are scored, so the
cost does not grow with register size × listings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from config import MatchConfig
from core.numbers import parse_tis
from matchers.features import FEATURES, ListingText, StandardTerms
from matchers.itemhead import CLASS_NOUNS, fitment_words, lead_item
from matchers.marks import Mark
from matchers.nearwords import NearSpeller
from matchers.normalise import Segmenter, fold, thai_normalise
from matchers.wordspot import WordSpotter

MAX_TITLE = 1_000
"""Characters of a title read; marketplaces cap titles far below this, hostile pages do not."""
MAX_BODY = 20_000


def compact(word: str) -> str:
    """A register word in the form it is looked up in: folded, without spaces."""
    return fold(word).replace(" ", "")


@dataclass(frozen=True)
class Candidate:
    """A standard a listing may fall under, with its score and the features that fired."""

    entry: StandardTerms
    score: float
    fired: list[dict[str, object]] = field(default_factory=list)
    total: float = 0.0
    """The sum of the features before it is bounded to 0–1: what candidates are ranked by."""


def _specificity(entry: StandardTerms, text: ListingText) -> int:
    """Length of the longest keyword of ``entry`` in the title: between equal scores, the standard
    named more precisely (``หลอดไฟ led`` over ``หลอดไฟ``) wins."""
    return max((len(word) for word in text.title_words if word in entry.keywords), default=0)


class Classifier:
    """Scores listings against the standards of one register version."""

    def __init__(
        self,
        standards: Iterable[Sequence[Any]],
        config: MatchConfig,
        brands: Iterable[str] = (),
    ) -> None:
        """``standards``: (TIS number as written, keywords, exclusion words[, review words]) per
        standard; ``brands``: known brand names, added to the segmentation dictionary."""
        self.config = config
        brands = [*brands]
        self.brands = frozenset(compact(brand) for brand in brands) - {""}
        self.entries: list[StandardTerms] = []
        self.by_word: dict[str, list[int]] = defaultdict(list)
        self.by_base: dict[str, list[int]] = defaultdict(list)
        self.automaton = ahocorasick.Automaton()
        self.review_automaton = ahocorasick.Automaton()
        folded_words: set[str] = set()
        review_words: set[str] = set()
        heads: set[str] = set()
        products: set[str] = set()
        for tis_number, keywords, exclude, *more in standards:
            review: Sequence[str] = more[0] if more else ()
            tis = parse_tis(tis_number)
            words = [*review, *exclude, *keywords]
            shown = {compact(word): word.strip() for word in words if compact(word)}
            entry = StandardTerms(
                tis_number,
                tis.base,
                tis.part,
                frozenset(compact(w) for w in keywords) - {""},
                frozenset(compact(w) for w in exclude) - {""},
                frozenset(compact(w) for w in review) - {""},
                shown,
            )
            index = len(self.entries)
            self.entries.append(entry)
            self.by_base[tis.base].append(index)
            for word in entry.keywords:
                self.by_word[word].append(index)
            folded_words.update(fold(word) for word in words)
            review_words.update(fold(word) for word in review)
            heads.update(fold(word).split()[-1] for word in exclude if word.strip())
            products.update(fold(word).split()[-1] for word in keywords if word.strip())
        folded_words.discard("")
        review_words.discard("")
        for automaton, vocabulary in ((self.automaton, folded_words), (self.review_automaton, review_words)):
            for word in vocabulary:  # both "power bank" and "powerbank" are found as "powerbank"
                for form in {word, word.replace(" ", "")}:
                    automaton.add_word(form, (len(form), compact(word)))
            if vocabulary:
                automaton.make_automaton()
        self.segmenter = Segmenter([*folded_words, *brands])
        self.words = frozenset(folded_words)
        self.spotter = WordSpotter(self.segmenter, self.words)
        self.speller = NearSpeller(self.by_word, config, self.spotter)
        self.thai_items = ahocorasick.Automaton()
        """The register's Thai item nouns (exclusion words): a first piece holding one names an item."""
        for noun in {compact(w) for e in self.entries for w in e.exclude if not w.isascii()} - {""}:
            self.thai_items.add_word(noun, noun)
        if len(self.thai_items):
            self.thai_items.make_automaton()
        self.item_nouns = frozenset(w for w in heads - products if w.isascii() and w.isalpha())
        """English nouns that name an accessory in the register (the last word of an exclusion word,
        never of a product word): a single word an English title names after its product word may
        be its item (``helmet lock for …``), an adjective may not (``power bank slim for …``)."""

    def read(
        self, title: str, body: str, marks: Sequence[Mark], cleaned: bool = False, brand: str | None = None
    ) -> ListingText:
        """Find the register's words in a listing's title and body (description and spec table);
        ``cleaned``: both are already ``clean_text``-ed. The listing's ``brand`` is not read as
        product words (``Nova Plug รางปลั๊กไฟ`` is not a plug)."""
        if cleaned:
            title, body = (
                thai_normalise(title[:MAX_TITLE]).casefold(),
                thai_normalise(body[:MAX_BODY]).casefold(),
            )
        else:
            title, body = fold(title[:MAX_TITLE]), fold(body[:MAX_BODY])
        if brand and len(folded := fold(brand)) >= 3 and folded in title:
            title = title.replace(folded, " " * len(folded))  # same length: offsets stay right
        title_words = self.spotter.words_in(self.automaton, title)
        named = [word for word in title_words if word in self.by_word]
        # A title that names the item decides what it is: then only scope words are looked for in
        # the description (keywords there would name accessories, compatible products …).
        body_words = self.spotter.words_in(self.review_automaton if named else self.automaton, body)
        near = {}
        if not named or (all(word.isascii() for word in named) and not title.isascii()):
            near = self.speller.near_words(title)  # no keyword, or a Thai title with English keywords only
        first = min(
            ((span[0], -len(w), w) for w, span in title_words.items() if w in self.by_word), default=None
        )
        ends = frozenset(title_words[word][1] for word in named)
        lead = self._lead(
            title, min([*(n.start for n in near.values()), *([first[0]] if first else [])], default=None)
        )
        return ListingText(
            title,
            body,
            title_words,
            body_words,
            near,
            marks,
            first[2] if first else None,
            fitment_words(title),
            ends,
            lead,
            self.item_nouns,
        )

    def _lead(self, title: str, first: int | None) -> str | None:
        """The item a Thai title names in its first piece, before the product words it fits
        (``matchers.itemhead.lead_item``), unless that piece is a known brand or the piece and the
        product word are one product word written apart (``ยางนอก มอเตอร์ไซค์``)."""
        piece = None if first is None else lead_item(title, first)
        if piece is None or first is None or compact(piece) in self.brands:
            return None
        if not (piece.startswith(CLASS_NOUNS) or self._names_item(compact(piece))):
            return None  # a brand written in Thai, a seller's word: not an item
        joined = piece + title[first:].split(" ", 1)[0]
        return None if any(word.startswith(joined) for word in self.by_word) else piece

    def _names_item(self, piece: str) -> bool:
        """Whether ``piece`` (compact) holds one of the register's Thai item nouns."""
        return bool(len(self.thai_items)) and next(self.thai_items.iter(piece), None) is not None

    def entry(self, tis_number: str) -> StandardTerms | None:
        """The standard of this TIS number (as written, or canonical), if the register has it."""
        try:
            wanted = parse_tis(tis_number)
        except ValueError:
            return None
        for i in self.by_base.get(wanted.base, ()):
            if self.entries[i].part == wanted.part or wanted.part is None:
                return self.entries[i]
        return None

    def candidates(self, text: ListingText) -> list[Candidate]:
        """Every standard with a keyword, a near keyword or a TIS number in the listing, best first."""
        indexes = {
            i
            for words in (text.title_words, text.body_words, text.near_words)
            for word in words
            for i in self.by_word.get(word, ())
        }
        indexes.update(i for mark in text.marks for i in self.by_base.get(mark.tis.base, ()))
        scored = [self._score(self.entries[i], text) for i in indexes]
        if len(scored) < 2:
            return scored
        return sorted(scored, key=lambda c: (-c.total, -_specificity(c.entry, text), c.entry.tis_number))

    def _score(self, entry: StandardTerms, text: ListingText) -> Candidate:
        fired: list[dict[str, object]] = []
        total = 0.0
        for feature in FEATURES:
            result = feature(text, entry, self.config)
            if result is not None:
                total += result.score
                fired.append(
                    {"feature": feature.__name__, "score": round(result.score, 3), "detail": result.detail}
                )
        return Candidate(entry, round(max(0.0, min(1.0, total)), 3), fired, round(total, 3))
