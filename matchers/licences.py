"""Licence verification: exists → active → for this product's standard → for this brand.

A licence for a component's standard (cable มอก. 11 on an extension cord) is not a licence for the
product: it is ``wrong_standard``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from core.numbers import parse_tis
from matchers.brandtext import brand_fits

STATUS_TH = {"revoked": "ถูกเพิกถอน", "suspended": "ถูกพักใช้", "expired": "หมดอายุ"}


class LicenceRecord(Protocol):
    @property
    def licence_no(self) -> str: ...
    @property
    def tis_number(self) -> str: ...
    @property
    def licensee(self) -> str: ...
    @property
    def brands(self) -> Sequence[str]: ...
    @property
    def status(self) -> str: ...
    def status_on(self, day: date) -> str: ...


@dataclass(frozen=True)
class LicenceCheck:
    """The outcome of checking one licence number: SPEC licence_status and a plain explanation."""

    status: str
    detail: str
    licence_no: str


def check_licence(
    canonical: str,
    licences: Mapping[str, LicenceRecord],
    tis_number: str,
    brand: str | None,
    on: date,
    brand_min_ratio: float = 90.0,
) -> LicenceCheck:
    """Check a licence number shown on day ``on`` for a product of standard ``tis_number`` and brand
    ``brand``; the brand must reach ``brand_min_ratio`` (rapidfuzz) against one of the licensee's."""
    record = licences.get(canonical)
    if record is None:
        return LicenceCheck(
            "not_found", f"ใบอนุญาต {canonical} ไม่พบในทะเบียน / licence not in the register", canonical
        )
    status = record.status_on(on)  # an active licence past its expiry date is expired
    if status != "active":
        return LicenceCheck(
            status, f"ใบอนุญาต {canonical}: {STATUS_TH.get(status, status)} / {status}", canonical
        )
    product, licensed = parse_tis(tis_number), parse_tis(record.tis_number)
    if product.base != licensed.base or (licensed.part and product.part and licensed.part != product.part):
        return LicenceCheck(
            "wrong_standard",
            f"ใบอนุญาต {canonical} เป็นของ มอก. {record.tis_number}, ไม่ใช่ {tis_number} / licence is for another standard",
            canonical,
        )
    if record.brands and brand and not brand_fits(brand, record.brands, brand_min_ratio):
        brands = ", ".join(record.brands)
        return LicenceCheck("wrong_brand", f"ใบอนุญาต {canonical} ครอบคลุมยี่ห้อ {brands} ไม่ใช่ {brand}", canonical)
    return LicenceCheck("valid", f"ใบอนุญาต {canonical} ถูกต้อง ({record.licensee}) / valid licence", canonical)
