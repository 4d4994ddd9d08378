"""Writes a listing's title, description and spec table the way sellers do, for a given ground-truth case."""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from demo.catalogue import CONTROLLED, Brand, Kind, Seller
from demo.listing import DemoListing, Label
from demo.mark import disguise, licence_number, licence_text, mark_text, zero_width

_PREFIXES = ("", "", "", "[ส่งฟรี] ", "[ของแท้] ", "พร้อมส่ง ", "🔥 ", "ลดพิเศษ! ")
_SHIPPING = ("รับประกัน 1 ปี", "ส่งจากกรุงเทพฯ ภายใน 24 ชม.", "สินค้าพร้อมส่ง เก็บเงินปลายทางได้", "ส่งไว ของแท้ 100%")
_MARKUP = (" <script>alert('tisi')</script>", " & ของแถม", " <b>ลดราคา</b> & ส่งฟรี")
_CLAIMS = ("มี มอก.", "ได้มาตรฐาน มอก.", "มอก. แท้", "ผ่าน มอก.")
_COMPONENTS = ("11 เล่ม 5-2553", "166-2549")
_MARK_SENTENCES = ("ผ่านมาตรฐาน {mark}", "สินค้าได้รับ {mark}", "ได้มาตรฐาน {mark}")
_LICENCE_SENTENCES = ("ได้รับใบอนุญาต มอก. เลขที่ {licence}", "ใบอนุญาตเลขที่ {licence}", "เลขที่ใบอนุญาต: {licence}")
_ENGLISH_SENTENCE = "Certified {mark}, TISI licence no. {licence}"
_SEE_THE_LABEL = "รายละเอียดฉลากสินค้าดูได้จากรูป"
_TISI_QR = "https://appdb.tisi.go.th/Q/i.php?d={record:010d}"
T = TypeVar("T")
_WITH_LICENCE = ("licensed", "invalid_licence", "unsafe")


class Case(NamedTuple):
    """A ground-truth case: verdict, licence status, the tricks to use, and optionally the product kind."""

    verdict: str
    status: str | None = None
    tricks: tuple[str, ...] = ()
    kind: str | None = None


@dataclass(slots=True)
class Item:
    """What stays the same about a listing from day to day: its id, product, seller and price."""

    shop: str
    item_id: str
    kind: Kind
    brand: Brand
    model: str
    variant: str
    feature: str
    seller: Seller
    seller_id: str
    price: str
    added_on_day: int = 1


class ListingWriter:
    """Turns an item and a case into a DemoListing; numbers licences from one counter so none repeat."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serial = 1000

    def pick(self, options: Sequence[T]) -> T:
        """One of `options` (faster than random.choice, which matters at 100,000 listings a shop)."""
        return options[int(self.rng.random() * len(options))]

    def _licence(self, item: Item, case: Case) -> tuple[str, str]:
        """The licence number shown (register form) and the TIS number the mark shows."""
        kind, rng = item.kind, self.rng
        assert kind.tis is not None
        base, shown = kind.base, kind.tis
        if case.status == "wrong_standard":
            if "component_tis" in case.tricks:
                shown = self.pick(_COMPONENTS)
                base = shown.split(" ")[0].split("-")[0]
            else:
                base = self.pick([k.base for k in CONTROLLED if k.base != kind.base])
        if "part_less_tis" in case.tricks and kind.part_less and shown == kind.tis:
            shown = kind.part_less
        self.serial += 1
        edition = 2 if self.serial % 17 == 0 else None
        year = 45 + int(rng.random() * (16 if case.status == "expired" else 23))
        return licence_number(item.brand.origin, self.serial, year, edition, base), shown

    def _features(self, kind: Kind) -> str:
        first = int(self.rng.random() * len(kind.features))
        second = (first + 1 + int(self.rng.random() * (len(kind.features) - 1))) % len(kind.features)
        return kind.features[first] if first == second else f"{kind.features[first]} {kind.features[second]}"

    def _statement(self, item: Item, case: Case, spec: dict[str, str]) -> tuple[str | None, str, str]:
        """For a listing showing a licence: the licence number, the title's tail, the description's line."""
        rng, tricks = self.rng, case.tricks
        licence_no, shown = self._licence(item, case)
        style = "english" if "tis_english" in tricks else "spaced" if "spaced_mark" in tricks else "plain"
        if style == "plain" and rng.random() < 0.5:
            style = "tight"
        mark = mark_text(shown, style, base_only=style == "english")
        licence = licence_text(licence_no, "spaced_licence" in tricks)
        if tricks:
            mark, licence = disguise(mark, tricks, rng), disguise(licence, tricks, rng)
        if style == "english":
            statement = _ENGLISH_SENTENCE.format(mark=mark, licence=licence)
        else:
            statement = (
                f"{self.pick(_MARK_SENTENCES).format(mark=mark)} "
                f"{self.pick(_LICENCE_SENTENCES).format(licence=licence)}"
            )
        if "mark_in_description_only" in tricks:
            return licence_no, "", statement
        if "mark_in_spec_only" not in tricks and rng.random() < 0.85:
            spec["มาตรฐาน"], spec["เลขที่ใบอนุญาต"] = mark, licence
            return licence_no, f" {mark}", statement
        spec["มาตรฐาน"], spec["เลขที่ใบอนุญาต"] = mark, licence
        return licence_no, ("" if "mark_in_spec_only" in tricks else f" {mark}"), ""

    def _label(self, item: Item, case: Case) -> Label:
        """The product-label picture of a listing whose mark and licence are shown only in a photo."""
        assert item.kind.tis is not None
        licence_no, verdict, status = None, "needs_review", None
        if "licence_in_image_only" in case.tricks:
            licence_no, _ = self._licence(item, Case("licensed", "valid"))
            verdict, status = "licensed", "valid"
        record = zlib.crc32(f"{item.shop}:{item.item_id}:{licence_no}".encode())
        qr = _TISI_QR.format(record=record)
        return Label(f"/img/{item.item_id}/label.png", item.kind.tis, licence_no, qr, verdict, status)

    def write(self, item: Item, case: Case) -> DemoListing:
        """The listing of `item` written so that its ground truth is `case`."""
        rng, kind, tricks, pick = self.rng, item.kind, case.tricks, self.pick
        draw = rng.random
        names = kind.misspellings if "misspelling" in tricks else kind.names
        keyword = names[int(draw() * len(names))]
        if "zero_width" in tricks:
            keyword = zero_width(keyword, rng)
        brand = item.brand.name
        spec = {"ยี่ห้อ": brand, "รุ่น": item.model}
        for key, values in kind.spec:
            spec[key] = values[int(draw() * len(values))]
        spec["ประเทศผู้ผลิต"] = "ไทย" if item.brand.origin == "ท" else "จีน"
        head = f"{pick(_PREFIXES)}{keyword} {brand} {item.model} {item.variant} {item.feature}"
        title_tail, statement = "", ""
        licence_no: str | None = None
        if case.verdict in _WITH_LICENCE:
            licence_no, title_tail, statement = self._statement(item, case, spec)
        elif "bare_mor_kor_claim" in tricks and kind.tis is not None:
            claim = pick(_CLAIMS)
            title_tail = f" {claim}" if rng.random() < 0.5 else f" {mark_text(kind.tis, 'tight')}"
            statement = f"สินค้า{claim} ปลอดภัย มั่นใจได้"
            spec["มาตรฐาน"] = "มอก."
        if "markup_in_title" in tricks:
            title_tail += pick(_MARKUP)
        english = pick(kind.names_en)
        lines = [f"{keyword} {brand} รุ่น {item.model} {item.variant} ({english})", self._features(kind)]
        if statement:
            lines.append(statement)
        label = None
        if kind.tis is not None and {"licence_in_image_only", "qr_in_image_only"} & set(tricks):
            label = self._label(item, case)
            lines.append(_SEE_THE_LABEL)
        lines.append(pick(_SHIPPING))
        images = [f"/img/{item.item_id}/{k}.png" for k in range(1, 2 + int(rng.random() * 3))]
        if label is not None:
            images.insert(1, label.path)  # second, after the product photo, as sellers post them
        return DemoListing(
            shop=item.shop,
            item_id=item.item_id,
            title=f"{head} {english}{title_tail}",
            description="\n".join(lines),
            brand=brand,
            model=item.model,
            price=item.price,
            currency="THB",
            seller_id=item.seller_id,
            seller_name=item.seller.name,
            category=kind.category,
            spec=spec,
            images=images,
            expected_verdict=case.verdict,
            expected_licence_status=case.status,
            expected_tis=None if case.verdict == "not_controlled" else kind.tis,
            expected_licence_no=licence_no,
            tricks=case.tricks,
            added_on_day=item.added_on_day,
            label=label,
        )
