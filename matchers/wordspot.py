"""Finding a register's words in a text as whole words, and the words of a piece of text.

An Aho-Corasick automaton finds where the words occur; Thai word segmentation (with the register's
words in its dictionary) confirms that each occurrence starts and ends on a word boundary, so
``ปลั๊ก`` inside ``ปลั๊กพ่วง`` is not a plug. Only the text around occurrences is segmented, and the
segmentation of each piece is cached: sellers repeat their phrasing across listings.
"""

from __future__ import annotations

import ahocorasick

from core.text import CACHED_LENGTH
from matchers.normalise import Segmenter

WINDOW = 24
"""Characters of context segmented on each side of a word found (up to the nearest space)."""
SEGMENT_CACHE = 100_000


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


class WordSpotter:
    """Whole-word search and cached segmentation over one register's dictionary; ``words``: the
    register's words (folded), which are never the head of a longer word."""

    def __init__(self, segmenter: Segmenter, words: frozenset[str]) -> None:
        self.segmenter = segmenter
        self.words = words
        self.windows: dict[str, list[str]] = {}
        self.pieces: dict[str, list[tuple[str, int]]] = {}

    def words_in(self, automaton: ahocorasick.Automaton, text: str) -> dict[str, tuple[int, int]]:
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
            for token in self.segment(text[low:high]):
                cursor = text.find(token, cursor)
                tokens[cursor] = cursor + len(token)
                cursor += len(token)
        return tokens

    def segment(self, window: str) -> list[str]:
        """Segmentation of a window of text, cached: sellers repeat their phrasing across listings."""
        tokens = self.windows.get(window)
        if tokens is None:
            tokens = self.segmenter.tokens(window)
            if len(window) <= CACHED_LENGTH:  # a hostile page's long pieces are not kept
                if len(self.windows) >= SEGMENT_CACHE:
                    self.windows.clear()
                self.windows[window] = tokens
        return tokens

    def _head(self, text: str, start: int, end: int, token_end: int) -> bool:
        """Whether a register word that starts a longer dictionary word is that word's head: Thai
        compounds name their kind first (``เตารีดไอน้ำ`` is a เตารีด), when the rest is words too
        (``ท่องเที่ยว`` is not a ท่อ)."""
        if token_end <= end or text[start:token_end] in self.words:
            return False
        rest = self.segmenter.tokens(text[end:token_end])
        return bool(rest) and all(piece in self.segmenter.words for piece in rest)

    def piece_words(self, piece: str) -> list[tuple[str, int]]:
        """The words of a space-free piece of text that hold a letter, with where each starts in it
        (cached, like the segmentation)."""
        words = self.pieces.get(piece)
        if words is None:
            words, cursor = [], 0
            for token in self.segment(piece) if piece else ():
                cursor = piece.find(token, cursor)
                if any(char.isalpha() for char in token):
                    words.append((token, cursor))
                cursor += len(token)
            if len(piece) <= CACHED_LENGTH:
                if len(self.pieces) >= SEGMENT_CACHE:
                    self.pieces.clear()
                self.pieces[piece] = words
        return words
