"""Sellers as they are shown and grouped, across sites and days.

A marketplace names a seller as the seller typed it: with or without invisible characters (zero-width
spaces, direction marks, soft hyphens — the same set text is cleaned of before matching,
:data:`core.text.INVISIBLE`), extra spaces, another case. Names that differ only so are one seller.
"""

from __future__ import annotations

from functools import lru_cache

from core.text import visible


@lru_cache(maxsize=65_536)
def seller_name(name: str) -> str:
    """A seller name as shown: NFC, no invisible characters, spaces collapsed."""
    return visible(name)


@lru_cache(maxsize=65_536)
def seller_key(name: str) -> str:
    """The key sellers are grouped by: :func:`seller_name`, casefolded ("" for a name of nothing)."""
    return seller_name(name).casefold()
