"""The reasons a verdict gives that are not features of the classifier: each a dict with ``feature``,
``score`` and ``detail`` (Thai / English), and ``evidence`` where it rests on product images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matchers.brandtext import BrandSeen
from matchers.images import ImageReading
from matchers.tisiqr import qr_not_tisi


def pictures(where: str, images: Sequence[ImageReading]) -> list[ImageReading]:
    """The image a text was read from (none when it was read from the listing's text)."""
    return [reading for reading in images if f"image {reading.source}" == where][:1]


def place(where: str, images: Sequence[ImageReading]) -> str:
    """Where a licence was read, for a reason: a picture with the WARC record and SHA-256 it was read from."""
    found = pictures(where, images)
    if not where.startswith("image "):
        return where
    return f"อ่านจากรูป / read from image {found[0].cite() if found else where[6:]}"


def evidence(images: Sequence[ImageReading]) -> dict[str, Any]:
    """The ``evidence`` a reason keeps of the images it rests on: URL, WARC record, SHA-256 (or error)."""
    return {"evidence": [reading.evidence() for reading in images]} if images else {}


def images_read(images: Sequence[ImageReading]) -> dict[str, Any]:
    """The product images read that showed no licence number, each cited, or why it could not be read."""
    said = "; ".join(
        f"{reading.source}: {reading.error}" if reading.error and reading.record is None else reading.cite()
        for reading in images
    )
    return reason(
        "images_without_licence",
        f"อ่านรูปสินค้าแล้ว ไม่พบเลขใบอนุญาต / product images read, no licence number in them — {said}",
    ) | evidence(images)


_PLACES = {"title": ("ชื่อสินค้า", "the title"), "description": ("รายละเอียดสินค้า", "the description")}


def brand_reason(seen: BrandSeen) -> dict[str, Any]:
    """Where the brand checked against the licence was read, the listing having no brand field."""
    th, en = _PLACES[seen.where]
    return reason(
        "brand_from_text",
        f"ไม่มีช่องยี่ห้อ ยี่ห้ออ่านจาก{th}: “{seen.brand}” / no brand field; brand read from {en}: “{seen.brand}”",
    )


def fake_qr(images: Sequence[ImageReading]) -> list[tuple[ImageReading, str]]:
    """The QR codes in the pictures that pose as TISI's but lead elsewhere, with the picture of each."""
    return [(reading, link) for reading in images for link in qr_not_tisi(reading.qr)]


def qr_reason(posing: Sequence[tuple[ImageReading, str]]) -> dict[str, Any]:
    """A reason for the flag: QR codes that pose as TISI's but do not lead to its licence service."""
    said = "; ".join(f"{link}, read from image {reading.cite()}" for reading, link in posing)
    seen_in = list({reading.source: reading for reading, _ in posing}.values())
    return reason(
        "qr_not_tisi",
        "QR ในรูปไม่ได้นำไปยังระบบใบอนุญาตของ สมอ. (อาจปลอม) ไม่นับเป็นใบอนุญาต / "
        f"a QR code in a picture does not lead to TISI's licence service (may be fake), not a licence — {said}",
    ) | evidence(seen_in)


def reason(feature: str, detail: str, score: float = 1.0) -> dict[str, Any]:
    return {"feature": feature, "score": score, "detail": detail}
