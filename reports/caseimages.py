"""The product images a case's verdict was read from, for its folder in the ETDA case file.

A verdict read from a picture keeps, in its reasons' ``evidence``, each image's URL, the WARC file
and offset of the record the crawl wrote of it, its record id and its payload's SHA-256
(``matchers.images``). The case file carries each such image twice: ``image-<n>.warc.gz``, the
image's WARC records (response and request) copied byte for byte from the crawl's file, which proves
where and when it was fetched; and ``image-<n>.<ext>``, its bytes, which any viewer opens. An image
whose record cannot be read, or whose bytes no longer have the SHA-256 recorded at the crawl, is left
out and named as a problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.evidence import read_capture_and_payload

MAX_IMAGES = 20
"""At most this many images per case (a verdict cites at most ``match.max_images``, up to 20)."""
_KINDS = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
)


@dataclass(frozen=True, slots=True)
class CaseImage:
    """One image of a case: its place among the case's images, where it came from, and its bytes."""

    number: int
    cited: Mapping[str, Any]
    capture: bytes
    payload: bytes

    @property
    def capture_name(self) -> str:
        return f"image-{self.number}.warc.gz"

    @property
    def file_name(self) -> str:
        return f"image-{self.number}.{extension(self.payload)}"

    def record(self) -> dict[str, Any]:
        """What listing.json says of the image."""
        return {
            "file": self.file_name,
            "capture": self.capture_name,
            "url": self.cited.get("url"),
            "warc_file": self.cited.get("warc_file"),
            "warc_offset": self.cited.get("warc_offset"),
            "record_id": self.cited.get("record_id"),
            "payload_sha256": hashlib.sha256(self.payload).hexdigest(),
        }


def extension(data: bytes) -> str:
    """The file name extension of an image's bytes, from their first bytes (never from its URL)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return next((kind for magic, kind in _KINDS if data.startswith(magic)), "bin")


def cited_images(reasons: Iterable[Any]) -> list[Mapping[str, Any]]:
    """The images the reasons rest on that were read from a WARC record, each once, in order."""
    found: dict[tuple[str, int], Mapping[str, Any]] = {}
    for reason in reasons:
        for cited in (reason.get("evidence") if isinstance(reason, Mapping) else None) or []:
            if not isinstance(cited, Mapping):
                continue
            warc_file, offset = cited.get("warc_file"), cited.get("warc_offset")
            if isinstance(warc_file, str) and isinstance(offset, int) and cited.get("payload_sha256"):
                found.setdefault((warc_file, offset), cited)
    return list(found.values())[:MAX_IMAGES]


def case_images(
    folder: str, reasons: Iterable[Any], data_dir: Path, problem: Callable[[str, str], None]
) -> list[CaseImage]:
    """The images of a case's verdict that check out; the others named through ``problem``."""
    images = []
    for number, cited in enumerate(cited_images(reasons), start=1):
        name = f"{folder}image-{number}.warc.gz"
        try:
            capture, payload = read_capture_and_payload(data_dir, cited["warc_file"], cited["warc_offset"])
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)[:500]
            problem(name, f"left out: {reason}")
            continue
        if hashlib.sha256(payload).hexdigest() != str(cited["payload_sha256"]).lower():
            problem(name, "left out: the image no longer has the hash recorded at the crawl")
            continue
        images.append(CaseImage(number, cited, capture, payload))
    return images
