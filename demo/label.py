"""Product-label pictures: the PNG a demo shop serves for a listing whose mark is shown only in a photo.

The label shows the TISI QR code on the left and, on the right, the mark as printed on goods
(``มอก. 2879-2560``, Arabic digits), the licence number (``ใบอนุญาต ท1234-56/2879``; a QR-only label says
``สแกนเพื่อตรวจสอบ`` instead) and the brand and model. It is drawn with Pillow from the listing alone, so the
same seed gives the same bytes; the Thai font (Garuda from fonts-thai-tlwg, or any font fontconfig says
covers Thai) is found at run time with ``fc-list``.
"""

from __future__ import annotations

import functools
import io
import subprocess

import qrcode
from PIL import Image, ImageDraw, ImageFont

from demo.listing import Label

WIDTH, HEIGHT = 960, 400
_QR_SIDE = 320
_TEXT_LEFT = _QR_SIDE + 70
_PREFERRED = ("Garuda", "Loma", "Norasi", "Kinnari")


def _fc_list(pattern: str) -> list[str]:
    try:
        return subprocess.run(
            ["fc-list", pattern, "family", "file"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError) as error:
        raise RuntimeError(f"cannot list fonts (install fontconfig and fonts-thai-tlwg): {error}") from error


@functools.cache
def thai_font_file() -> str:
    """A TrueType font file that covers Thai, as fontconfig knows it; Garuda when installed."""
    fonts: dict[str, str] = {}
    for line in sorted(_fc_list(":lang=th:style=Regular") or _fc_list(":lang=th")):
        path, _, families = line.partition(": ")
        if path.endswith((".ttf", ".otf")):
            for family in families.split(","):
                fonts.setdefault(family.strip(), path)
    for family in (*_PREFERRED, *sorted(fonts)):
        if family in fonts:
            return fonts[family]
    raise RuntimeError("no font covers Thai: install fonts-thai-tlwg")


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(thai_font_file(), size)


def _fitting(text: str, size: int, width: int) -> ImageFont.FreeTypeFont:
    """The font at `size`, or smaller until `text` fits in `width` pixels."""
    font = _font(size)
    while font.getlength(text) > width and size > 16:
        size -= 2
        font = _font(size)
    return font


def _qr(payload: str) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=2)
    code.add_data(payload)
    code.make(fit=True)
    small = code.make_image().get_image().convert("L")
    return small.resize((_QR_SIDE, _QR_SIDE), Image.Resampling.NEAREST)


@functools.lru_cache(maxsize=512)
def label_png(label: Label, brand: str, model: str) -> bytes:
    """The label picture of a listing, as PNG bytes."""
    image = Image.new("L", (WIDTH, HEIGHT), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((6, 6, WIDTH - 7, HEIGHT - 7), outline=0, width=3)
    image.paste(_qr(label.qr), (30, (HEIGHT - _QR_SIDE) // 2))
    room = WIDTH - _TEXT_LEFT - 30
    lines = [
        (f"มอก. {label.tis}", 52),
        (f"ใบอนุญาต {label.licence_no}" if label.licence_no else "สแกนเพื่อตรวจสอบ", 42),
        (f"{brand} {model}", 34),
    ]
    top = 70
    for text, size in lines:
        font = _fitting(text, size, room)
        draw.text((_TEXT_LEFT, top), text, font=font, fill=0)
        top += int(size * 1.9)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
