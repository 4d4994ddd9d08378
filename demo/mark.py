"""How sellers write the TIS mark and licence numbers, including the ways they dodge keyword filters."""

from __future__ import annotations

import random
import unicodedata

_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060")


def thai_digits(text: str) -> str:
    """Arabic digits written as Thai digits (๐–๙)."""
    return text.translate(_THAI_DIGITS)


def zero_width(text: str, rng: random.Random) -> str:
    """`text` with one invisible character slipped between two letters (never before a vowel sign)."""
    spots = [i for i in range(1, len(text)) if unicodedata.category(text[i]) != "Mn" and text[i] != " "]
    if not spots:
        return text
    spot = spots[len(spots) // 2] if len(spots) < 3 else rng.choice(spots[1:-1])
    return text[:spot] + rng.choice(_ZERO_WIDTH) + text[spot:]


def licence_number(letter: str, serial: int, year: int, edition: int | None, base: str) -> str:
    """A licence number in the register's form: `ท1234-56/2879`, `น987-61(2)/685`."""
    suffix = f"({edition})" if edition else ""
    return f"{letter}{serial}-{year:02d}{suffix}/{base}"


def mark_text(tis: str, style: str, base_only: bool = False) -> str:
    """The TIS mark as a seller types it: style plain | tight | spaced | english."""
    number = tis.split(" ")[0].split("-")[0] if base_only else tis
    if style == "spaced":
        return f"ม อ ก {number}"
    if style == "english":
        return f"TIS {number}"
    if style == "tight":
        return f"มอก.{number}"
    return f"มอก. {number}"


def licence_text(number: str, spaced: bool) -> str:
    """A licence number as printed; `spaced` puts blanks around its parts (`ท 1234-56 / 2879`)."""
    if not spaced:
        return number
    head, _, base = number.partition("/")
    return f"{head[0]} {head[1:]} / {base}"


def disguise(text: str, tricks: tuple[str, ...], rng: random.Random) -> str:
    """Apply the digit and invisible-character tricks that are in `tricks`."""
    if "thai_digits" in tricks:
        text = thai_digits(text)
    if "zero_width" in tricks:
        text = zero_width(text, rng)
    return text
