"""Marks shown only in a picture: OCR (Tesseract ``tha+eng``) and the TISI QR code (zbar) of product images.

The matcher never fetches an image: it reads the product images the crawl kept as evidence
(``crawler.images``: each image's WARC ``response`` record, its file, offset and SHA-256 in the
observation's ``image_evidence``). Contract for the match stage, used only when ``match.read_images``
is true (default false):
- For a controlled listing whose text shows no licence, ``readings = read_images(data_dir,
  observation.images, observation.image_evidence, limit=match.max_images)``: each image's bytes are
  the payload of its WARC record, checked against the SHA-256 recorded at the crawl, then
  ``read_image(data, url, record)``. An image the crawl did not keep is a reading with the error
  "image not in evidence" (and why, when the crawl said). Nothing here raises for bad input:
  oversized, broken, non-image and decompression-bomb files, a missing or altered record, a missing
  ``tesseract`` or ``libzbar0``, all give a reading with ``error``.
- ``fields = listing_fields(...) + image_fields(readings)``; ``read_marks(fields)`` and
  ``read_licences(fields)`` read marks and licence numbers in OCR text exactly as in the title, with
  ``where = "image <url>"``: the same verdict logic follows, and the reason says it was read from an
  image and cites its WARC record (:meth:`ImageRecord.cite`), kept in the reason's ``evidence``.
- A reading's ``tisi_qr`` (record ids from ``https://appdb.tisi.go.th/Q/i.php?d=<10 digits>``) with no
  licence number read anywhere makes the verdict ``needs_review``, the reason naming ``tisi_qr_url(id)``.
  Any other QR payload is kept in ``qr`` as evidence, never trusted; one posing as TISI's that leads
  elsewhere (:func:`matchers.tisiqr.qr_not_tisi`) is a reason for the flag (``qr_not_tisi``), never a licence.
Tesseract's Thai model misreads Thai digits (๔ as ๕, ๖ as ๒ …) though it reads Arabic digits and Thai
words well: a licence read from an image that the register does not know is better sent to review.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, ImageOps

from core.text import clean_text
from matchers.marks import read_licences, read_marks
from matchers.tisiqr import tisi_record_ids
from store.evidence import parse_record, read_record

MAX_BYTES = 8 * 1024 * 1024  # largest image file read (the crawl's default crawl.image_max_bytes)
NOT_IN_EVIDENCE = "image not in evidence"
MAX_PIXELS = 40_000_000  # largest width × height decoded: a small file that claims more is a bomb
OCR_LANGUAGES = "tha+eng"  # when this reads no mark and licence, Thai alone is tried too
_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
_MIN_SIDE = 16  # smaller than this holds no legible text
# Before OCR a longest side under 600 px is scaled up to 800 (on small labels: marks read 39 → 48 of 48;
# more, or scaling mid-size images, read fewer) and one over 2400 down to 2400 (time).
_SMALL, _UPSCALED, _LARGE = 600, 800, 2400
_LICENCE = re.compile(r"[ทน]\d+-\d+(?:\(\d+\))?/\d+")


@dataclass(frozen=True)
class ImageRecord:
    """Where an image read is kept: the WARC record the crawl wrote of it, and its payload's SHA-256."""

    warc_file: str
    warc_offset: int
    record_id: str | None
    sha256: str

    def cite(self) -> str:
        """The record as a reason names it."""
        record = f", record {self.record_id}" if self.record_id else ""
        return f"WARC {self.warc_file} offset {self.warc_offset}{record}, sha256 {self.sha256}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "warc_file": self.warc_file,
            "warc_offset": self.warc_offset,
            "record_id": self.record_id,
            "payload_sha256": self.sha256,
        }


@dataclass(frozen=True)
class ImageReading:
    """What one product image shows: OCR text, QR payloads, and the TISI licence-record ids among them;
    ``record``: the WARC record it was read from."""

    source: str
    sha256: str
    text: str = ""
    qr: tuple[str, ...] = ()
    tisi_qr: tuple[str, ...] = ()
    error: str | None = None
    record: ImageRecord | None = None

    def cite(self) -> str:
        """The image as a reason names it: its URL and the record it was read from."""
        if self.record is not None:
            return f"{self.source} ({self.record.cite()})"
        return f"{self.source} (sha256 {self.sha256})" if self.sha256 else self.source

    def evidence(self) -> dict[str, Any]:
        """The image as a reason keeps it: URL and record, or the error why it could not be read."""
        found: dict[str, Any] = {"url": self.source}
        if self.record is not None:
            found.update(self.record.as_dict())
        if self.error:
            found["error"] = self.error
        return found


def _open(data: bytes) -> Image.Image:
    """The decoded first frame, in RGB on white; ValueError for anything we refuse to decode."""
    if len(data) > MAX_BYTES:
        raise ValueError(f"image larger than {MAX_BYTES} bytes ({len(data)})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own cap is lower
            image: Image.Image = Image.open(io.BytesIO(data), formats=_FORMATS)
    except Exception as error:  # hostile files make Pillow raise almost anything; and bombs
        raise ValueError(f"not a readable image: {error}") from error
    if image.width * image.height > MAX_PIXELS:
        raise ValueError(f"image of {image.width}×{image.height} pixels is over the {MAX_PIXELS} cap")
    try:
        image.load()
    except Exception as error:
        raise ValueError(f"broken image: {error}") from error
    if image.has_transparency_data:  # on white, as a shop page shows it
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
    return image.convert("RGB")


def _decode_qr(grey: Image.Image) -> tuple[list[str], list[tuple[int, int, int, int]], str | None]:
    """QR payloads, their boxes (left, top, right, bottom), and why none could be read if libzbar is missing."""
    try:
        from pyzbar import pyzbar  # type: ignore[import-untyped]  # loads libzbar at import
    except ImportError as error:
        return [], [], f"QR not read: {error} (Debian: libzbar0)"
    payloads, boxes = [], []
    for symbol in pyzbar.decode(grey, symbols=[pyzbar.ZBarSymbol.QRCODE]):
        payloads.append(symbol.data.decode("utf-8", errors="replace"))
        left, top, width, height = symbol.rect
        boxes.append((left, top, left + width, top + height))
    return payloads, boxes, None


def _for_ocr(grey: Image.Image, boxes: list[tuple[int, int, int, int]]) -> Image.Image:
    """Greyscale with the QR codes blanked, small images scaled up and very large ones down."""
    page = grey.copy()
    for left, top, right, bottom in boxes:
        pad = max(4, (right - left) // 10)
        page.paste(255, (max(0, left - pad), max(0, top - pad), right + pad, bottom + pad))
    longest = max(page.size)
    if longest < _SMALL or longest > _LARGE:
        scale = (_UPSCALED if longest < _SMALL else _LARGE) / longest
        size = (max(1, round(page.width * scale)), max(1, round(page.height * scale)))
        page = page.resize(size, Image.Resampling.LANCZOS)
    return page


def _ocr(page: Image.Image, languages: str, timeout: float) -> str:
    """Text read by the tesseract binary; the image goes in as PNG on stdin (no temporary files)."""
    binary = shutil.which("tesseract")
    if binary is None:
        raise FileNotFoundError("tesseract is not installed (Debian: tesseract-ocr tesseract-ocr-tha)")
    png = io.BytesIO()
    page.save(png, "PNG")
    # one OpenMP thread: with the default thread pool each image took 1.4 times as long (2 cores)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(
        [binary, "stdin", "stdout", "-l", languages, "--psm", "3"],
        input=png.getvalue(), capture_output=True, timeout=timeout, env=env, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise RuntimeError(f"tesseract failed: {message[-1] if message else done.returncode}")
    return clean_text(done.stdout.decode("utf-8", errors="replace"))


def _evidence(text: str) -> int:
    """How many TIS marks and licence numbers of the printed ท/น form the text shows."""
    fields = [("image", text)]
    return len(read_marks(fields)) + sum(bool(_LICENCE.match(x.canonical)) for x in read_licences(fields))


def _read_text(page: Image.Image, timeout: float) -> str:
    """OCR with tha+eng; if that shows no mark and licence, also Thai only, and keep the one showing more.
    (tha+eng may read short Thai lines as Latin, มอก. → "Nan."; tha alone reads Thai well, Latin not at
    all; the QR code is blanked first, as its modules come out as noise.) Demo labels: 54 → 60 of 60."""
    text = _ocr(page, OCR_LANGUAGES, timeout)
    found = _evidence(text)
    if found >= 2:
        return text
    thai = _ocr(page, "tha", timeout)
    return thai if _evidence(thai) > found else text


def read_image(
    data: bytes, source: str, record: ImageRecord | None = None, *, ocr: bool = True, timeout: float = 30.0
) -> ImageReading:
    """Read one image (bytes as fetched from `source`, kept in `record`): OCR text, QR payloads, TISI
    record ids."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        image = _open(data)
    except ValueError as error:
        return ImageReading(source, digest, error=str(error), record=record)
    if min(image.size) < _MIN_SIDE:
        return ImageReading(source, digest, record=record)
    grey = ImageOps.grayscale(image)
    payloads, boxes, problem = _decode_qr(grey)
    problems = [problem] if problem else []
    text = ""
    if ocr:
        try:
            text = _read_text(_for_ocr(grey, boxes), timeout)
        except subprocess.TimeoutExpired:
            problems.append(f"OCR gave up after {timeout:g} s")
        except (OSError, RuntimeError) as error:
            problems.append(f"OCR failed: {error}")
    qr = tuple(dict.fromkeys(payloads))
    return ImageReading(source, digest, text, qr, tisi_record_ids(qr), "; ".join(problems) or None, record)


def stored_image(data_dir: Path, url: str, entry: Mapping[str, Any] | None) -> tuple[bytes, ImageRecord]:
    """The bytes of the image the crawl kept of `url` (its ``image_evidence`` entry) and its record;
    a ValueError naming why there are none: not kept, unreadable, or altered since the crawl."""
    if entry is None:
        raise ValueError(NOT_IN_EVIDENCE)
    warc_file, offset, digest = entry.get("warc_file"), entry.get("warc_offset"), entry.get("payload_sha256")
    if entry.get("error") or not isinstance(warc_file, str) or not isinstance(offset, int) or not digest:
        raise ValueError(f"{NOT_IN_EVIDENCE} ({entry.get('error') or 'no WARC record was kept'})")
    try:
        headers, payload = parse_record(read_record(data_dir, warc_file, offset))
    except OSError as error:
        raise ValueError(f"{NOT_IN_EVIDENCE} ({warc_file}: {error.strerror or error})") from None
    except ValueError as error:
        raise ValueError(f"{NOT_IN_EVIDENCE} ({error})") from None
    if headers.get_header("WARC-Type") != "response":
        raise ValueError(f"{NOT_IN_EVIDENCE} ({warc_file} offset {offset} is no response record)")
    record = ImageRecord(warc_file, offset, headers.get_header("WARC-Record-ID"), str(digest).lower())
    if len(payload) > MAX_BYTES:
        raise ValueError(f"image larger than {MAX_BYTES} bytes ({len(payload)})")
    if hashlib.sha256(payload).hexdigest() != record.sha256:
        raise ValueError(f"image in evidence altered: {record.cite()} no longer holds those bytes")
    return payload, record


def read_images(
    data_dir: Path,
    urls: Iterable[str],
    evidence: Sequence[Mapping[str, Any]] | None,
    *,
    limit: int,
    timeout: float = 30.0,
) -> list[ImageReading]:
    """Read up to `limit` of a listing's image URLs (duplicates once, http(s) only) from the evidence
    the crawl kept (`evidence`: the observation's ``image_evidence``); never from the network. An image
    not kept, or not readable from its record, is a reading with its `error`."""
    kept = {entry.get("url"): entry for entry in evidence or () if isinstance(entry, Mapping)}
    readings: list[ImageReading] = []
    for url in dict.fromkeys(urls):
        if len(readings) >= limit:
            break
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        try:
            data, record = stored_image(data_dir, url, kept.get(url))
        except ValueError as error:
            readings.append(ImageReading(url, "", error=str(error)))
            continue
        readings.append(read_image(data, url, record, timeout=timeout))
    return readings


def image_fields(readings: Iterable[ImageReading]) -> list[tuple[str, str]]:
    """OCR text as (where, text) fields like `listing_fields`, where = ``image <url>``."""
    return [(f"image {reading.source}", reading.text) for reading in readings if reading.text]
