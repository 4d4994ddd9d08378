"""Classification: score a listing against every standard of the register through the features.

A keyword index (blocking) means only standards whose keywords or TIS number appear in a listing are
scored, so the cost does not grow with register size × listings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from config import MatchConfig
from matchers.features import FEATURES, ListingText, StandardTerms
from matchers.normalise import clean_text, parse_tis


def fold(text: str) -> str:
    """Text in the form keywords are compared in: cleaned and casefolded."""
    return clean_text(text).casefold()


@dataclass(frozen=True)
class Candidate:
    """A standard a listing may fall under, with its score and the features that fired."""

    entry: StandardTerms
    score: float
    fired: list[dict[str, object]] = field(default_factory=list)


class Classifier:
    """Scores listings against the standards of one register version."""

    def __init__(
        self, standards: Iterable[tuple[str, Sequence[str], Sequence[str]]], config: MatchConfig
    ) -> None:
        """``standards``: (TIS number as written, keywords, exclusion words) per standard."""
        self.config = config
        self.entries: list[StandardTerms] = []
        self.by_word: dict[str, list[int]] = defaultdict(list)
        self.by_base: dict[str, list[int]] = defaultdict(list)
        for tis_number, keywords, exclude in standards:
            tis = parse_tis(tis_number)
            words = sorted({fold(word) for word in keywords if word.strip()}, key=len, reverse=True)
            entry = StandardTerms(
                tis_number, tis.base, tis.part, words, [fold(w) for w in exclude if w.strip()]
            )
            index = len(self.entries)
            self.entries.append(entry)
            self.by_base[tis.base].append(index)
            for word in words:
                self.by_word[word].append(index)
        self._words = sorted(self.by_word, key=len, reverse=True)

    def candidates(self, text: ListingText) -> list[Candidate]:
        """Every standard with a keyword or TIS number in the listing, best first."""
        whole = f"{text.title} {text.body}"
        indexes = {i for word in self._words if word in whole for i in self.by_word[word]}
        indexes.update(i for mark in text.marks for i in self.by_base.get(mark.tis.base, []))
        scored = [self._score(self.entries[i], text) for i in indexes]
        return sorted(scored, key=lambda c: (-c.score, c.entry.tis_number))

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
        return Candidate(entry, round(max(0.0, min(1.0, total)), 3), fired)
