"""Handing cases to ETDA from the workspace (``POST /cases/export``): the signed case file of the
confirmed cases (``reports.casefile.export_cases``, as ``tisiwatch export cases`` writes it), kept
under the data directory's ``cases/`` and downloaded; its cases are recorded as sent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, Response

from config import Settings
from reports.casefile import export_cases
from reports.signing import SigningKeyError
from store.clock import utcnow
from store.db import Store
from web.guard import Person, allow

router = APIRouter()

Decider = Annotated[Person, Depends(allow("decide"))]


@router.post("/cases/export")
def export(request: Request, person: Decider) -> Response:
    settings: Settings = request.app.state.settings
    store: Store = request.app.state.store
    folder = settings.data_dir / "cases"
    folder.mkdir(parents=True, exist_ok=True)
    # the name is made of the time and the username (lower-case letters, digits, . _ -), nothing scraped
    out = folder / f"cases-{utcnow():%Y%m%d-%H%M%S}-{person.username}.zip"
    try:
        summary = export_cases(store, settings, out=out)
    except SigningKeyError as exc:
        raise HTTPException(status_code=409, detail=f"ลงนามไม่ได้ · Cannot sign: {exc}") from None
    if summary.cases == 0:
        out.unlink(missing_ok=True)
        raise HTTPException(status_code=400, detail="ยังไม่มีคดีที่ยืนยันแล้ว · No confirmed cases to export yet")
    return FileResponse(out, media_type="application/zip", filename=out.name)
