"""A listing's page in the workspace and its evidence.

``GET /listing?key=<listing_key>``: the listing's history, what changed, the verdicts and their
reasons, the licence register's entry, the seller's other listings, the officers' decisions (with the
buttons that post to ``POST /decisions``) and the evidence with its SHA-256.

``GET /evidence/{observation_id}/page`` replays the page as fetched from its WARC record, in a sandbox:
the answer's Content-Security-Policy (:data:`SANDBOX`) runs no script and loads nothing (only inline
``data:`` images and inline styles), and the listing page shows it in an ``<iframe sandbox>``.
``/screenshot`` and ``/image/{n}`` serve the screenshot and a product image's record. Each answer
says in ``Tisiwatch-Evidence-Verified`` whether its SHA-256 is still the one recorded at the crawl
(``yes``, ``no``, ``unknown``). An id that is not a number, or evidence that cannot be read from inside
the data directory, is 404.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from config import Settings
from core.decisions import DISMISS_REASONS
from core.verdicts import COMPLIANT, VIOLATIONS
from reports import replay, wording
from reports.listing import listing_history
from reports.wording import Phrase
from web.guard import Person, allow, db
from web.render import page

router = APIRouter()

Reader = Annotated[Person, Depends(allow("read"))]
Db = Annotated[Session, Depends(db)]

SANDBOX = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""The policy of every evidence answer: a sandbox (no script, no forms, an opaque origin), nothing
fetched from anywhere."""
VERIFIED = {True: "yes", False: "no", None: "unknown"}
NOT_FOUND = "ไม่พบหลักฐาน · No such evidence"
CHANGE_NAMES = {
    "title": Phrase("ชื่อสินค้า", "title"),
    "description": Phrase("รายละเอียด", "description"),
    "price": Phrase("ราคา", "price"),
    "seller": Phrase("ผู้ขาย", "seller"),
    "spec": Phrase("ข้อมูลจำเพาะ", "spec"),
    "images": Phrase("รูปภาพ", "images"),
    "licence": Phrase("ใบอนุญาตที่แสดง", "licence shown"),
    "gone": Phrase("ถูกลบ/กลับมา", "removed or back"),
}
DECISION_NAMES = {
    "confirmed": Phrase("ยืนยันว่าผิด", "Confirmed"),
    "dismissed": Phrase("ไม่ผิด (ยกเลิก)", "Dismissed"),
    "needs_information": Phrase("ต้องการข้อมูลเพิ่ม", "Needs information"),
}
REASON_NAMES = {
    "not_controlled": Phrase("ไม่ใช่สินค้าควบคุม", "not a controlled product"),
    "licence_valid": Phrase("ใบอนุญาตถูกต้อง", "licence is valid"),
    "duplicate": Phrase("ซ้ำกับรายการอื่น", "duplicate"),
    "other": Phrase("อื่น ๆ (ระบุในบันทึก)", "other (say in the note)"),
}
NAMES: dict[str, Any] = {
    "wording": wording,
    "violations": VIOLATIONS,
    "compliant": COMPLIANT,
    "change_names": CHANGE_NAMES,
    "decision_names": DECISION_NAMES,
    "reason_names": REASON_NAMES,
}
"""What the listing and seller templates name things with."""


def web_url(url: str | None) -> str | None:
    """``url`` if it is an http(s) address a link may point at, else None (``javascript:`` and such)."""
    text = (url or "").strip()
    return text if text.lower().startswith(("https://", "http://")) and len(text) <= 4000 else None


def data_dir(request: Request) -> Path:
    settings: Settings = request.app.state.settings
    return settings.data_dir


def _number(text: str) -> int:
    """A path id: digits only (at most 18), else 404."""
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    return int(text)


@router.get("/listing", response_class=HTMLResponse)
def listing_page(request: Request, session: Db, person: Reader, key: str = "") -> Response:
    history = listing_history(session, key) if key else None
    if history is None:
        raise HTTPException(status_code=404, detail="ไม่พบประกาศขายนี้ · No such listing")
    shown, shot = history.shown_page, history.shown_screenshot
    folder = data_dir(request)
    return page(
        request,
        "listing.html",
        listing=history,
        shown=shown,
        shot=shot,
        page_verified=replay.page_check(session, folder, shown.id) if shown else None,
        screenshot_verified=(
            replay.screenshot_check(folder, shot.screenshot_file, shot.screenshot_sha256) if shot else None
        ),
        listing_url=web_url(history.url),
        dismiss_reasons=DISMISS_REASONS,
        **NAMES,
    )


def _evidence(found: replay.Replayed, disposition: str = "inline") -> Response:
    content_type = found.media_type + (f"; charset={found.charset}" if found.charset else "")
    return Response(
        content=found.body,
        headers={
            "Content-Type": content_type,
            "Content-Security-Policy": SANDBOX,
            "Content-Disposition": disposition,
            "Tisiwatch-Evidence-Sha256": found.sha256,
            "Tisiwatch-Evidence-Verified": VERIFIED[found.verified],
            "Cache-Control": "no-store",
        },
    )


@router.get("/evidence/{observation_id}/page")
def evidence_page(request: Request, session: Db, person: Reader, observation_id: str) -> Response:
    try:
        found = replay.page(session, data_dir(request), _number(observation_id))
    except replay.EvidenceMissing as exc:
        raise HTTPException(status_code=404, detail=NOT_FOUND) from exc
    return _evidence(found)


@router.get("/evidence/{observation_id}/screenshot")
def evidence_screenshot(request: Request, session: Db, person: Reader, observation_id: str) -> Response:
    try:
        found = replay.screenshot(session, data_dir(request), _number(observation_id))
    except replay.EvidenceMissing as exc:
        raise HTTPException(status_code=404, detail=NOT_FOUND) from exc
    return _evidence(found)


@router.get("/evidence/{observation_id}/image/{number}")
def evidence_image(
    request: Request, session: Db, person: Reader, observation_id: str, number: str
) -> Response:
    try:
        found = replay.image(session, data_dir(request), _number(observation_id), _number(number))
    except replay.EvidenceMissing as exc:
        raise HTTPException(status_code=404, detail=NOT_FOUND) from exc
    inline = found.media_type.startswith("image/")
    return _evidence(found, "inline" if inline else f'attachment; filename="image-{number}.bin"')
