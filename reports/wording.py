"""Every phrase an officer reads in the reports: Thai first, English second, in one table.

A verdict and its licence status become a plain sentence (:func:`explain`); section and field names
come from :data:`LABELS`.
"""

from __future__ import annotations

from typing import NamedTuple


class Phrase(NamedTuple):
    """One phrase in Thai and in English."""

    th: str
    en: str

    def both(self) -> str:
        """``"ไทย · English"``, as the reports write it."""
        return f"{self.th} · {self.en}"


LABELS: dict[str, Phrase] = {
    "report": Phrase("รายงานการตรวจสินค้าออนไลน์ประจำวัน", "Daily online marketplace compliance report"),
    "date": Phrase("วันที่", "Date"),
    "generated": Phrase("สร้างเมื่อ", "Generated"),
    "register_version": Phrase("ฉบับทะเบียนมาตรฐาน", "Register version"),
    "summary": Phrase("สรุป", "Summary"),
    "listings": Phrase("ประกาศขายที่ตรวจ", "Listings checked"),
    "violations": Phrase("การละเมิดทั้งหมด", "All violations"),
    "new": Phrase("การละเมิดใหม่", "New violations"),
    "continuing": Phrase("การละเมิดต่อเนื่อง", "Continuing violations"),
    "resolved": Phrase("แก้ไขแล้ว", "Resolved"),
    "needs_review": Phrase("รอเจ้าหน้าที่ตรวจสอบ", "Needs review"),
    "compliant": Phrase("ถูกต้องหรือไม่ใช่สินค้าควบคุม", "Compliant or not controlled"),
    "unmatched": Phrase("ยังไม่ได้วิเคราะห์", "Not yet matched"),
    "charts": Phrase("แผนภูมิการละเมิด", "Violations in charts"),
    "by_standard": Phrase("ตามมาตรฐาน (มอก.)", "By standard (TIS)"),
    "by_site": Phrase("ตามเว็บไซต์", "By site"),
    "by_seller": Phrase("ตามผู้ขาย", "By seller"),
    "others": Phrase("อื่น ๆ", "others"),
    "sellers": Phrase("ผู้ขายที่มีการละเมิด", "Sellers with violations"),
    "repeat": Phrase("กระทำซ้ำ", "repeat offender"),
    "health": Phrase("สถานะการเก็บข้อมูล", "Crawl health"),
    "title": Phrase("ชื่อสินค้า", "Title"),
    "seller": Phrase("ผู้ขาย", "Seller"),
    "price": Phrase("ราคา", "Price"),
    "site": Phrase("เว็บไซต์", "Site"),
    "sites": Phrase("เว็บไซต์", "Sites"),
    "standard": Phrase("มาตรฐาน (มอก.)", "Standard (TIS)"),
    "licence_shown": Phrase("ใบอนุญาตที่แสดง", "Licence shown"),
    "licence_status": Phrase("สถานะใบอนุญาต", "Licence status"),
    "verdict": Phrase("ผลการตรวจ", "Verdict"),
    "status": Phrase("สถานะ", "Status"),
    "why": Phrase("เหตุผล", "Why"),
    "score": Phrase("คะแนนหมวดสินค้า", "Category score"),
    "first_seen": Phrase("พบครั้งแรก", "First seen"),
    "last_seen": Phrase("พบล่าสุด", "Last seen"),
    "observed_at": Phrase("เวลาที่ตรวจ", "Observed at"),
    "url": Phrase("ลิงก์ประกาศขาย", "Listing URL"),
    "open_listing": Phrase("เปิดหน้าประกาศขาย", "Open the listing"),
    "evidence": Phrase("หลักฐาน", "Evidence"),
    "warc": Phrase("ไฟล์ WARC", "WARC file"),
    "screenshot": Phrase("ภาพหน้าจอ", "Screenshot"),
    "listing_key": Phrase("รหัสประกาศ", "Listing key"),
    "count": Phrase("จำนวน", "Count"),
    "none": Phrase("ไม่มีรายการ", "None"),
    "not_shown": Phrase("ไม่แสดง", "not shown"),
    "unknown": Phrase("ไม่ทราบ", "unknown"),
    "more": Phrase("แสดงบางส่วน รายการทั้งหมดอยู่ใน report.xlsx", "partly shown; all rows are in report.xlsx"),
    "run_started": Phrase("เริ่มเก็บข้อมูล", "Run started"),
    "run_status": Phrase("ผลการเก็บ", "Run status"),
    "pages": Phrase("หน้า", "Pages"),
    "items": Phrase("รายการ", "Items"),
    "errors": Phrase("ข้อผิดพลาด", "Errors"),
    "failed_urls": Phrase("URL ที่ล้มเหลว", "Failed URLs"),
    "coverage": Phrase("ความครบของข้อมูล", "Field coverage"),
    "cov_title": Phrase("ชื่อ", "title"),
    "cov_price": Phrase("ราคา", "price"),
    "cov_seller": Phrase("ผู้ขาย", "seller"),
    "cov_licence_text": Phrase("ข้อความใบอนุญาต", "licence text"),
    "no_runs": Phrase("ยังไม่มีการเก็บข้อมูล", "No crawl runs yet"),
}

VERDICTS: dict[str, Phrase] = {
    "unsafe": Phrase("สินค้าไม่ปลอดภัย", "Known unsafe product"),
    "invalid_licence": Phrase("ใบอนุญาตไม่ถูกต้อง", "Invalid licence"),
    "no_licence_shown": Phrase("ไม่แสดงใบอนุญาต", "No licence shown"),
    "needs_review": Phrase("รอเจ้าหน้าที่ตรวจสอบ", "Needs review"),
    "licensed": Phrase("มีใบอนุญาตถูกต้อง", "Licensed"),
    "not_controlled": Phrase("ไม่ใช่สินค้าควบคุม", "Not controlled"),
}

LICENCE_STATUSES: dict[str, Phrase] = {
    "valid": Phrase("ใช้ได้", "valid"),
    "not_found": Phrase("ไม่พบในทะเบียน", "not in the register"),
    "revoked": Phrase("ถูกเพิกถอน", "revoked"),
    "suspended": Phrase("ถูกพักใช้", "suspended"),
    "expired": Phrase("หมดอายุ", "expired"),
    "wrong_standard": Phrase("ออกให้มาตรฐานอื่น", "for another standard"),
    "wrong_brand": Phrase("ออกให้ยี่ห้ออื่น", "for another brand"),
}

STATUSES: dict[str, Phrase] = {
    "new": Phrase("ใหม่", "new"),
    "continuing": Phrase("ต่อเนื่อง", "continuing"),
    "resolved": Phrase("แก้ไขแล้ว", "resolved"),
}

# (verdict, licence status) -> the reason in plain words; (verdict, None) is the verdict's general reason.
REASONS: dict[tuple[str, str | None], Phrase] = {
    ("unsafe", None): Phrase(
        "ยี่ห้อและรุ่นนี้อยู่ในรายการสินค้าไม่ปลอดภัย (เรียกคืน ยึด หรือไม่ผ่านการทดสอบ) ไม่ว่าจะแสดงใบอนุญาตหรือไม่",
        "This brand and model is on the known-unsafe list (recall, seizure or failed test), "
        "whatever licence is shown.",
    ),
    ("no_licence_shown", None): Phrase(
        "สินค้าอยู่ภายใต้มาตรฐานบังคับ แต่ไม่แสดงเลขที่ใบอนุญาต (การเขียนเพียงว่า “มอก.” ไม่ถือเป็นใบอนุญาต)",
        "A product under a compulsory standard, sold without a licence number "
        "(a bare “มอก.” claim is not a licence).",
    ),
    ("invalid_licence", None): Phrase(
        "แสดงใบอนุญาต แต่ใช้ไม่ได้กับสินค้านี้", "A licence is shown, but it is not valid for this product."
    ),
    ("invalid_licence", "not_found"): Phrase(
        "ไม่พบเลขที่ใบอนุญาตที่แสดงในทะเบียนของ สมอ.", "The licence number shown is not in the TISI register."
    ),
    ("invalid_licence", "revoked"): Phrase("ใบอนุญาตที่แสดงถูกเพิกถอนแล้ว", "The licence shown has been revoked."),
    ("invalid_licence", "suspended"): Phrase("ใบอนุญาตที่แสดงถูกพักใช้", "The licence shown is suspended."),
    ("invalid_licence", "expired"): Phrase("ใบอนุญาตที่แสดงหมดอายุแล้ว", "The licence shown has expired."),
    ("invalid_licence", "wrong_standard"): Phrase(
        "ใบอนุญาตที่แสดงออกให้สำหรับมาตรฐานอื่น ไม่ใช่มาตรฐานของสินค้านี้",
        "The licence shown is for another standard, not this product's.",
    ),
    ("invalid_licence", "wrong_brand"): Phrase(
        "ใบอนุญาตที่แสดงไม่ครอบคลุมยี่ห้อนี้", "The licence shown does not cover this brand."
    ),
    ("needs_review", None): Phrase(
        "หลักฐานยังไม่พอให้ตัดสิน ขอให้เจ้าหน้าที่ตรวจสอบ", "The evidence does not decide it; an officer should look."
    ),
    ("licensed", None): Phrase(
        "แสดงใบอนุญาตที่ถูกต้องสำหรับมาตรฐานของสินค้านี้", "Shows a valid licence for this product's standard."
    ),
    ("not_controlled", None): Phrase(
        "ไม่ใช่สินค้าภายใต้มาตรฐานบังคับ", "Not a product under a compulsory standard."
    ),
    ("unmatched", None): Phrase("ยังไม่ได้วิเคราะห์ประกาศนี้", "This listing has not been matched yet."),
}

GONE = Phrase("ประกาศขายถูกลบหรือไม่พบแล้ว", "The listing was removed or is no longer found.")


def verdict_name(verdict: str | None) -> Phrase:
    """The short name of a verdict (an unknown value is shown as it is)."""
    if verdict is None:
        return LABELS["unmatched"]
    return VERDICTS.get(verdict, Phrase(verdict, verdict))


def licence_status_name(status: str | None) -> Phrase | None:
    return None if status is None else LICENCE_STATUSES.get(status, Phrase(status, status))


def explain(verdict: str | None, licence_status: str | None = None, gone: bool = False) -> Phrase:
    """Why a listing has its verdict, in plain words (a removed listing says so)."""
    if gone:
        return GONE
    key = verdict or "unmatched"
    return REASONS.get((key, licence_status)) or REASONS.get((key, None)) or verdict_name(verdict)
