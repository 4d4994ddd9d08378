"""What the reports read from the register: the version in force on a day and the standards' names."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import RegisterVersion, Standard


def register_version(session: Session, until: datetime | None = None) -> int | None:
    """The newest register version created before ``until`` (None: the newest of all)."""
    query = select(func.max(RegisterVersion.id))
    if until is not None:
        query = query.where(RegisterVersion.created_at < until)
    return session.scalar(query)


def standard_names(session: Session, version: int | None) -> dict[str, str]:
    """TIS number (as written and canonical) -> Thai name, for the standards of ``version``."""
    if version is None:
        return {}
    row = session.get(RegisterVersion, version)
    source = row.standards_from if row is not None and row.standards_from is not None else version
    names: dict[str, str] = {}
    query = select(Standard.tis_number, Standard.tis_canonical, Standard.name_th).where(
        Standard.version_id == source
    )
    for number, canonical, name in session.execute(query):
        names.setdefault(number, name)
        names.setdefault(canonical, name)
    return names
