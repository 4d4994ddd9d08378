"""Classification: score a listing against the standards of the register through the features.

Reading a listing (:meth:`Classifier.read`) finds the register's words in it as whole words: an
Aho-Corasick automaton over every keyword and exclusion word finds where they occur, and Thai word
segmentation (with the register's words in its dictionary) confirms that each occurrence starts and
ends on a word boundary, so ``ปลั๊ก`` inside ``ปลั๊กพ่วง`` is not a plug. The title is segmented whole;
the description and spec table only around occurrences. A title with no keyword is searched for
near spellings (rapidfuzz) of the longer keywords, cached per word.

Blocking: only standards with a word, a near word or a TIS number in the listing are scored, so the
cost does not grow with register size × listings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick
from rapidfuzz import fuzz, process

from config import MatchConfig
from core.numbers import parse_tis
from core.text import CACHED_LENGTH
from matchers.features import FEATURES, ListingText, Near, StandardTerms
from matchers.itemhead import fitment_words
from matchers.marks import Mark
from matchers.normalise import Segmenter, fold, thai_normalise

MAX_TITLE = 1_000
"""Characters of a title read; marketplaces cap titles far below this, hostile pages do not."""
MAX_BODY = 20_000
WINDOW = 24
"""Characters of context segmented on each side of a word found (up to the nearest space)."""
MAX_NGRAM = 3
"""Adjacent title words joined when looking for a near spelling (misspellings split into pieces,
keywords written apart: ``พาว เวอร์ แบงค์``)."""
NEAR_CACHE = 200_000
SEGMENT_CACHE = 100_000


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


def _script(char: str) -> int:
    """0 for a digit, space or punctuation, 1 for Thai, 2 for another alphabet."""
    if "\u0e01" <= char <= "\u0e4e":
        return 1
    return 2 if char.isalpha() else 0


PAIR_CACHE = 50_000
_PAIRS: dict[str, bool | None] = {}
"""Two characters → whether a word may start or end between them (a word's edges repeat)."""


def _boundary(text: str, i: int) -> bool | None:
    """Whether a word may start or end at ``i``: True, False, or None (between Thai characters,
    which only segmentation can tell)."""
    if i <= 0 or i >= len(text):
        return True
    pair = text[i - 1 : i + 1]
    if pair not in _PAIRS:
        if len(_PAIRS) >= PAIR_CACHE:
            _PAIRS.clear()
        before, after = _script(pair[0]), _script(pair[1])
        _PAIRS[pair] = True if before != after or before == 0 else None if before == 1 else False
    return _PAIRS[pair]


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
        self.entries: list[StandardTerms] = []
        self.by_word: dict[str, list[int]] = defaultdict(list)
        self.by_base: dict[str, list[int]] = defaultdict(list)
        self.automaton = ahocorasick.Automaton()
        self.review_automaton = ahocorasick.Automaton()
        folded_words: set[str] = set()
        review_words: set[str] = set()
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
        self._spellings = sorted(w for w in self.by_word if len(w) >= config.fuzzy_min_length)
        self._longest = max(map(len, self._spellings), default=0)
        self._by_pair: dict[str, list[str]] = defaultdict(list)  # character pair → spellings with it
        for spelling in self._spellings:
            for pair in {spelling[i : i + 2] for i in range(len(spelling) - 1)}:
                self._by_pair[pair].append(spelling)
        self._near: dict[str, tuple[str, float] | None] = {}
        self._windows: dict[str, list[str]] = {}
        self._words: dict[str, list[tuple[str, int]]] = {}

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
        title_words = self._words_in(self.automaton, title)
        named = [word for word in title_words if word in self.by_word]
        # A title that names the item decides what it is: then only scope words are looked for in
        # the description (keywords there would name accessories, compatible products …).
        body_words = self._words_in(self.review_automaton if named else self.automaton, body)
        near = {}
        if not named or (all(word.isascii() for word in named) and not title.isascii()):
            near = self._near_words(title)  # no keyword, or a Thai title with English keywords only
        first = min(
            ((span[0], -len(w), w) for w, span in title_words.items() if w in self.by_word), default=None
        )
        ends = frozenset(title_words[word][1] for word in named)
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
        )

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

    def _words_in(self, automaton: ahocorasick.Automaton, text: str) -> dict[str, tuple[int, int]]:
        """The words of ``automaton`` that occur in ``text`` starting and ending on word boundaries,
        with (start, end) of their first such occurrence. Script changes, spaces and punctuation are
        boundaries; between two Thai characters the segmenter decides, on the text around the word."""
        confirmed: dict[str, tuple[int, int]] = {}
        if not text or not len(automaton):
            return confirmed
        unsure: list[tuple[int, int, str]] = []
        for last, (length, word) in automaton.iter(text):
            start, end = last + 1 - length, last + 1
            left = _boundary(text, start)
            right = left is not False and _boundary(text, end)
            if left is False or right is False:
                continue
            if not (left and right):
                unsure.append((start, end, word))
            elif word not in confirmed or start < confirmed[word][0]:
                confirmed[word] = (start, end)
        if unsure:
            tokens = self._tokens_around(text, unsure)
            ends = set(tokens.values())
            for start, end, word in unsure:
                whole = start in tokens and (end in ends or self._head(text, start, end, tokens[start]))
                if whole and (word not in confirmed or start < confirmed[word][0]):
                    confirmed[word] = (start, end)
        return confirmed

    def _tokens_around(self, text: str, found: list[tuple[int, int, str]]) -> dict[int, int]:
        """Start → end of each word in the text around the occurrences (windows merged, segmented)."""
        spans: list[list[int]] = []
        for start, end, _ in sorted(found):
            # the space-separated piece of text the word is in, at most WINDOW characters either side:
            # segmentation does not cross a space, and pieces repeat across listings (cache hits)
            low = max(start - WINDOW, text.rfind(" ", 0, start) + 1)
            space = text.find(" ", end)
            high = min(end + WINDOW, len(text) if space < 0 else space)
            if spans and low <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], high)
            else:
                spans.append([low, high])
        tokens: dict[int, int] = {}
        for low, high in spans:
            cursor = low
            for token in self._segment(text[low:high]):
                cursor = text.find(token, cursor)
                tokens[cursor] = cursor + len(token)
                cursor += len(token)
        return tokens

    def _segment(self, window: str) -> list[str]:
        """Segmentation of a window of text, cached: sellers repeat their phrasing across listings."""
        tokens = self._windows.get(window)
        if tokens is None:
            tokens = self.segmenter.tokens(window)
            if len(window) <= CACHED_LENGTH:  # a hostile page's long pieces are not kept
                if len(self._windows) >= SEGMENT_CACHE:
                    self._windows.clear()
                self._windows[window] = tokens
        return tokens

    def _head(self, text: str, start: int, end: int, token_end: int) -> bool:
        """Whether a register word that starts a longer dictionary word is that word's head: Thai
        compounds name their kind first (``เตารีดไอน้ำ`` is a เตารีด), when the rest is words too
        (``ท่องเที่ยว`` is not a ท่อ)."""
        if token_end <= end or text[start:token_end] in self.words:
            return False
        rest = self.segmenter.tokens(text[end:token_end])
        return bool(rest) and all(piece in self.segmenter.words for piece in rest)

    def _near_words(self, title: str) -> dict[str, Near]:
        """Keywords nearly spelt by a title word or by up to three adjacent title words."""
        near: dict[str, Near] = {}
        words: list[str] = []
        starts: list[int] = []
        offset = 0
        for piece in title.split(" "):  # segmented piece by piece: pieces repeat, and are cached
            for word, at in self._piece_words(piece):
                words.append(word)
                starts.append(offset + at)
            offset += len(piece) + 1
        shortest, known, nearest = self.config.fuzzy_min_length, self.segmenter.words, self._near
        reach = self.config.fuzzy_min_ratio / 100
        for i in range(len(words)):
            joined = ""
            for j in range(i, min(i + MAX_NGRAM, len(words))):
                joined += words[j]
                if len(joined) * reach / (2 - reach) > self._longest:
                    break  # too long to be near any keyword (see _near_candidates); more words only add
                if len(joined) < shortest or (j == i and joined in known):
                    continue
                hit = nearest[joined] if joined in nearest else self._nearest(joined)
                if hit is not None and (hit[0] not in near or near[hit[0]].ratio < hit[1]):
                    near[hit[0]] = Near(joined, hit[1], starts[i], starts[j] + len(words[j]))
        return near

    def _piece_words(self, piece: str) -> list[tuple[str, int]]:
        """The words of a space-free piece of text that hold a letter, with where each starts in it
        (cached, like the segmentation)."""
        words = self._words.get(piece)
        if words is None:
            words, cursor = [], 0
            for token in self._segment(piece) if piece else ():
                cursor = piece.find(token, cursor)
                if any(char.isalpha() for char in token):
                    words.append((token, cursor))
                cursor += len(token)
            if len(piece) <= CACHED_LENGTH:
                if len(self._words) >= SEGMENT_CACHE:
                    self._words.clear()
                self._words[piece] = words
        return words

    def _near_candidates(self, word: str) -> list[str]:
        """The keywords that can be near ``word`` (blocking): of a length within the ratio's reach,
        sharing at least half of its character pairs. A ratio of r% needs both: two strings of
        lengths m and n have a ratio of at most 2·min(m, n)/(m + n), and each character inserted or
        deleted changes at most two pairs."""
        reach = self.config.fuzzy_min_ratio / 100
        low, high = len(word) * reach / (2 - reach), len(word) * (2 - reach) / reach
        pairs = {word[i : i + 2] for i in range(len(word) - 1)}
        shared: dict[str, int] = defaultdict(int)
        for pair in pairs:
            for spelling in self._by_pair.get(pair, ()):
                shared[spelling] += 1
        need = len(pairs) / 2
        return [s for s, count in shared.items() if count >= need and low <= len(s) <= high]

    def _nearest(self, word: str) -> tuple[str, float] | None:
        """The keyword ``word`` nearly spells, if any (cached)."""
        if word not in self._near:
            best = process.extractOne(
                word, self._near_candidates(word), scorer=fuzz.ratio, score_cutoff=self.config.fuzzy_min_ratio
            )
            if len(self._near) >= NEAR_CACHE:
                self._near.clear()
            self._near[word] = None if best is None else (best[0], round(best[1], 1))
        return self._near[word]
