"""The verdict: one of the SPEC's six, with its reasons as data.

Order of decision: not a controlled product → ``not_controlled`` (or ``needs_review`` in the band
just below the threshold); on the unsafe list → ``unsafe``; no licence shown → ``no_licence_shown``;
the licence shown checked against the register → ``licensed`` or ``invalid_licence``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from config import MatchConfig
from core.text import clean_text
from core.verdicts import INVALID_LICENCE, LICENSED, NEEDS_REVIEW, NO_LICENCE_SHOWN, NOT_CONTROLLED, UNSAFE
from matchers.brandtext import BrandReader, BrandSeen, brand_read
from matchers.classify import Candidate, Classifier
from matchers.features import ListingText, look_alike_word
from matchers.images import ImageReading, image_fields
from matchers.licences import LicenceCheck, LicenceRecord, check_licence
from matchers.marks import LicenceText, listing_fields, read_licences, read_marks
from matchers.reasons import brand_reason, evidence, fake_qr, images_read, pictures, place, qr_reason, reason
from matchers.tisiqr import tisi_qr_url
from matchers.unsafe import UnsafeHit, UnsafeList

MATCHER_VERSION = "token-6"
"""Name of this scoring version, recorded on every verdict. A released version is never edited in
place: change the scoring, change the name. ``token-3``: as ``token-2``, but a licence shown is never
judged against a licence register that was never imported (officer review instead of ``not_found``),
and a verdict made without an unsafe list says so. ``token-4``: as ``token-3``, but a listing without a
brand field has its licence's brand checked against the known brand its title (else description or
spec table) names (``brand_from_text``; none named: not checked, as before), and a QR code in a picture
posing as TISI's but leading elsewhere is a reason for the flag (``qr_not_tisi``): a verdict that would
be ``licensed`` goes to officer review. ``token-5``: as ``token-4``, but ``look_alike_word`` also fires
when the title's product word is not its item (``matchers.itemhead``: named after a fitment word,
joined after another Thai noun, or qualifying an English noun), and an exclusion word in a bundle with
the product (``เคสใส + พาวเวอร์แบงค์``) no longer makes the listing a look-alike. ``token-6``: as
``token-5``, but a Thai title whose first piece names an item and no product (``ผงล้างตะกรัน
กระติกน้ำร้อน``: it opens with a Thai class noun or holds an item noun of the register; not a brand
written in Thai, a seller's tag, stock phrase or known brand) makes the product words after it what
the item fits (``itemhead.lead_item``), and a single English word between a product word and a fitment
word must be an item noun of the register for the product to be only what it fits (``power bank slim
for iPhone`` is a power bank)."""


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
    """Judges listings under one register version; ``missing``: the registers that were never
    imported (``licences``, ``unsafe``), which the verdicts then cannot rest on."""

    def __init__(
        self,
        classifier: Classifier,
        licences: Mapping[str, LicenceRecord],
        unsafe: UnsafeList,
        config: MatchConfig,
        missing: Collection[str] = (),
    ) -> None:
        self.classifier = classifier
        self.licences = licences
        self.unsafe = unsafe
        self.config = config
        self.without_licences = "licences" in missing
        self.without_unsafe = "unsafe" in missing
        self._brands: BrandReader | None = None

    def judge(self, listing: ListingFacts, images: Sequence[ImageReading] = ()) -> Judgement:
        """The verdict on a listing; ``images``: what its product images show (OCR text and QR
        codes, read by the match stage when ``match.read_images`` is on), read like its text."""
        judgement = self._judge(listing, images)
        if judgement.verdict != NOT_CONTROLLED and (posing := fake_qr(images)):
            judgement.reasons.append(qr_reason(posing))
            if judgement.verdict == LICENSED:  # the licence checks out, the picture does not
                judgement = replace(judgement, verdict=NEEDS_REVIEW, licence_status=None)
        if self.without_unsafe:
            judgement.reasons.append(
                reason(
                    "unsafe_list_missing",
                    "ไม่ได้ตรวจกับรายการสินค้าไม่ปลอดภัย เพราะยังไม่ได้นำเข้า / "
                    "not checked against the unsafe list: none was imported",
                )
            )
        return judgement

    def _judge(self, listing: ListingFacts, images: Sequence[ImageReading]) -> Judgement:
        fields = [
            (where, clean_text(raw))
            for where, raw in listing_fields(listing.title, listing.description, listing.spec)
        ]
        readable = fields + [(where, clean_text(raw)) for where, raw in image_fields(images)]
        marks = read_marks(readable, cleaned=True)
        shown = read_licences(readable, cleaned=True)
        body = f"{fields[1][1]} ; {fields[2][1]}"
        text = self.classifier.read(fields[0][1], body, marks, cleaned=True, brand=listing.brand)
        candidates = self.classifier.candidates(text)
        reasons: list[dict[str, Any]] = [
            {
                "feature": "licence_number_shown",
                "score": 1.0,
                "detail": f"เลขใบอนุญาต / licence “{licence.text}” ({place(licence.where, images)})",
                **evidence(pictures(licence.where, images)),
            }
            for licence in shown
        ]
        best = candidates[0] if candidates else None
        score = best.score if best else 0.0
        claimed = shown[0].text if shown else None
        hit = self.unsafe.find(listing.brand, listing.model, f"{fields[0][1]} {fields[1][1]}")
        if hit is not None and not self._look_alike(best, hit, text):  # whatever licence is shown
            reasons[:0] = best.fired if best else []
            reasons.append(
                reason(
                    "on_unsafe_list",
                    f"อยู่ในรายการสินค้าไม่ปลอดภัย / on the unsafe list: {hit.brand} {hit.model} — {hit.reason}",
                )
            )
            tis = hit.tis_number or (best.entry.tis_number if best else None)
            return Judgement(UNSAFE, None, tis, score, claimed, reasons)
        if best is not None and _number_only(best):
            return self._number_only(listing, best, shown, reasons)
        if best is None or score < self.config.min_category_score - self.config.review_band:
            reasons.extend(best.fired if best else [])
            reasons.append(reason("not_controlled", _NOT_CONTROLLED[_accessory(best)], score))
            return Judgement(NOT_CONTROLLED, None, None, score, None, reasons)
        reasons[:0] = best.fired
        tis = best.entry.tis_number
        if score < self.config.min_category_score or (_doubt(best) and not self._valid(listing, tis, shown)):
            reasons.append(
                reason(
                    "uncertain_category",
                    "หลักฐานไม่พอ ต้องให้เจ้าหน้าที่ตรวจ / evidence does not decide: officer review",
                    score,
                )
            )
            return Judgement(NEEDS_REVIEW, None, tis, score, claimed, reasons)
        if not shown and (coded := [reading for reading in images if reading.tisi_qr]):
            reasons.append(
                reason(
                    "tisi_qr_in_image",
                    "มี QR ของ สมอ. ในรูป แต่ไม่มีเลขใบอนุญาตที่อ่านได้ ต้องให้เจ้าหน้าที่ตรวจ / "
                    f"a TISI QR code in a picture, no readable licence number: officer review — "
                    f"{tisi_qr_url(coded[0].tisi_qr[0])}, read from image {coded[0].cite()}",
                )
                | evidence(coded)
            )
            return Judgement(NEEDS_REVIEW, None, tis, score, None, reasons)
        if not shown:
            detail = (
                "แสดงเครื่องหมาย มอก. แต่ไม่มีเลขใบอนุญาต / TIS mark claimed, no licence number"
                if text.marks
                else "ไม่แสดงเลขใบอนุญาต / no licence number shown"
            )
            reasons.append(reason("no_licence_number", detail))
            if images:
                reasons.append(images_read(images))
            return Judgement(NO_LICENCE_SHOWN, None, tis, score, None, reasons)
        if self.without_licences:
            reasons.append(
                reason(
                    "licence_register_missing",
                    "ตรวจเลขใบอนุญาตไม่ได้ เพราะยังไม่ได้นำเข้าทะเบียนใบอนุญาต ต้องให้เจ้าหน้าที่ตรวจ / "
                    "the licence shown could not be checked: no licence register was imported; officer review",
                )
            )
            return Judgement(NEEDS_REVIEW, None, tis, score, shown[0].text, reasons)
        licence, check, seen = self._check(listing, tis, shown)
        reasons.append(reason(f"licence_{check.status}", check.detail))
        if seen is not None and check.status in ("valid", "wrong_brand"):  # where the brand decided
            reasons.append(brand_reason(seen))
        if check.status == "not_found" and licence.where.startswith("image "):
            reasons.append(
                reason(
                    "read_from_image",
                    "อ่านจากรูป อาจอ่านผิด ต้องให้เจ้าหน้าที่ตรวจ / read from a picture, OCR may have misread it: officer review",
                )
                | evidence(pictures(licence.where, images))
            )
            return Judgement(NEEDS_REVIEW, None, tis, score, licence.text, reasons)
        verdict = LICENSED if check.status == "valid" else INVALID_LICENCE
        return Judgement(verdict, check.status, tis, score, licence.text, reasons)

    def _check(
        self, listing: ListingFacts, tis: str, shown: Sequence[LicenceText]
    ) -> tuple[LicenceText, LicenceCheck, BrandSeen | None]:
        """The licence that decides among those shown: a valid one, else the one closest to being
        this product's licence (for its standard rather than another's), else the first; with the
        brand read from the text when the listing has no brand field."""
        on = listing.observed_on or date.today()
        checks = []
        for licence in shown:
            seen = None if listing.brand else self._brand_read(listing, licence.canonical)
            brand = seen.brand if seen else listing.brand
            check = check_licence(
                licence.canonical, self.licences, tis, brand, on, self.config.brand_min_ratio
            )
            checks.append((licence, check, seen))
        return min(checks, key=lambda found: _CLOSENESS.index(found[1].status))

    def _brand_read(self, listing: ListingFacts, canonical: str) -> BrandSeen | None:
        """The brand the text of a listing without a brand field names, for the licence ``canonical``
        (None when the register lists no brands for it, or the text names no known brand)."""
        record = self.licences.get(canonical)
        if record is None or not record.brands:
            return None
        if self._brands is None:  # the registers' brands, read once, on the first listing that needs them
            known = {brand for each in self.licences.values() for brand in each.brands}
            self._brands = BrandReader(known, self.classifier.segmenter.tokens, self.classifier.words)
        _, description, spec = listing_fields(listing.title, listing.description, listing.spec)
        body = f"{clean_text(description[1])} ; {clean_text(spec[1])}"
        return brand_read(
            self._brands, clean_text(listing.title), body, record.brands, self.config.brand_min_ratio
        )

    def _look_alike(self, best: Candidate | None, hit: UnsafeHit, text: ListingText) -> bool:
        """Whether the title names a look-alike or accessory of the listed product (a case that fits
        a listed power bank is not the power bank), as the ``look_alike_word`` feature decides: an
        exclusion word that names a part of the item (``หม้อหุงข้าว … หม้อในเคลือบ`` is
        still the rice cooker) does not count."""
        if _accessory(best):
            return True
        entry = self.classifier.entry(hit.tis_number) if hit.tis_number else None
        return entry is not None and look_alike_word(text, entry, self.config) is not None

    def _valid(self, listing: ListingFacts, tis: str, shown: Sequence[LicenceText]) -> bool:
        """Whether a licence shown is valid for this product."""
        return bool(shown) and self._check(listing, tis, shown)[1].status == "valid"

    def _number_only(
        self,
        listing: ListingFacts,
        best: Candidate,
        shown: Sequence[LicenceText],
        reasons: list[dict[str, Any]],
    ) -> Judgement:
        """A listing whose only sign of a controlled product is a TIS number it shows: licensed when
        a licence shown is valid for that standard, otherwise for an officer to look at."""
        reasons[:0] = best.fired
        tis = best.entry.tis_number
        if shown:
            licence, check, seen = self._check(listing, tis, shown)
            if check.status == "valid":
                reasons.append(reason("licence_valid", check.detail))
                if seen is not None:
                    reasons.append(brand_reason(seen))
                return Judgement(LICENSED, "valid", tis, best.score, licence.text, reasons)
        reasons.append(
            reason(
                "number_without_product_words",
                "แสดงเลข มอก. แต่ไม่มีคำที่บอกว่าเป็นสินค้าอะไร ต้องให้เจ้าหน้าที่ตรวจ / shows a TIS number but no product words: officer review",
                best.score,
            )
        )
        return Judgement(NEEDS_REVIEW, None, tis, best.score, shown[0].text if shown else None, reasons)


_CLOSENESS = ["valid", "wrong_brand", "expired", "suspended", "revoked", "wrong_standard", "not_found"]
"""Licence check outcomes from the closest to a valid licence for this product to the farthest."""


_NOT_CONTROLLED = {
    False: "ไม่ใช่สินค้าควบคุม / not a product under a compulsory standard",
    True: "ไม่ใช่สินค้าควบคุม เป็นอุปกรณ์เสริม อะไหล่ หรือสินค้าคล้าย / not a product under a compulsory "
    "standard: an accessory, part or look-alike of one",
}


def _accessory(candidate: Candidate | None) -> bool:
    """Whether the title names an accessory, part or look-alike of the candidate's product."""
    return candidate is not None and any(f["feature"] == "look_alike_word" for f in candidate.fired)


def _doubt(candidate: Candidate) -> bool:
    """Whether a word puts the listing at the edge of the standard's scope."""
    return any(f["feature"] == "scope_doubt_word" for f in candidate.fired)


def _number_only(candidate: Candidate) -> bool:
    return bool(candidate.fired) and all(f["feature"] == "tis_number_shown" for f in candidate.fired)
