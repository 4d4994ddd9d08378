"""Reading marks from product images: OCR and the TISI QR code on generated pictures, hostile files, and
images read from the WARC records the crawl kept (never downloaded by the matcher).

Tests that need the tesseract binary (with Thai) or libzbar skip, saying so, only where those are not
installed; CI installs them (.ci/system-packages).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
import qrcode
from PIL import Image, ImageDraw, ImageFont

from crawler.warc import Exchange, WarcFile, http_capture
from demo.label import thai_font_file
from matchers.images import (
    MAX_BYTES,
    NOT_IN_EVIDENCE,
    ImageReading,
    image_fields,
    read_image,
    read_images,
)
from matchers.marks import read_licences, read_marks
from matchers.tisiqr import tisi_qr_url, tisi_record_ids


def _has_thai_tesseract() -> bool:
    if shutil.which("tesseract") is None:
        return False
    langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, check=False)
    return "tha" in langs.stdout.split()


def _has_zbar() -> bool:
    try:
        from pyzbar import pyzbar  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return False
    return True


needs_tesseract = pytest.mark.skipif(
    not _has_thai_tesseract(),
    reason="tesseract with Thai is not installed (tesseract-ocr, tesseract-ocr-tha)",
)
needs_zbar = pytest.mark.skipif(not _has_zbar(), reason="libzbar is not installed (Debian: libzbar0)")

TISI = "https://appdb.tisi.go.th/Q/i.php?d=0123456789"
URL = "http://shop.example/img/1/label.png"


def picture(lines: list[str], qr: str | None = None, *, size: int = 44, fmt: str = "PNG") -> bytes:
    """A white label with `lines` of text (Thai font) and, on its left, a QR code of `qr`."""
    left = 380 if qr else 30
    height = max(360 if qr else 0, 120 + len(lines) * int(size * 1.7))
    image = Image.new("RGB", (left + 620, height), "white")
    if qr:
        code = qrcode.QRCode(box_size=8, border=2)
        code.add_data(qr)
        image.paste(
            code.make_image().get_image().convert("RGB").resize((320, 320), Image.Resampling.NEAREST),
            (30, 20),
        )
    draw, font = ImageDraw.Draw(image), ImageFont.truetype(thai_font_file(), size)
    for row, line in enumerate(lines):
        draw.text((left, 60 + row * int(size * 1.7)), line, font=font, fill="black")
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG file that claims `width` × `height` pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@needs_tesseract
@needs_zbar
def test_a_thai_label_gives_text_qr_and_the_tisi_record() -> None:
    data = picture(["มอก. 2879-2560", "ใบอนุญาต ท1234-56/2879"], TISI)
    reading = read_image(data, URL)
    assert reading.source == URL
    assert reading.sha256 == hashlib.sha256(data).hexdigest()
    assert reading.error is None
    assert "มอก. 2879-2560" in reading.text
    assert "ท1234-56/2879" in reading.text
    assert (reading.qr, reading.tisi_qr) == ((TISI,), ("0123456789",))
    assert tisi_qr_url(reading.tisi_qr[0]) == TISI


@needs_tesseract
def test_marks_and_licences_are_read_from_image_text_as_from_a_title() -> None:
    readings = [
        ImageReading("http://shop.example/1.png", "", ""),
        read_image(picture(["มอก. 685 เล่ม 1-2562", "เลขที่ใบอนุญาต น1501-61(2)/685"]), URL, timeout=60),
    ]
    fields = image_fields(readings)
    assert [where for where, _ in fields] == [f"image {URL}"]  # an image with no text gives no field
    marks, licences = read_marks(fields), read_licences(fields)
    assert [(m.tis.canonical, m.where) for m in marks] == [("685 เล่ม 1-2562", f"image {URL}")]
    assert ("น1501-61(2)/685", f"image {URL}") in [(x.canonical, x.where) for x in licences]


@needs_tesseract
def test_plain_english_mark_is_read() -> None:
    reading = read_image(picture(["Power bank 10000mAh", "TIS 2879-2560"]), URL)
    assert [m.tis.canonical for m in read_marks(image_fields([reading]))] == ["2879-2560"]


@needs_tesseract
@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_small_pictures_in_each_format_are_scaled_up_and_read(fmt: str) -> None:
    big = Image.open(io.BytesIO(picture(["มอก. 2432-2555", "ใบอนุญาต ท1056-48/2432"])))
    small = big.resize((big.width * 36 // 100, big.height * 36 // 100), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, fmt, quality=90)
    fields = image_fields([read_image(out.getvalue(), URL)])
    assert [m.tis.canonical for m in read_marks(fields)] == ["2432-2555"]
    assert [x.canonical for x in read_licences(fields)] == ["ท1056-48/2432"]


@needs_tesseract
def test_transparent_background_is_read_as_on_white() -> None:
    image = Image.new("RGBA", (900, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).text(
        (30, 60), "มอก. 2879-2560", font=ImageFont.truetype(thai_font_file(), 48), fill="black"
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    assert "2879-2560" in read_image(out.getvalue(), URL).text


@needs_tesseract
def test_thai_words_with_thai_digits_are_read() -> None:
    reading = read_image(picture(["สินค้าได้รับ มอก. ๒๘๗๙-๒๕๖๐", "ใบอนุญาต ท๑๒๓๔-๕๖/๒๘๗๙"]), URL)
    assert "มอก." in reading.text
    assert "ใบอนุญาต" in reading.text
    assert not any("๐" <= char <= "๙" for char in reading.text)  # cleaned to Arabic digits


@needs_tesseract
@pytest.mark.xfail(
    reason="Debian's tesseract-ocr-tha misreads Thai digits (๔ as ๕, ๖ as ๒, ๘ as ๕)", strict=True
)
def test_thai_digits_are_read_right() -> None:
    fields = image_fields([read_image(picture(["มอก. ๒๘๗๙-๒๕๖๐", "ใบอนุญาต ท๑๒๓๔-๕๖/๒๘๗๙"]), URL)])
    assert [m.tis.canonical for m in read_marks(fields)] == ["2879-2560"]


@needs_zbar
@pytest.mark.parametrize(
    "payload",
    [
        "https://appdb.tisi.go.th.evil.example/Q/i.php?d=0123456789",
        "http://appdb.tisi.go.th/Q/i.php?d=0123456789",
        "https://appdb.tisi.go.th/Q/i.php?d=12345",
        "https://appdb.tisi.go.th/Q/i.php?d=0123456789&next=https://evil.example",
        "ใบอนุญาต ท1234-56/2879",
    ],
)
def test_other_qr_payloads_are_kept_but_not_trusted(payload: str) -> None:
    reading = read_image(picture(["QR"], payload), URL, ocr=False)
    assert (reading.qr, reading.tisi_qr, reading.text) == ((payload,), (), "")


def test_tisi_record_ids() -> None:
    assert tisi_record_ids([TISI, f" {TISI}\n", "https://appdb.tisi.go.th/Q/i.php?d=9876543210"]) == (
        "0123456789",
        "9876543210",
    )
    assert tisi_record_ids(["https://appdb.tisi.go.th/Q/i.php?d=01234567890", "", "d=0123456789"]) == ()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_BYTES, "larger than"),
        (b"<!doctype html><html><body>not a picture</body></html>", "not a readable image"),
        (b"", "not a readable image"),
        (b"%PDF-1.7\n" + b"\x00" * 100, "not a readable image"),
        (png_header(7000, 7000), "over the"),  # under Pillow's own limit, over ours
        (png_header(10_000, 10_000), "over the"),  # where Pillow would only warn
        (png_header(100_000, 100_000), "not a readable image"),  # where Pillow refuses
        (png_header(300, 200), "broken image"),  # too little pixel data
        (picture(["x"])[:300], "broken image"),  # truncated
    ],
    ids=["too-big", "html", "empty", "pdf", "bomb-7000", "bomb-10000", "bomb-100000", "short", "truncated"],
)
def test_bad_files_give_an_error_not_an_exception(data: bytes, error: str) -> None:
    reading = read_image(data, URL)
    assert reading.error is not None
    assert error in reading.error
    assert (reading.text, reading.qr, reading.sha256) == ("", (), hashlib.sha256(data).hexdigest())


def test_a_tiny_picture_has_nothing_to_read() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (230, 230, 240)).save(out, "PNG")
    assert read_image(out.getvalue(), URL) == ImageReading(URL, hashlib.sha256(out.getvalue()).hexdigest())


@needs_zbar
def test_without_tesseract_the_qr_is_still_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    reading = read_image(picture(["มอก. 2879-2560"], TISI), URL)
    assert reading.tisi_qr == ("0123456789",)
    assert reading.error is not None
    assert "tesseract is not installed" in reading.error


def stored(data_dir: Path, images: dict[str, bytes], run_id: int = 1) -> list[dict[str, Any]]:
    """Keep `images` (url → bytes) as the crawl does: WARC response records; their image_evidence."""
    warc = WarcFile.create(data_dir, run_id, "w0", {"software": "test"})
    entries = []
    for url, body in images.items():
        records = http_capture(Exchange(url, 200, [("Content-Type", "image/png")], body))
        [offset, _] = warc.write(records)
        entries.append({
            "url": url, "status": 200, "warc_file": warc.relative, "warc_offset": offset,
            "record_id": records[0].rec_headers.get_header("WARC-Record-ID"),
            "payload_sha256": hashlib.sha256(body).hexdigest(),
        })  # fmt: skip
    warc.close()
    return entries


# URLs of a host that does not exist: the matcher never asks the network for them
LABEL, PAGE, GONE = (
    "http://shop.invalid/label.png",
    "http://shop.invalid/page.html",
    "http://shop.invalid/gone.png",
)


@needs_zbar
def test_read_images_reads_the_records_the_crawl_kept_never_the_network(tmp_path: Path) -> None:
    label = picture(["มอก. 2879-2560", "ใบอนุญาต ท1234-56/2879"], TISI)
    evidence = stored(tmp_path, {LABEL: label, PAGE: b"<html>no</html>"})
    evidence.append({"url": GONE, "status": 404, "error": "HTTP 404", "kind": "http_404"})
    urls = [
        "file:///etc/passwd",  # not http(s): skipped, not counted against the limit
        LABEL,
        LABEL,  # duplicates once
        "http://shop.invalid/never-fetched.png",
        GONE,
        PAGE,
        "http://shop.invalid/over-the-limit.png",
    ]
    readings = read_images(tmp_path, urls, evidence, limit=4)
    assert [r.source for r in readings] == [LABEL, "http://shop.invalid/never-fetched.png", GONE, PAGE]
    first = readings[0]
    assert first.tisi_qr == ("0123456789",)
    assert first.sha256 == hashlib.sha256(label).hexdigest()
    assert first.record is not None
    assert first.record.as_dict() == {key: evidence[0][key] for key in first.record.as_dict()}
    cited = first.cite()
    assert f"WARC {evidence[0]['warc_file']} offset {evidence[0]['warc_offset']}" in cited
    assert evidence[0]["record_id"] in cited
    assert f"sha256 {first.sha256}" in cited
    assert readings[1] == ImageReading("http://shop.invalid/never-fetched.png", "", error=NOT_IN_EVIDENCE)
    assert readings[2].error == f"{NOT_IN_EVIDENCE} (HTTP 404)"
    assert readings[3].error is not None
    assert "not a readable image" in readings[3].error
    assert readings[3].record is not None


def test_an_image_whose_record_is_gone_or_altered_is_not_read(tmp_path: Path) -> None:
    [entry] = stored(tmp_path, {LABEL: picture(["มอก. 2879-2560"])})
    altered = {**entry, "payload_sha256": "0" * 64}
    [reading] = read_images(tmp_path, [LABEL], [altered], limit=3)
    assert reading.error is not None
    assert reading.error.startswith("image in evidence altered")
    assert (reading.text, reading.qr) == ("", ())
    elsewhere = {**entry, "warc_offset": entry["warc_offset"] + 1}
    [reading] = read_images(tmp_path, [LABEL], [elsewhere], limit=3)
    assert reading.error is not None
    assert reading.error.startswith(NOT_IN_EVIDENCE)
    (tmp_path / entry["warc_file"]).unlink()
    [reading] = read_images(tmp_path, [LABEL], [entry], limit=3)
    assert reading.error == f"{NOT_IN_EVIDENCE} ({entry['warc_file']}: No such file or directory)"
    outside = {**entry, "warc_file": "../../etc/passwd"}
    [reading] = read_images(tmp_path, [LABEL], [outside], limit=3)
    assert reading.error is not None
    assert "not a relative path inside the data directory" in reading.error


def test_old_observations_without_image_evidence_read_as_not_in_evidence(tmp_path: Path) -> None:
    assert read_images(tmp_path, [LABEL], None, limit=3) == [ImageReading(LABEL, "", error=NOT_IN_EVIDENCE)]
