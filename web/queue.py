"""The review queue and officers' decisions: ``GET /queue``, ``POST /decisions`` (many listings at once)
and a supervisor's ``POST /decisions/{decision_id}/check``.

The queue is a GET form of filters over ``reports.queue.queue_page``; htmx swaps only the results
(rows and pager) when a filter changes, a page turns or a decision is recorded. Without JavaScript
every form still works: a decision answers 303 back to ``next``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from config import Settings
from core.decisions import DISMISS_REASONS, QC_RESULTS
from reports.queue import REVIEWED, VIEWS, QueueError, QueueFilter, QueuePage, queue_page
from reports.wording import LICENCE_STATUSES, STATUSES, VERDICTS
from store.decisions import DecisionError, check, decide
from store.models import User
from web.guard import Person, allow, db, safe_next
from web.render import page

router = APIRouter()

Reader = Annotated[Person, Depends(allow("read"))]
Decider = Annotated[Person, Depends(allow("decide"))]
Checker = Annotated[Person, Depends(allow("check"))]
Db = Annotated[Session, Depends(db)]

FILTERS = ("view", "site", "standard", "verdict", "licence_status", "seller", "first_seen", "observed")
MAX_DECIDED = 10_000
"""Listings one request may decide on."""


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise QueueError(f"{name}: not a date (YYYY-MM-DD)") from None


def parse_filter(values: dict[str, str]) -> QueueFilter:
    """The queue's filters from request parameters; empty ones mean any."""
    text = {name: (values.get(name) or "").strip()[:300] or None for name in FILTERS}
    return QueueFilter(
        view=text["view"] or "open",
        site=text["site"],
        standard=text["standard"],
        verdict=text["verdict"],
        licence_status=text["licence_status"],
        seller=text["seller"],
        first_seen=_day(text["first_seen"], "first_seen"),
        observed=_day(text["observed"], "observed"),
    )


def _results(
    request: Request, session: Session, values: dict[str, str], *, message: str = "", problem: str = ""
) -> tuple[dict[str, object], int]:
    """The results' template context for the filters in ``values``, and the status to answer with."""
    settings = settings_of(request)
    status, found = 200, QueuePage([], None, 0)
    try:
        wanted = parse_filter(values)
        after = values.get("after") or None
        found = queue_page(session, wanted, after=after, size=settings.web.page_size, qc=settings.review.qc)
    except QueueError as exc:
        wanted, problem, status = QueueFilter(), str(exc), 400
    kept = {name: values[name] for name in FILTERS if values.get(name)}
    first = f"/queue?{urlencode(kept)}" if kept else "/queue"
    here = f"/queue?{urlencode(kept | {'after': values['after']})}" if values.get("after") else first
    more = f"/queue?{urlencode(kept | {'after': found.next_after})}" if found.next_after else None
    context: dict[str, object] = {
        "rows": found.rows,
        "wanted": wanted,
        "here": here,
        "more": more,
        "first": first,
        "paged": bool(values.get("after")),
        "message": message,
        "problem": problem,
        "qc": settings.review.qc,
        "verdict_words": VERDICTS,
        "licence_words": LICENCE_STATUSES,
        "status_words": STATUSES,
    }
    return context, status


def _choices() -> dict[str, object]:
    return {
        "views": VIEWS,
        "verdicts": REVIEWED,
        "licence_statuses": tuple(LICENCE_STATUSES),
        "reasons": DISMISS_REASONS,
    }


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, session: Db, person: Reader) -> Response:
    values = {key: value for key, value in request.query_params.items()}
    context, status = _results(request, session, values)
    if request.headers.get("hx-request"):
        return page(request, "queue_rows.html", status_code=status, **context)
    return page(request, "queue.html", status_code=status, **context, **_choices())


def _answer(request: Request, session: Session, next_: str, message: str, problem: str = "") -> Response:
    """After a decision or check: htmx gets the queue's results again (or a notice), others a 303."""
    target = safe_next(next_ or "/queue")
    if not request.headers.get("hx-request"):
        if problem:
            raise HTTPException(status_code=400, detail=problem)
        return RedirectResponse(target, status_code=303)
    parts = urlsplit(target)
    status = 400 if problem else 200
    if parts.path == "/queue":
        values = dict(parse_qsl(parts.query))
        values.pop("after", None)  # the decided rows left the page it was on: start again
        context, _ = _results(request, session, values, message=message, problem=problem)
        return page(request, "queue_rows.html", status_code=status, **context)
    return page(request, "decision_notice.html", status_code=status, message=message, problem=problem)


@router.post("/decisions", response_class=HTMLResponse, form_limits={"max_fields": MAX_DECIDED + 20})
def decisions(
    request: Request,
    session: Db,
    person: Decider,
    decision: Annotated[str, Form(max_length=40)],
    listing_id: Annotated[list[int], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    reason: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/queue",
) -> Response:
    """Record one decision on each listing ticked (``confirmed``, ``dismissed`` with a reason, or
    ``needs_information``)."""
    if len(listing_id) > MAX_DECIDED:
        return _answer(
            request,
            session,
            next,
            "",
            f"ตัดสินได้ครั้งละไม่เกิน {MAX_DECIDED:,} รายการ · At most {MAX_DECIDED:,} at once",
        )
    if not listing_id:
        return _answer(request, session, next, "", "เลือกรายการก่อน · Select listings first")
    user = session.get(User, person.id)
    assert user is not None  # the guard found the person's session
    try:
        made = decide(session, user, listing_id, decision, reason=reason or None, note=note)
    except DecisionError as exc:
        session.rollback()
        return _answer(request, session, next, "", f"บันทึกไม่ได้ · Not recorded: {exc}")
    label = {"confirmed": "ยืนยัน", "dismissed": "ยกเลิก", "needs_information": "ขอข้อมูลเพิ่ม"}.get(decision, "")
    message = f"บันทึก “{label}” แล้ว {len(made):,} รายการ · Recorded {decision} on {len(made):,}"
    return _answer(request, session, next, message)


@router.post("/decisions/{decision_id}/check", response_class=HTMLResponse)
def check_decision(
    request: Request,
    session: Db,
    person: Checker,
    decision_id: int,
    result: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/queue?view=to_check",
) -> Response:
    """A supervisor passes or returns a confirmation."""
    user = session.get(User, person.id)
    assert user is not None
    try:
        check(session, user, decision_id, result, note)
    except DecisionError as exc:
        session.rollback()
        if result in QC_RESULTS:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        return _answer(request, session, next, "", f"บันทึกไม่ได้ · Not recorded: {exc}")
    label = {"passed": "ผ่าน", "returned": "ส่งกลับ"}[result]
    return _answer(request, session, next, f"ตรวจแล้ว: {label} · Checked: {result}")
