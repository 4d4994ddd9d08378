"""The verdict: one of the SPEC's six, with its reasons as data.

Order of decision: not a controlled product → ``not_controlled`` (or ``needs_review`` in the band
just below the threshold); on the unsafe list → ``unsafe``; no licence shown → ``no_licence_shown``;
the licence shown checked against the register → ``licensed`` or ``invalid_licence``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from config import MatchConfig
from matchers.classify import Classifier
from matchers.licences import LicenceRecord, check_licence
from matchers.marks import listing_fields, read_licences, read_marks
from matchers.unsafe import UnsafeList

MATCHER_VERSION = "token-1"
"""Name of this scoring version, recorded on every verdict. A released version is never edited in
place: change the scoring, change the name."""


@dataclass(frozen=True)
class ListingFacts:
    title: str
    description: str = ""
    spec: Mapping[str, str] = field(default_factory=dict)
    brand: str | None = None
    model: str | None = None
    observed_on: date | None = None
    """The day the listing was seen (licence expiry is judged on it); None means today."""


@dataclass(frozen=True)
class Judgement:
    verdict: str
    licence_status: str | None
    tis_number: str | None
    score: float
    licence_claimed: str | None
    reasons: list[dict[str, Any]]


class Judge:
    """Judges listings under one register version."""

    def __init__(
        self,
        classifier: Classifier,
        licences: Mapping[str, LicenceRecord],
        unsafe: UnsafeList,
        config: MatchConfig,
    ) -> None:
        self.classifier = classifier
        self.licences = licences
        self.unsafe = unsafe
        self.config = config

    def judge(self, listing: ListingFacts) -> Judgement:
        fields = listing_fields(listing.title, listing.description, dict(listing.spec))
        marks = read_marks(fields)
        shown = read_licences(fields)
        text = self.classifier.read(listing.title, f"{listing.description} ; {fields[2][1]}", marks)
        candidates = self.classifier.candidates(text)
        reasons: list[dict[str, Any]] = []
        claimed = shown[0] if shown else None
        for licence in shown:
            reasons.append(
                {
                    "feature": "licence_number_shown",
                    "score": 1.0,
                    "detail": f"เลขใบอนุญาต / licence “{licence.text}” ({licence.where})",
                }
            )
        best = candidates[0] if candidates else None
        if best is None or best.score < self.config.min_category_score - self.config.review_band:
            if best is not None:
                reasons.extend(best.fired)
            reasons.append(
                {
                    "feature": "not_controlled",
                    "score": best.score if best else 0.0,
                    "detail": "ไม่ใช่สินค้าควบคุม / not a product under a compulsory standard",
                }
            )
            return Judgement("not_controlled", None, None, best.score if best else 0.0, None, reasons)
        if claimed is not None:  # prefer the candidate the licence is for, among those that score well
            for candidate in candidates:
                record = self.licences.get(claimed.canonical)
                if (
                    record
                    and candidate.score >= best.score - 0.05
                    and record.tis_number == candidate.entry.tis_number
                ):
                    best = candidate
                    break
        reasons[:0] = best.fired
        tis = best.entry.tis_number
        if best.score < self.config.min_category_score:
            reasons.append(
                {
                    "feature": "uncertain_category",
                    "score": best.score,
                    "detail": "หลักฐานไม่พอ ต้องให้เจ้าหน้าที่ตรวจ / evidence does not decide: officer review",
                }
            )
            return Judgement(
                "needs_review", None, tis, best.score, claimed.text if claimed else None, reasons
            )
        hit = self.unsafe.find(listing.brand, listing.model, f"{listing.title} {listing.description}")
        if hit is not None:
            reasons.append(
                {
                    "feature": "on_unsafe_list",
                    "score": 1.0,
                    "detail": f"อยู่ในรายการสินค้าไม่ปลอดภัย / on the unsafe list: {hit.brand} {hit.model} — {hit.reason}",
                }
            )
            return Judgement("unsafe", None, tis, best.score, claimed.text if claimed else None, reasons)
        if claimed is None:
            bare = any(mark.where for mark in text.marks)
            detail = (
                "แสดงเครื่องหมาย มอก. แต่ไม่มีเลขใบอนุญาต / TIS mark claimed, no licence number"
                if bare
                else "ไม่แสดงเลขใบอนุญาต / no licence number shown"
            )
            reasons.append({"feature": "no_licence_number", "score": 1.0, "detail": detail})
            return Judgement("no_licence_shown", None, tis, best.score, None, reasons)
        on = listing.observed_on or date.today()
        check = check_licence(
            claimed.canonical, self.licences, tis, listing.brand, on, self.config.brand_min_ratio
        )
        reasons.append({"feature": f"licence_{check.status}", "score": 1.0, "detail": check.detail})
        verdict = "licensed" if check.status == "valid" else "invalid_licence"
        return Judgement(verdict, check.status, tis, best.score, claimed.text, reasons)
