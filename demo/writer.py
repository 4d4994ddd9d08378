"""Writes the demo register files (licences.csv, unsafe.csv) that agree with the demo shops' listings."""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Iterable
from pathlib import Path

from demo.catalogue import BRANDS_BY_BASE, STANDARDS, TIS_BY_BASE
from demo.generator import generate_days
from demo.listing import DemoListing

LICENCE_COLUMNS = ("licence_no", "tis_number", "licensee", "brands", "status", "issued", "expires")
UNSAFE_COLUMNS = ("brand", "model", "tis_number", "reason", "source", "listed_on")

_LICENCE = re.compile(r"^(?P<letter>\D)(?P<serial>\d+)-(?P<year>\d+)(?:\(\d+\))?/(?P<base>\d+)$")
_STATUS = {"valid": "active", "revoked": "revoked", "suspended": "suspended", "expired": "expired"}
_REASONS = (
    "ผลทดสอบไม่ผ่านมาตรฐาน มอก.",
    "เรียกคืนสินค้า: เสี่ยงเกิดอันตรายต่อผู้ใช้",
    "ผลทดสอบไม่ผ่าน: ไม่ปลอดภัยตามมาตรฐาน",
    "ตรวจยึด: แสดงเครื่องหมาย มอก. ปลอม",
)
_SOURCES = ("สมอ. ผลการสุ่มตรวจ", "สมอ. ประกาศเรียกคืนสินค้า", "สมอ. ตรวจยึดร่วมกับตำรวจ")
_COMPANY = (
    ("สยาม", "ไทย", "เอเชีย", "กรุงเทพ", "ศรีสุข", "โกลเด้น", "ยูไนเต็ด", "นครชัย"),
    ("พัฒนา", "รุ่งเรือง", "อินเตอร์", "เจริญ", "ทรัพย์", "เทค", "โฮลดิ้ง"),
    ("อินดัสทรี", "เทรดดิ้ง", "อิเล็คทริค", "โปรดักส์", "แมนูแฟคเจอริ่ง", "อิมพอร์ต"),
)
_SYLLABLES = ("Ka", "Ro", "Zen", "Vi", "Lux", "Tor", "Mi", "Sa", "Neo", "Pra", "Chai", "Ton", "Ari", "Kor")


def _date(year_be2: int, serial: int, add_years: int = 0) -> str:
    """An ISO date in the licence's year (two-digit Buddhist-era year), spread by the serial number."""
    return f"{2500 + year_be2 - 543 + add_years:04d}-{serial % 12 + 1:02d}-{serial % 28 + 1:02d}"


def _licence_row(listing: DemoListing, number: str, status: str | None) -> tuple[str, ...] | None:
    """The register row for a licence number a listing shows (in its text or its label picture) with the
    licence status its ground truth needs, or None if the register must not know it."""
    if status in (None, "not_found"):
        return None
    parts = _LICENCE.match(number)
    assert parts is not None, number
    serial, year, base = int(parts["serial"]), int(parts["year"]), parts["base"]
    others = [b for b in BRANDS_BY_BASE.get(base, ()) if b.name != listing.brand]
    own = next((b for b in BRANDS_BY_BASE.get(base, ()) if b.name == listing.brand), None)
    if status == "wrong_brand":
        licensee, brands = others[0].company, "|".join(b.name for b in others[:2])
    else:
        licensee = own.company if own else (others[0].company if others else "ผู้นำเข้าทั่วไป")
        brands = ("", listing.brand, "|".join([listing.brand, *(b.name for b in others[:1])]))[serial % 3]
        if status == "wrong_standard":
            brands = ""
    expires = _date(year, serial, 5) if status == "expired" else ""
    register_status = _STATUS.get(status or "", "active")
    return (number, TIS_BY_BASE[base], licensee, brands, register_status, _date(year, serial), expires)


def _filler_rows(rng: random.Random, count: int, first_serial: int) -> Iterable[tuple[str, ...]]:
    """Licences of other products and companies, so the register has a realistic size and spread."""
    for serial in range(first_serial, first_serial + count):
        tis = rng.choice(STANDARDS)
        base = tis.split(" ")[0].split("-")[0]
        year = rng.randrange(45, 68)
        company = "".join(rng.choice(part) for part in _COMPANY[:2]) + " " + rng.choice(_COMPANY[2])
        licensee = f"บริษัท {company} {'(ประเทศไทย) ' if rng.random() < 0.2 else ''}จำกัด"
        brands = "|".join("".join(rng.sample(_SYLLABLES, 2)) for _ in range(rng.choice((0, 1, 1, 1, 2))))
        draw = rng.random()
        status = (
            "active"
            if draw < 0.9
            else "expired"
            if draw < 0.94
            else "revoked"
            if draw < 0.97
            else "suspended"
        )
        if status == "expired":
            year = min(year, 60)
        edition = "(2)" if serial % 19 == 0 else ""
        expires = _date(year, serial, 5) if status == "expired" else ""
        number = f"{rng.choice('ทน')}{serial}-{year:02d}{edition}/{base}"
        yield (number, tis, licensee, brands, status, _date(year, serial), expires)


def _unsafe_rows(listings: Iterable[DemoListing], rng: random.Random, filler: int) -> list[tuple[str, ...]]:
    rows: dict[tuple[str, str], tuple[str, ...]] = {}
    for listing in listings:
        if listing.expected_verdict == "unsafe" and (listing.brand, listing.model) not in rows:
            rows[listing.brand, listing.model] = (
                listing.brand,
                listing.model,
                listing.expected_tis or "",
                rng.choice(_REASONS),
                rng.choice(_SOURCES),
                f"{rng.randrange(2022, 2026)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            )
    bases = sorted(BRANDS_BY_BASE)
    for k in range(1, filler + 1):
        base = rng.choice(bases)
        brand = rng.choice(BRANDS_BY_BASE[base]).name
        model = f"X{base}-{rng.randrange(100, 1000)}R{k}"
        rows[brand, model] = (brand, model, TIS_BY_BASE[base], rng.choice(_REASONS), rng.choice(_SOURCES),
                              f"{rng.randrange(2022, 2026)}-{rng.randrange(1, 13):02d}-01")  # fmt: skip
    return list(rows.values())


def _write(path: Path, header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)
    return path


def write_registers(
    out_dir: Path, seed: int = 7, size: int = 40, filler: int = 200, last_day: int = 3
) -> dict[str, Path]:
    """Write licences.csv and unsafe.csv for the demo shops of (seed, size), days 1..last_day.

    Every licence a listing's text shows is there with the status its ground truth needs (a not_found
    licence is absent), plus `filler` licences that no listing's text shows: first those shown only in a
    product-label picture (active, so that reading images finds them valid), then licences of other
    products. Returns {"licences": path, "unsafe": path}.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    days = generate_days(seed, size, last_day)
    listings = [listing for day in days for listing in day]
    licences: dict[str, tuple[str, ...]] = {}
    pictured: dict[str, tuple[str, ...]] = {}
    top = 1000
    for listing in listings:
        shown = [(licences, listing.expected_licence_no, listing.expected_licence_status)]
        if listing.label is not None:
            shown.append((pictured, listing.label.licence_no, listing.label.licence_status))
        for table, number, status in shown:
            parts = _LICENCE.match(number or "")
            if parts is None or number is None:
                continue
            top = max(top, int(parts["serial"]))
            row = _licence_row(listing, number, status)
            if row is not None:
                table.setdefault(row[0], row)
    for number, row in pictured.items():
        licences.setdefault(number, row)
    rng = random.Random(f"{seed}:register")
    for row in _filler_rows(rng, max(0, filler - len(pictured)), top + 1):
        licences.setdefault(row[0], row)
    unsafe = _unsafe_rows(listings, rng, max(3, min(200, filler // 50)))
    return {
        "licences": _write(out_dir / "licences.csv", LICENCE_COLUMNS, licences.values()),
        "unsafe": _write(out_dir / "unsafe.csv", UNSAFE_COLUMNS, unsafe),
    }
