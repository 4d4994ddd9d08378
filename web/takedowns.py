"""The takedown page (``GET /takedowns``): per site, how fast the listings of cases sent to ETDA came
down (``reports.takedowns``), and every sent case with its status, linking to its listing's page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from reports.takedowns import WORKING_DAYS, figures, sent_cases
from web.guard import Person, allow, db
from web.render import page

router = APIRouter()

Reader = Annotated[Person, Depends(allow("read"))]
Db = Annotated[Session, Depends(db)]
SHOWN = 1000
"""Sent cases listed on the page (the latest sent first); the figures count them all."""


@router.get("/takedowns", response_class=HTMLResponse)
def takedowns(request: Request, session: Db, person: Reader) -> Response:
    cases = sent_cases(session)
    zone = request.app.state.settings.report.timezone
    return page(
        request,
        "takedowns.html",
        sites=figures(cases, tz=zone),
        cases=cases[:SHOWN],
        total=len(cases),
        working_days=WORKING_DAYS,
        takedown_days=request.app.state.settings.review.takedown_days,
        qc=request.app.state.settings.review.qc,
        zone=zone,
    )
