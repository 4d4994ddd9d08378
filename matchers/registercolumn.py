"""The columns of the three register files: names, TISI's Thai headers, and how each cell is read.

A cell reader turns one cell into the database fields it fills, or raises ValueError with a message
an officer can act on. Every cell first passes the same checks: no control characters, at most
2,000 characters, and no formula (a cell never starts with ``= + - @``; a lone ``-`` means empty).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.numbers import canonical_licence, parse_tis
from core.text import clean_text
from matchers.normalise import brand_key, model_key
from matchers.registerfile import Cell

KINDS = ("standards", "licences", "unsafe")
MAX_CELL = 2000
STATUSES = ("active", "suspended", "revoked", "expired")
# TISI's Thai status words. ยกเลิก (cancelled by the licensee) is not valid either: read as revoked.
THAI_STATUSES = {
    "ใช้งาน": "active",
    "ปกติ": "active",
    "ใช้ได้": "active",
    "พักใช้": "suspended",
    "พักใช้ใบอนุญาต": "suspended",
    "เพิกถอน": "revoked",
    "ถูกเพิกถอน": "revoked",
    "เพิกถอนใบอนุญาต": "revoked",
    "ยกเลิก": "revoked",
    "หมดอายุ": "expired",
}
# Header names accepted for each column, besides the column's own name (compared without case,
# spaces, dots, dashes or underscores, so ``เลขที่มอก.`` and ``Licence No`` match too).
ALIASES: dict[str, tuple[str, ...]] = {
    "tis_number": ("tis", "tis_no", "เลขที่ มอก.", "มอก.", "เลข มอก.", "หมายเลข มอก.", "มาตรฐานเลขที่"),
    "name_th": ("ชื่อมาตรฐาน", "ชื่อผลิตภัณฑ์", "ชื่อมาตรฐานภาษาไทย"),
    "name_en": ("ชื่อภาษาอังกฤษ", "ชื่อมาตรฐานภาษาอังกฤษ"),
    "group": ("กลุ่ม", "กลุ่มผลิตภัณฑ์"),
    "keywords_th": ("คำค้น", "คำค้นภาษาไทย"),
    "keywords_en": ("คำค้นภาษาอังกฤษ",),
    "exclude_keywords": ("คำยกเว้น", "คำที่ไม่นับ"),
    "review_keywords": ("คำที่ต้องตรวจ", "คำที่ต้องให้เจ้าหน้าที่ตรวจ"),
    "in_force": ("วันที่มีผลบังคับใช้", "วันบังคับใช้"),
    "licence_no": ("license_no", "licence_number", "license_number", "เลขที่ใบอนุญาต", "ใบอนุญาตเลขที่"),
    "licensee": ("ผู้รับใบอนุญาต", "ผู้ได้รับใบอนุญาต", "ชื่อผู้รับใบอนุญาต"),
    "brands": ("brand", "ยี่ห้อ", "เครื่องหมายการค้า"),
    "brand": ("brands", "ยี่ห้อ", "เครื่องหมายการค้า"),
    "status": ("สถานะ", "สถานะใบอนุญาต"),
    "issued": ("วันที่ออก", "วันที่ออกใบอนุญาต", "issue_date"),
    "expires": ("วันหมดอายุ", "expiry_date"),
    "model": ("รุ่น",),
    "reason": ("เหตุผล",),
    "source": ("แหล่งที่มา",),
    "listed_on": ("วันที่ประกาศ",),
}
# Columns of the shipped reference file that a standards register may carry and that are not stored.
IGNORED = {"standards": ("verified", "source"), "licences": (), "unsafe": ()}

Parser = Callable[[Cell], dict[str, Any]]


@dataclass(frozen=True)
class Column:
    """One column of a register file: how to read its cells and what an empty cell means."""

    name: str
    parse: Parser
    required: bool = False
    empty: Mapping[str, Any] = field(default_factory=dict)


def header_key(text: str) -> str:
    """A header for comparison: ``Licence No.`` and ``licence_no`` give the same key."""
    return re.sub(r"[\s_.\-()]+", "", clean_text(text).casefold())


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # Unicode Cc except tab, CR, LF


def check_cell(value: Cell) -> Cell | None:
    """The cell's value, None if empty; ValueError if it is too long, has control characters or a formula."""
    if isinstance(value, date):
        return value
    if len(value) > MAX_CELL:
        raise ValueError(f"cell is {len(value):,} characters long, over the {MAX_CELL:,} limit")
    control = _CONTROL.search(value)
    if control is not None:
        raise ValueError(f"cell contains the control character U+{ord(control.group()):04X}")
    text = clean_text(value)
    if text in {"", "-"}:
        return None
    _refuse_formula(text)
    return text


def _refuse_formula(text: str) -> None:
    if text[0] in "=+-@":
        raise ValueError(
            f"{_shown(text)} starts with {text[0]!r}: formulas are not allowed in a register file"
        )


def _shown(text: str, limit: int = 40) -> str:
    """A cell's text for a message, cut short."""
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _text(name: str, limit: int = MAX_CELL) -> Parser:
    def parse(value: Cell) -> dict[str, Any]:
        text = value.isoformat() if isinstance(value, date) else value
        if len(text) > limit:
            raise ValueError(f"{len(text)} characters, over the {limit} this column holds")
        return {name: text}

    return parse


def _list(name: str) -> Parser:
    def parse(value: Cell) -> dict[str, Any]:
        items: list[str] = []
        seen: set[str] = set()
        for item in str(value).split("|"):
            item = item.strip()
            if item and item.casefold() not in seen:
                _refuse_formula(item)
                seen.add(item.casefold())
                items.append(item)
        return {name: items}

    return parse


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def read_date(value: Cell) -> date:
    """A date written YYYY-MM-DD or DD/MM/YYYY; a Buddhist-era year (2400 or later) loses 543 years."""
    if isinstance(value, date):
        year, month, day = value.year, value.month, value.day
    elif match := _ISO.match(value):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DMY.match(value):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValueError(f"not a date: {value!r} (write YYYY-MM-DD, e.g. 2024-01-31 or 2567-01-31)")
    if year >= 2400:
        year -= 543
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"not a date: {value!r} (no such day)") from None


def _date(name: str) -> Parser:
    return lambda value: {name: read_date(value)}


def _status(value: Cell) -> dict[str, Any]:
    text = str(value)
    status = THAI_STATUSES.get(text.replace(" ", ""), text.casefold())
    if status not in STATUSES:
        accepted = ", ".join([*STATUSES, *THAI_STATUSES])
        raise ValueError(f"unknown status {_shown(text)} (accepted: {accepted})")
    return {"status": status}


def _tis(require_year: bool, with_base: bool) -> Parser:
    def parse(value: Cell) -> dict[str, Any]:
        text = str(value)
        number = parse_tis(text)
        if require_year and number.year is None:
            raise ValueError(f"TIS number {text!r} has no year; write it as TISI does, e.g. 2879-2560")
        fields = {"tis_number": text, "tis_canonical": number.canonical}
        return {**fields, "tis_base": number.base} if with_base else fields

    return parse


_LICENCE = re.compile(r"^[\u0e01-\u0e2eA-Z0-9().\-/]+$")
_DIGIT = re.compile(r"[0-9]")


def _licence(value: Cell) -> dict[str, Any]:
    text = str(value)
    canonical = canonical_licence(text)
    if len(text) > 100 or not _LICENCE.match(canonical) or not _DIGIT.search(canonical):
        raise ValueError(f"not a licence number: {_shown(text)} (expected e.g. ท1234-56/2879)")
    return {"licence_no": text, "licence_canonical": canonical}


def _unsafe_tis(value: Cell) -> dict[str, Any]:
    return {"tis_number": parse_tis(str(value)).canonical}


def _keyed(name: str, key: Callable[[str], str]) -> Parser:
    def parse(value: Cell) -> dict[str, Any]:
        text = str(value)
        keyed = key(text)
        if not keyed:
            raise ValueError(f"{_shown(text)} has no letters or digits")
        if len(text) > 200:
            raise ValueError(f"{len(text)} characters, over the 200 this column holds")
        return {name: text, f"{name}_key": keyed}

    return parse


COLUMNS: dict[str, list[Column]] = {
    "standards": [
        Column("tis_number", _tis(require_year=True, with_base=True), required=True),
        Column("name_th", _text("name_th"), required=True),
        Column("name_en", _text("name_en"), empty={"name_en": ""}),
        Column("group", _text("group", 50), empty={"group": ""}),
        Column("keywords_th", _list("keywords_th"), empty={"keywords_th": []}),
        Column("keywords_en", _list("keywords_en"), empty={"keywords_en": []}),
        Column("exclude_keywords", _list("exclude_keywords"), empty={"exclude_keywords": []}),
        Column("review_keywords", _list("review_keywords"), empty={"review_keywords": []}),
        Column("in_force", _date("in_force"), empty={"in_force": None}),
    ],
    "licences": [
        Column("licence_no", _licence, required=True),
        Column("tis_number", _tis(require_year=False, with_base=False), required=True),
        Column("licensee", _text("licensee"), required=True),
        Column("brands", _list("brands"), empty={"brands": []}),
        Column("status", _status, required=True),
        Column("issued", _date("issued"), empty={"issued": None}),
        Column("expires", _date("expires"), empty={"expires": None}),
    ],
    "unsafe": [
        Column("brand", _keyed("brand", brand_key), required=True),
        Column("model", _keyed("model", model_key), required=True),
        Column("tis_number", _unsafe_tis, empty={"tis_number": None}),
        Column("reason", _text("reason"), required=True),
        Column("source", _text("source"), empty={"source": None}),
        Column("listed_on", _date("listed_on"), empty={"listed_on": None}),
    ],
}
# Every column's empty value; a file may leave out any optional column.
DEFAULTS: dict[str, dict[str, Any]] = {
    kind: {key: value for column in columns for key, value in column.empty.items()}
    for kind, columns in COLUMNS.items()
}


def header_index(kind: str) -> dict[str, str]:
    """Header key → column name for one kind of register, the names and their Thai aliases."""
    index = {header_key(name): "" for name in IGNORED[kind]}
    for column in COLUMNS[kind]:
        for name in (column.name, *ALIASES.get(column.name, ())):
            index[header_key(name)] = column.name
    return index
