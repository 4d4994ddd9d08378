"""Marks shown only in a picture: OCR (Tesseract ``tha+eng``) and the TISI QR code (zbar) of product images.

Contract for the match stage, used only when ``match.read_images`` is true (default false):
- For a controlled listing whose text shows no licence, ``readings = read_images(observation.images,
  limit=match.max_images)`` (``fetch_images`` then ``read_image(data, url)``; a failed download is a
  reading with ``error``). Nothing here raises for bad input: oversized, broken, non-image and
  decompression-bomb files, a missing ``tesseract`` or ``libzbar0``, all give a reading with ``error``.
- ``fields = listing_fields(...) + image_fields(readings)``; ``read_marks(fields)`` and
  ``read_licences(fields)`` read marks and licence numbers in OCR text exactly as in the title, with
  ``where = "image <url>"``: the same verdict logic follows, and the reason says it was read from an image.
- A reading's ``tisi_qr`` (record ids from ``https://appdb.tisi.go.th/Q/i.php?d=<10 digits>``) with no
  licence number read anywhere makes the verdict ``needs_review``, the reason naming ``tisi_qr_url(id)``.
  Any other QR payload is kept in ``qr`` as evidence, never trusted.
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
import time
import urllib.error
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from http.client import HTTPException, HTTPMessage
from typing import IO
from urllib.parse import urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from PIL import Image, ImageOps

from core.text import clean_text
from matchers.marks import read_licences, read_marks

MAX_BYTES = 8 * 1024 * 1024  # largest image file read or downloaded
MAX_PIXELS = 40_000_000  # largest width × height decoded: a small file that claims more is a bomb
OCR_LANGUAGES = "tha+eng"  # when this reads no mark and licence, Thai alone is tried too
_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
_MIN_SIDE = 16  # smaller than this holds no legible text
# Before OCR a longest side under 600 px is scaled up to 800 (on small labels: marks read 39 → 48 of 48;
# more, or scaling mid-size images, read fewer) and one over 2400 down to 2400 (time).
_SMALL, _UPSCALED, _LARGE = 600, 800, 2400
_LICENCE = re.compile(r"[ทน]\d+-\d+(?:\(\d+\))?/\d+")
_TISI_QR = re.compile(r"https://appdb\.tisi\.go\.th/Q/i\.php\?d=(\d{10})")


@dataclass(frozen=True)
class ImageReading:
    """What one product image shows: OCR text, QR payloads, and the TISI licence-record ids among them."""

    source: str
    sha256: str
    text: str = ""
    qr: tuple[str, ...] = ()
    tisi_qr: tuple[str, ...] = ()
    error: str | None = None


def tisi_qr_url(record_id: str) -> str:
    """The TISI page a licence-record id from a QR code names."""
    return f"https://appdb.tisi.go.th/Q/i.php?d={record_id}"


def tisi_record_ids(payloads: Iterable[str]) -> tuple[str, ...]:
    """The record ids of the payloads that are exactly a TISI licence QR URL (others are not trusted)."""
    found = (_TISI_QR.fullmatch(payload.strip()) for payload in payloads)
    return tuple(dict.fromkeys(match[1] for match in found if match))


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


def read_image(data: bytes, source: str, *, ocr: bool = True, timeout: float = 30.0) -> ImageReading:
    """Read one image (bytes as downloaded from `source`): OCR text, QR payloads, TISI record ids."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        image = _open(data)
    except ValueError as error:
        return ImageReading(source, digest, error=str(error))
    if min(image.size) < _MIN_SIDE:
        return ImageReading(source, digest)
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
    return ImageReading(source, digest, text, qr, tisi_record_ids(qr), "; ".join(problems) or None)


class _HttpOnlyRedirects(HTTPRedirectHandler):
    def redirect_request(
        self, req: Request, fp: IO[bytes], code: int, msg: str, headers: HTTPMessage, newurl: str
    ) -> Request | None:
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise urllib.error.URLError(f"redirect to a non-http(s) URL refused: {newurl[:80]}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _download(url: str, max_bytes: int, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    request = Request(url, headers={"User-Agent": "tisiwatch", "Accept": "image/*"})
    with build_opener(_HttpOnlyRedirects()).open(request, timeout=timeout) as response:  # proxies: env
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise ValueError(f"image larger than {max_bytes} bytes ({length})")
        chunks, size = [], 0
        while chunk := response.read(65536):
            size += len(chunk)
            if size > max_bytes:
                raise ValueError(f"image larger than {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise TimeoutError(f"download took longer than {timeout:g} s")
            chunks.append(chunk)
    return b"".join(chunks)


def fetch_images(
    urls: Iterable[str], *, limit: int, max_bytes: int = MAX_BYTES, timeout: float = 20.0
) -> list[tuple[str, bytes | None, str | None]]:
    """Download up to `limit` image URLs (duplicates once): (url, bytes, None) or (url, None, why not).
    Only http(s), also after a redirect: another scheme is refused (not counted against `limit`), and so
    are a file over `max_bytes` and a download over `timeout` seconds."""
    results: list[tuple[str, bytes | None, str | None]] = []
    fetched = 0
    for url in dict.fromkeys(urls):
        if fetched >= limit:
            break
        if urlsplit(url).scheme not in ("http", "https"):
            results.append((url, None, "not an http(s) URL"))
            continue
        fetched += 1
        try:
            results.append((url, _download(url, max_bytes, timeout), None))
        except urllib.error.HTTPError as error:
            results.append((url, None, f"HTTP {error.code}: {error.reason}"[:200]))
        except (OSError, ValueError, HTTPException) as error:
            results.append((url, None, str(getattr(error, "reason", None) or error)[:200]))
    return results


def read_images(
    urls: Iterable[str], *, limit: int, max_bytes: int = MAX_BYTES, timeout: float = 20.0
) -> list[ImageReading]:
    """`fetch_images` then `read_image` each; a failed download is a reading with its `error`."""
    return [
        read_image(data, url, timeout=timeout) if data is not None else ImageReading(url, "", error=why)
        for url, data, why in fetch_images(urls, limit=limit, max_bytes=max_bytes, timeout=timeout)
    ]


def image_fields(readings: Iterable[ImageReading]) -> list[tuple[str, str]]:
    """OCR text as (where, text) fields like `listing_fields`, where = ``image <url>``."""
    return [(f"image {reading.source}", reading.text) for reading in readings if reading.text]
