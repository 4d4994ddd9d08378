"""Every phrase an officer reads in the reports: Thai first, English second, in one table.

A verdict and its licence status become a plain sentence (:func:`explain`); section and field names
come from :data:`LABELS`. The matcher's category score is said as how sure it is that a listing is a
controlled product (:func:`certainty`), and a register that is missing, empty or old as a warning
(:func:`register_notice`).
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
    "register_version": Phrase("ฉบับทะเบียน", "Register version"),
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
    "score": Phrase("ความมั่นใจว่าเป็นสินค้าควบคุม", "Certainty that it is a controlled product"),
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
    "run_note": Phrase("หมายเหตุ", "Note"),
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
    "open": Phrase("การละเมิดที่ยังอยู่", "Open violations"),
    "resolved_today": Phrase("แก้ไขวันนี้", "Resolved today"),
    "listings_ever": Phrase("ประกาศที่เคยละเมิด", "Violating listings, all days"),
    "days": Phrase("จำนวนวันที่พบการละเมิด", "Days seen violating"),
    "first_violation": Phrase("พบการละเมิดครั้งแรก", "First violation seen"),
    "seller_listings": Phrase("ประกาศที่ละเมิดอยู่", "Open violating listings"),
    "alerts": Phrase("การแจ้งเตือน", "Alerts"),
    "no_alerts": Phrase("ไม่มีการแจ้งเตือน", "No alerts"),
    "kind": Phrase("ประเภท", "Kind"),
    "message": Phrase("รายละเอียด", "Message"),
    "standard_name": Phrase("ชื่อมาตรฐาน", "Standard name"),
    "registers": Phrase("ทะเบียนที่ใช้ตรวจ", "Registers used"),
    "register": Phrase("ทะเบียน", "Register"),
    "version": Phrase("ฉบับที่", "Version"),
    "source_file": Phrase("ไฟล์ที่นำเข้า", "File imported"),
    "imported_at": Phrase("นำเข้าเมื่อ", "Imported"),
    "age_days": Phrase("อายุ (วัน)", "Age (days)"),
    "rows": Phrase("จำนวนรายการ", "Rows"),
    "never_imported": Phrase("ยังไม่เคยนำเข้า", "never imported"),
    "verdict_versions": Phrase("ผลการตรวจตัดสินภายใต้ทะเบียนฉบับที่", "Verdicts made under register version"),
    "older_version": Phrase(
        "เก่ากว่าฉบับที่ใช้อยู่ ยังไม่ได้ตรวจใหม่", "older than the register in force, not yet matched again"
    ),
    "due": Phrase("รอการตัดสินของเจ้าหน้าที่", "Decisions due"),
    "decisions_due": Phrase("รอการตัดสิน", "Decisions due"),
    "dismissed": Phrase("เจ้าหน้าที่ยกเลิกแล้ว (ไม่ใช่การละเมิด)", "Dismissed by an officer"),
    "decision": Phrase("การตัดสินของเจ้าหน้าที่", "Officer's decision"),
    "no_decision": Phrase("ยังไม่ตัดสิน", "not decided"),
    "decided_by": Phrase("ตัดสินโดย", "Decided by"),
    "decided_at": Phrase("ตัดสินเมื่อ", "Decided"),
    "since": Phrase("ละเมิดตั้งแต่", "Violating since"),
    "open_workspace": Phrase("เปิดในระบบงาน", "Open in the workspace"),
    "continuing_note": Phrase(
        "หนึ่งแถวต่อหนึ่งประกาศ คลิกชื่อสินค้าเพื่อเปิดหน้าประกาศในระบบงาน รายละเอียดทั้งหมดอยู่ใน report.xlsx",
        "One row per listing; a title opens the listing's page in the workspace; every detail is in report.xlsx",
    ),
    "capped": Phrase(
        "หน้านี้แสดงไม่เกิน {cards} รายการต่อหมวด รายการทั้งหมดอยู่ใน report.xlsx, findings.csv และ findings.json",
        "This page shows at most {cards} listings per section; every one is in report.xlsx, findings.csv and "
        "findings.json",
    ),
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

DECISIONS: dict[str, Phrase] = {
    "confirmed": Phrase("ยืนยันว่าละเมิด", "confirmed"),
    "dismissed": Phrase("ยกเลิก", "dismissed"),
    "needs_information": Phrase("ต้องการข้อมูลเพิ่ม", "needs information"),
}
CHANGED_SINCE_DISMISSED = Phrase("ประกาศเปลี่ยนไปหลังถูกยกเลิก", "changed since dismissed")

DISMISS_REASONS: dict[str, Phrase] = {
    "not_controlled": Phrase("ไม่ใช่สินค้าควบคุม", "not a controlled product"),
    "licence_valid": Phrase("ใบอนุญาตถูกต้อง", "licence is valid"),
    "duplicate": Phrase("ซ้ำกับรายการอื่น", "duplicate"),
    "other": Phrase("อื่น ๆ", "other"),
}

QC_RESULTS: dict[str, Phrase] = {
    "passed": Phrase("หัวหน้าตรวจผ่าน", "checked: passed"),
    "returned": Phrase("หัวหน้าส่งกลับ", "checked: returned"),
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

# verdict reason features (the matcher's feature names) -> what each says, in plain words
FEATURES: dict[str, Phrase] = {
    "keyword_in_title": Phrase("ชื่อสินค้ามีคำที่ระบุสินค้าควบคุม", "The title names a controlled product"),
    "keyword_in_description": Phrase(
        "รายละเอียดหรือสเปกมีคำที่ระบุสินค้าควบคุม", "The description or spec names a controlled product"
    ),
    "keyword_misspelt_in_title": Phrase(
        "ชื่อสินค้ามีคำที่สะกดใกล้เคียงสินค้าควบคุม", "The title nearly spells a controlled product"
    ),
    "named_first": Phrase("ชื่อสินค้าขึ้นต้นด้วยสินค้าควบคุม", "The title names this product first"),
    "tis_number_shown": Phrase("แสดงเลข มอก. ของมาตรฐานนี้", "Shows this standard's TIS number"),
    "look_alike_word": Phrase(
        "เป็นสินค้าคล้ายหรืออุปกรณ์เสริม ไม่ใช่ตัวสินค้า", "A look-alike or accessory, not the product itself"
    ),
    "scope_doubt_word": Phrase("อาจอยู่นอกขอบข่ายของมาตรฐาน", "May be outside the standard's scope"),
    "licence_number_shown": Phrase("แสดงเลขที่ใบอนุญาต", "Shows a licence number"),
    "no_licence_number": Phrase("ไม่แสดงเลขที่ใบอนุญาต", "Shows no licence number"),
    "on_unsafe_list": Phrase("อยู่ในรายการสินค้าไม่ปลอดภัย", "On the known-unsafe list"),
    "not_controlled": Phrase("ไม่ใช่สินค้าควบคุม", "Not a controlled product"),
    "uncertain_category": Phrase("ไม่แน่ชัดว่าเป็นสินค้าควบคุม", "Not clearly a controlled product"),
    "number_without_product_words": Phrase(
        "แสดงเลข มอก. แต่ไม่บอกว่าเป็นสินค้าอะไร", "Shows a TIS number but no product words"
    ),
    "tisi_qr_in_image": Phrase("มี QR ของ สมอ. ในรูป", "A TISI QR code in a picture"),
    "read_from_image": Phrase("อ่านจากรูปสินค้า อาจอ่านผิด", "Read from a product picture; may be misread"),
    "images_without_licence": Phrase(
        "อ่านรูปสินค้าแล้ว ไม่พบเลขใบอนุญาต", "Product pictures read: no licence number in them"
    ),
    "qr_not_tisi": Phrase(
        "QR ในรูปไม่ได้นำไปยังระบบใบอนุญาตของ สมอ. (อาจปลอม)",
        "A QR code in a picture does not lead to TISI's licence service (may be fake)",
    ),
    "brand_from_text": Phrase(
        "ไม่มีช่องยี่ห้อ ยี่ห้อที่ตรวจกับใบอนุญาตอ่านจากชื่อหรือรายละเอียดสินค้า",
        "No brand field: the brand checked against the licence was read from the title or description",
    ),
    "licence_valid": Phrase("ใบอนุญาตใช้ได้", "The licence is valid"),
    "licence_not_found": Phrase("ไม่พบใบอนุญาตในทะเบียน", "The licence is not in the register"),
    "licence_revoked": Phrase("ใบอนุญาตถูกเพิกถอน", "The licence is revoked"),
    "licence_suspended": Phrase("ใบอนุญาตถูกพักใช้", "The licence is suspended"),
    "licence_expired": Phrase("ใบอนุญาตหมดอายุ", "The licence has expired"),
    "licence_wrong_standard": Phrase("ใบอนุญาตออกให้มาตรฐานอื่น", "The licence is for another standard"),
    "licence_wrong_brand": Phrase("ใบอนุญาตออกให้ยี่ห้ออื่น", "The licence is for another brand"),
    "licence_register_missing": Phrase(
        "ตรวจใบอนุญาตไม่ได้ เพราะยังไม่ได้นำเข้าทะเบียนใบอนุญาต",
        "The licence could not be checked: no licence register was imported",
    ),
    "unsafe_list_missing": Phrase(
        "ยังไม่ได้ตรวจกับรายการสินค้าไม่ปลอดภัย (ยังไม่ได้นำเข้า)",
        "Not checked against the unsafe list: none was imported",
    ),
}

ALERTS: dict[str, Phrase] = {
    "no_items": Phrase("ไม่ได้ข้อมูลสินค้าเลย", "No items stored"),
    "coverage_drop": Phrase("ความครบของข้อมูลลดลง", "Field coverage dropped"),
    "error_spike": Phrase("ข้อผิดพลาดเพิ่มขึ้นผิดปกติ", "Error rate spiked"),
    "blocked": Phrase("เว็บไซต์ปิดกั้นการเก็บข้อมูล", "Site blocked the crawl"),
}

REGISTERS: dict[str, Phrase] = {
    "standards": Phrase("ทะเบียนมาตรฐานบังคับ", "standards register"),
    "licences": Phrase("ทะเบียนใบอนุญาต", "licence register"),
    "unsafe": Phrase("รายการสินค้าไม่ปลอดภัย", "known-unsafe list"),
}

# (register kind, problem) -> the warning an officer reads at the top of the report
REGISTER_NOTICES: dict[tuple[str, str], Phrase] = {
    ("standards", "missing"): Phrase(
        "ยังไม่มีทะเบียนมาตรฐานบังคับ: ไม่มีประกาศขายใดถูกระบุว่าเป็นสินค้าควบคุม",
        "The standards register was never imported: no listing could be recognised as a controlled product.",
    ),
    ("standards", "empty"): Phrase(
        "ทะเบียนมาตรฐานบังคับที่นำเข้าไม่มีมาตรฐานเลย: ไม่มีประกาศขายใดถูกระบุว่าเป็นสินค้าควบคุม",
        "The standards register holds no standards: no listing could be recognised as a controlled product.",
    ),
    ("licences", "missing"): Phrase(
        "ยังไม่เคยนำเข้าทะเบียนใบอนุญาต: เลขที่ใบอนุญาตที่แสดงในประกาศขายจึงตรวจสอบไม่ได้",
        "The licence register was never imported: licence numbers shown in listings could not be checked.",
    ),
    ("licences", "empty"): Phrase(
        "ทะเบียนใบอนุญาตที่นำเข้าไม่มีใบอนุญาตเลย: เลขที่ใบอนุญาตที่แสดงในประกาศขายจึงตรวจสอบไม่ได้",
        "The licence register holds no licences: licence numbers shown in listings could not be checked.",
    ),
    ("unsafe", "missing"): Phrase(
        "ยังไม่เคยนำเข้ารายการสินค้าไม่ปลอดภัย: ไม่ได้ตรวจว่าสินค้าถูกเรียกคืน ถูกยึด หรือไม่ผ่านการทดสอบ",
        "The known-unsafe list was never imported: listings were not checked against recalls, seizures and "
        "failed tests.",
    ),
    ("unsafe", "empty"): Phrase(
        "รายการสินค้าไม่ปลอดภัยที่นำเข้าว่างเปล่า: ไม่ได้ตรวจว่าสินค้าถูกเรียกคืน ถูกยึด หรือไม่ผ่านการทดสอบ",
        "The known-unsafe list holds no products: listings were not checked against recalls, seizures and "
        "failed tests.",
    ),
}
STALE_NOTICE = Phrase(
    "{kind}นำเข้าเมื่อ {days} วันก่อน (เกิน {limit} วัน) อาจไม่เป็นปัจจุบัน ควรนำเข้าฉบับใหม่",
    "The {kind} was imported {days} days ago (more than {limit}): it may be out of date; import a newer one.",
)

CERTAINTY: dict[str, Phrase] = {
    "high": Phrase("สูง", "high"),
    "medium": Phrase("ปานกลาง", "medium"),
    "low": Phrase("ต่ำ", "low"),
}

CATEGORY_SCORE_FEATURES = frozenset({"not_controlled", "uncertain_category", "number_without_product_words"})
"""Reasons whose score is the listing's category score itself."""
WEIGHED_FEATURES = frozenset(
    {
        "keyword_in_title",
        "keyword_in_description",
        "keyword_misspelt_in_title",
        "named_first",
        "tis_number_shown",
        "look_alike_word",
        "scope_doubt_word",
    }
)
"""Reasons whose score is what their feature adds to (or takes off) the category score."""

GONE = Phrase("ประกาศขายถูกลบหรือไม่พบแล้ว", "The listing was removed or is no longer found.")


class Bands(NamedTuple):
    """Where the matcher draws its lines on the category score (``[match]``): at ``controlled``
    (min_category_score) and above a listing is a controlled product; from ``review``
    (min_category_score - review_band) up to it, an officer looks; below ``review``, it is not one."""

    controlled: float = 0.6
    review: float = 0.6 - 0.15


DEFAULT_BANDS = Bands()


def certainty(score: float | None, bands: Bands = DEFAULT_BANDS) -> Phrase | None:
    """How sure the matcher is that a listing is a controlled product, in a word: high, medium or low,
    by the lines the matcher itself decides at."""
    if score is None:
        return None
    if score >= bands.controlled:
        return CERTAINTY["high"]
    return CERTAINTY["medium"] if score >= bands.review else CERTAINTY["low"]


def reason_score(feature: str, score: object, bands: Bands = DEFAULT_BANDS) -> Phrase | None:
    """A reason's score in words: for the reasons that carry the category score, how sure the matcher
    is; for the features it adds up, how much each adds or takes off; for others (licence checks,
    whose score says nothing), None."""
    if not isinstance(score, int | float) or isinstance(score, bool):
        return None
    if feature in CATEGORY_SCORE_FEATURES:
        word = certainty(score, bands) or CERTAINTY["low"]
        return Phrase(f"ความมั่นใจ{word.th} ({score:.2f})", f"certainty {word.en} ({score:.2f})")
    if feature in WEIGHED_FEATURES and score:
        if score > 0:
            return Phrase(f"เพิ่มความมั่นใจ +{score:.2f}", f"adds {score:.2f} to the certainty")
        return Phrase(f"ลดความมั่นใจ −{-score:.2f}", f"takes {-score:.2f} off the certainty")
    return None


def register_notice(kind: str, problem: str, days: int | None = None, limit: int | None = None) -> Phrase:
    """The warning for a register that is missing, empty or stale (``days`` old, over ``limit``)."""
    if problem == "stale":
        name = REGISTERS.get(kind, Phrase(kind, kind))
        return Phrase(
            STALE_NOTICE.th.format(kind=name.th, days=days, limit=limit),
            STALE_NOTICE.en.format(kind=name.en, days=days, limit=limit),
        )
    return REGISTER_NOTICES.get((kind, problem), Phrase(f"{kind}: {problem}", f"{kind}: {problem}"))


def register_name(kind: str) -> Phrase:
    return REGISTERS.get(kind, Phrase(kind, kind))


def verdict_name(verdict: str | None) -> Phrase:
    """The short name of a verdict (an unknown value is shown as it is)."""
    if verdict is None:
        return LABELS["unmatched"]
    return VERDICTS.get(verdict, Phrase(verdict, verdict))


def licence_status_name(status: str | None) -> Phrase | None:
    return None if status is None else LICENCE_STATUSES.get(status, Phrase(status, status))


def feature_name(feature: str) -> Phrase:
    """What a verdict reason's feature says (an unknown feature is shown by its name)."""
    return FEATURES.get(feature, Phrase(feature, feature))


def alert_name(kind: str) -> Phrase:
    return ALERTS.get(kind, Phrase(kind, kind))


def explain(verdict: str | None, licence_status: str | None = None, gone: bool = False) -> Phrase:
    """Why a listing has its verdict, in plain words (a removed listing says so)."""
    if gone:
        return GONE
    key = verdict or "unmatched"
    return REASONS.get((key, licence_status)) or REASONS.get((key, None)) or verdict_name(verdict)


def decision_name(decision: str | None, changed: bool = False) -> Phrase:
    """An officer's decision in words (``changed``: a dismissal whose listing has changed since)."""
    if decision is None:
        return LABELS["no_decision"]
    if changed:
        return CHANGED_SINCE_DISMISSED
    return DECISIONS.get(decision, Phrase(decision, decision))


def dismiss_reason_name(reason: str | None) -> Phrase | None:
    return None if reason is None else DISMISS_REASONS.get(reason, Phrase(reason, reason))


def qc_name(result: str | None) -> Phrase | None:
    return None if result is None else QC_RESULTS.get(result, Phrase(result, result))
