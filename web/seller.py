"""Sellers in the workspace: ``GET /sellers`` (one row per seller across sites and days, the most
violating listings first, then the most days seen violating) and ``GET /seller?key=<seller key>`` (the
seller's listings across sites and days, their verdicts and decisions). The seller key is
``core.sellers.seller_key`` of the seller's name (see ``reports.listing``)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from config import Settings
from reports.seller import seller_page, seller_table
from web.guard import Person, allow, db
from web.listing import NAMES
from web.render import page

router = APIRouter()

Reader = Annotated[Person, Depends(allow("read"))]
Db = Annotated[Session, Depends(db)]

PAGE_SIZE = 200
"""Sellers per page of ``/sellers``."""


def zone_of(request: Request) -> ZoneInfo:
    settings: Settings = request.app.state.settings
    return ZoneInfo(settings.report.timezone)


@router.get("/sellers", response_class=HTMLResponse)
def sellers(
    request: Request, session: Db, person: Reader, page_number: Annotated[int, Query(alias="page")] = 1
) -> Response:
    rows = seller_table(session, zone_of(request))
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    number = min(max(page_number, 1), pages)
    start = (number - 1) * PAGE_SIZE
    return page(
        request,
        "sellers.html",
        rows=rows[start : start + PAGE_SIZE],
        total=len(rows),
        repeat=sum(row.repeat for row in rows),
        page_number=number,
        pages=pages,
    )


@router.get("/seller", response_class=HTMLResponse)
def seller(request: Request, session: Db, person: Reader, key: str = "") -> Response:
    found = seller_page(session, key, zone_of(request)) if key else None
    if found is None:
        raise HTTPException(status_code=404, detail="ไม่พบผู้ขายนี้ · No such seller")
    return page(request, "seller.html", seller=found, **NAMES)
