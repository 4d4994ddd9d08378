"""Near spellings: title words (or a few adjacent ones) that nearly spell a register keyword.

Sellers misspell product words, on purpose or not, and split them into pieces (``พาว เวอร์ แบงค์``);
rapidfuzz compares each title word and run of up to three words with the keywords that can be near
it (blocking by length and shared character pairs), cached per word.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rapidfuzz import fuzz, process

from config import MatchConfig
from matchers.features import Near
from matchers.wordspot import WordSpotter

MAX_NGRAM = 3
"""Adjacent title words joined when looking for a near spelling (misspellings split into pieces,
keywords written apart: ``พาว เวอร์ แบงค์``)."""
NEAR_CACHE = 200_000


class NearSpeller:
    """Finds the keywords (compact form) a title nearly spells, under the config's fuzzy settings."""

    def __init__(self, keywords: Iterable[str], config: MatchConfig, spotter: WordSpotter) -> None:
        self.config = config
        self.spotter = spotter
        self.spellings = sorted(w for w in keywords if len(w) >= config.fuzzy_min_length)
        self.longest = max(map(len, self.spellings), default=0)
        self.by_pair: dict[str, list[str]] = defaultdict(list)  # character pair → spellings with it
        for spelling in self.spellings:
            for pair in {spelling[i : i + 2] for i in range(len(spelling) - 1)}:
                self.by_pair[pair].append(spelling)
        self.cache: dict[str, tuple[str, float] | None] = {}

    def near_words(self, title: str) -> dict[str, Near]:
        """Keywords nearly spelt by a title word or by up to three adjacent title words."""
        near: dict[str, Near] = {}
        words: list[str] = []
        starts: list[int] = []
        offset = 0
        for piece in title.split(" "):  # segmented piece by piece: pieces repeat, and are cached
            for word, at in self.spotter.piece_words(piece):
                words.append(word)
                starts.append(offset + at)
            offset += len(piece) + 1
        shortest, known, nearest = self.config.fuzzy_min_length, self.spotter.segmenter.words, self.cache
        reach = self.config.fuzzy_min_ratio / 100
        for i in range(len(words)):
            joined = ""
            for j in range(i, min(i + MAX_NGRAM, len(words))):
                joined += words[j]
                if len(joined) * reach / (2 - reach) > self.longest:
                    break  # too long to be near any keyword (see candidates); more words only add
                if len(joined) < shortest or (j == i and joined in known):
                    continue
                hit = nearest[joined] if joined in nearest else self._nearest(joined)
                if hit is not None and (hit[0] not in near or near[hit[0]].ratio < hit[1]):
                    near[hit[0]] = Near(joined, hit[1], starts[i], starts[j] + len(words[j]))
        return near

    def candidates(self, word: str) -> list[str]:
        """The keywords that can be near ``word`` (blocking): of a length within the ratio's reach,
        sharing at least half of its character pairs. A ratio of r% needs both: two strings of
        lengths m and n have a ratio of at most 2·min(m, n)/(m + n), and each character inserted or
        deleted changes at most two pairs."""
        reach = self.config.fuzzy_min_ratio / 100
        low, high = len(word) * reach / (2 - reach), len(word) * (2 - reach) / reach
        pairs = {word[i : i + 2] for i in range(len(word) - 1)}
        shared: dict[str, int] = defaultdict(int)
        for pair in pairs:
            for spelling in self.by_pair.get(pair, ()):
                shared[spelling] += 1
        need = len(pairs) / 2
        return [s for s, count in shared.items() if count >= need and low <= len(s) <= high]

    def _nearest(self, word: str) -> tuple[str, float] | None:
        """The keyword ``word`` nearly spells, if any (cached)."""
        if word not in self.cache:
            best = process.extractOne(
                word, self.candidates(word), scorer=fuzz.ratio, score_cutoff=self.config.fuzzy_min_ratio
            )
            if len(self.cache) >= NEAR_CACHE:
                self.cache.clear()
            self.cache[word] = None if best is None else (best[0], round(best[1], 1))
        return self.cache[word]
