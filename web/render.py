"""Pages: one Jinja2 environment (autoescape on, undefined names fail) and the page helper."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined, trim_blocks=True,
    lstrip_blocks=True,
)  # fmt: skip


def local_time(moment: datetime | None, zone: ZoneInfo | str = "Asia/Bangkok") -> str:
    """A timestamp as the officers read it: local time, to the minute."""
    if moment is None:
        return "—"
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


environment.filters["local_time"] = local_time


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with the signed-in person (if any) and their CSRF token."""
    person = getattr(request.state, "person", None)
    html = environment.get_template(template).render(
        request=request, person=person, csrf_token=person.csrf_token if person else "", **context
    )
    return HTMLResponse(html, status_code=status_code)
