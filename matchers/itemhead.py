"""Which item a title names: the head of its noun phrase, not the product the item fits.

Sellers name accessories, parts and care products after the product they fit, so a product word in
the title does not make the listing that product. The grammar tells them apart, whatever the
accessory is called:

- **fitment**: what follows a fitment word (``สำหรับ``, ``ใช้กับ``, ``ตรงรุ่น``, ``for``, ``fits``,
  ``compatible with`` …) is what the item fits. ``สายชาร์จสำหรับพาวเวอร์แบงค์`` is a cable, ``visor
  for Bell helmet`` a visor; ``พาวเวอร์แบงค์ สำหรับ iPhone`` is still a power bank, since the
  product is named before the fitment word.
- **Thai head first**: a Thai compound names its kind first, so a product word joined after another
  noun only qualifies it (``ฝาครอบปลั๊ก``, ``ผ้าคลุมหม้อหุงข้าว``, ``ที่วางเตารีด``) — unless that
  word is a classifier or a set word (``หัวปลั๊ก``, ``ชุดของเล่น``), which names no other item.
- **Thai item first, then what it fits**: a title whose first piece names an item and no product and
  is followed, after a space, by the product words names its item in that piece
  (``ผงล้างตะกรัน กระติกน้ำร้อน``, ``ผ้าคลุมคอยล์ร้อน แอร์``). The piece names an item when it opens
  with a Thai class noun (``CLASS_NOUNS``) or holds one of the register's item nouns (its exclusion
  words) — a brand written in Thai (``ชาร์ป หม้อหุงข้าว``) or a seller's word (``มินิ``) does not —
  and is not a seller's tag (bracketed, marked, a stock word: ``[ส่งฟรี]``, ``พร้อมส่ง``) or a
  known brand (checked by the classifier).
- **English head last**: in an English phrase the item is its last noun, so a product word followed
  by a noun phrase before a fitment word (``battery door cover for …``), or directly by
  ``compatible``/``replacement`` (``power bank compatible pouch``), only qualifies it. A single word
  there must be a noun naming an item (``helmet lock for …``), not an adjective (``power bank slim
  for iPhone``): the item nouns are the register's own accessory words (``Classifier.item_nouns``).

Words that join items (``พร้อม``, ``แถม``, ``+``, ``with``) make a bundle that holds the product
(``เคสใส + พาวเวอร์แบงค์``), never an accessory. The words here are grammar (prepositions,
classifiers), a closed class: no accessory is listed by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FITMENT = re.compile(
    r"สำหรับ|ใช้ได้กับ|ใช้กับ|ใส่ได้กับ|ใส่กับ|เข้ากันได้กับ|ตรงรุ่น|ใช้แทน"
    r"|(?<![a-z])(?:for|fits?|to fit|suits|compatible with|compatible|replaces)(?![a-z])"
)
"""Fitment words: what follows one is what the item fits (found in the folded, lower-case title)."""
FITMENT_REACH = 3
"""Words at most between a fitment word and the product it introduces (a brand and a model, say):
further on, the fitment word introduced something else (``สำหรับ 3 ปีขึ้นไป … building blocks``)."""
QUALIFIES = re.compile(r"[\s\-]*(?:compatible|replacement)(?![a-z])")
"""English words that, right after a product word, make it what the item fits (``power bank compatible``)."""
JOINS = frozenset({"with", "and", "w/", "incl", "including", "พร้อม", "แถม", "และ", "รวม"})
"""Words that join items into a bundle: a product named after one is sold too."""
_SIGNS = ("+", "&")
NOT_ITEMS = frozenset(
    {"ชุด", "เซ็ต", "เซต", "แพ็ค", "แพ็ก", "แพค", "ตัว", "อัน", "ชิ้น", "เครื่อง", "ลูก", "ใบ", "คู่",
     "ใหม่", "แท้", "ของแท้", "ถูก", "ส่งฟรี", "พร้อมส่ง", "โปร", "ขาย"}
)  # fmt: skip
"""Thai classifiers, set words and sellers' stock words: joined before a product word they name no other item."""
_PIECES = re.compile(r"[\s,/()\[\]\-]+")
STOCK = re.compile(
    r"ลด|ขาย|ราคา|ถูก|ใหม่|มาใหม่|ส่ง|ฟรี|โปร|แท้|ของแท้|ของขวัญ|แนะนำ|ยอดนิยม|ประกัน|รับประกัน|ด่วน|ฮิต|สินค้า"
)
CLASS_NOUNS = ("ที่", "ผง", "น้ำยา", "ฐาน", "ถุง", "ถาด", "ผ้า", "ฝา", "ซอง", "สาย", "แผ่น", "กล่อง", "ขา", "ด้าม")
"""Thai class nouns that open a compound naming an object (``ที่วาง``, ``ผงล้าง``, ``ถาดรอง``): a
closed class of the grammar. A first piece names an item when it opens with one, or holds an item
noun of the register (an exclusion word): a brand written in Thai (``ชาร์ป``, ``ฟิลิปส์``) or a
seller's adjective (``มินิ``, ``คุณภาพดี``) does neither and names no other item."""
"""How sellers' stock phrases that open titles begin (``ลดราคา``, ``ขายดี``, ``สินค้าใหม่``): such a
first piece is a tag, not the item (matched at its start only: ``ชิลด์`` holds ``ลด``)."""


@dataclass(frozen=True)
class Head:
    """Why the product word of a title is not its item: ``how`` (fitment, joined, qualifies),
    the words that show it, and the product word as the title writes it."""

    how: str
    shown: str
    word: str


def fitment_words(title: str) -> tuple[tuple[int, int], ...]:
    """Where the fitment words of a (folded) title are: read once a listing, used for every standard."""
    return tuple(match.span() for match in FITMENT.finditer(title))


def _thai(char: str) -> bool:
    return "\u0e01" <= char <= "\u0e4e"


def joins(between: str) -> bool:
    """Whether a piece of title joins items into a bundle: a join word, or a sign; Thai join words
    count inside a token too (Thai is written without spaces)."""
    return any(
        token in JOINS
        or any(sign in token for sign in _SIGNS)
        or (not token.isascii() and any(word in token for word in JOINS if not word.isascii()))
        for token in between.split()
    )


def lead_item(title: str, first: int) -> str | None:
    """The first piece of a (folded) title when it names the item and the product word at ``first``,
    right after it and a space, only what the item fits: one piece of Thai letters (no digits,
    brackets or marks: those are sellers' tags), not a classifier, stock phrase, join or fitment word."""
    before = title[:first]
    piece = before.strip()
    # a title that opens with something else (a brand, blanked by the classifier) names it first
    if not before.endswith(" ") or not before.startswith(piece) or len(piece) < 2 or len(piece.split()) > 1:
        return None
    if not all(_thai(char) for char in piece) or piece in NOT_ITEMS:
        return None
    if STOCK.match(piece) or FITMENT.search(piece) or joins(piece):
        return None
    return piece


def not_the_item(
    title: str,
    spans: Sequence[tuple[int, int]],
    fitment: Iterable[tuple[int, int]],
    keywords: frozenset[str],
    product_ends: frozenset[int] = frozenset(),
    lead: str | None = None,
    item_nouns: frozenset[str] = frozenset(),
) -> Head | None:
    """Why the product words at ``spans`` of the title only say what its item fits, or None when the
    title names the product itself. ``keywords``: the standard's product words (compact), so
    that a longer product word is not read as a head (``หัวปลั๊กตัวผู้``); ``product_ends``: where
    the title's product words (of any standard) end — a product word joined before another makes a
    kind of its own (``หม้อหุงข้าวของเล่น`` is a toy), not an accessory; ``lead``: the item the title
    names before all its product words (``lead_item``); ``item_nouns``: English nouns that name an
    item (an English head after the product word must be one)."""
    if not spans:
        return None
    start, end = min(spans)
    word = title[start:end]
    for low, high in fitment:
        if high > start:  # the product is named before any fitment word: it is the item
            break
        # the product must be what the fitment word introduces: "for Bell Qualifier helmet"
        head = title[:low]  # and in its language: "ตุ๊กกะตา … สำหรับ kids toy" is a tag in English
        if (
            any(char.isalpha() for char in head)
            and len(title[high:start].split()) <= FITMENT_REACH
            and title[low:high].isascii() == word.isascii()
        ):
            return Head("fitment", f"{head.strip()[-30:]} {title[low:high]} {word}", word)
    if lead is not None:
        return Head("spaced", f"{lead} {word}", word)
    if start and _thai(title[start - 1]):
        low = start
        while low and _thai(title[low - 1]):
            low -= 1
        head = title[low:start]
        if (
            len(head) > 1
            and head not in NOT_ITEMS
            and not joins(head[-5:])
            and start not in product_ends
            and not any((head + word).startswith(k) for k in keywords if len(k) > len(head))
        ):
            return Head("joined", head + word, word)
    if word.isascii():
        after = QUALIFIES.match(title, end)
        if after:
            return Head("qualifies", title[start : after.end()].strip(), word)
        for low, _ in fitment:
            if low >= end:
                between = title[end:low]  # the next word is a noun, not a count: "crayons 16 colors for …"
                first = _PIECES.split(between.strip(), maxsplit=1)[0]
                words = _PIECES.split(between.strip())  # one word there must name an item: not "slim"
                if (
                    len(first) > 1
                    and first.isalpha()
                    and (len(words) > 1 or first in item_nouns)
                    and between.isascii()
                    and not joins(between)
                ):
                    return Head("qualifies", f"{word}{between.rstrip()}", word)
                break
    return None
