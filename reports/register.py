"""What the reports read from the register: the version in force, the standards' names, and for each kind
of register (standards, licences, the unsafe list) which import it comes from and how old that is.

:func:`register_status` says which register versions are in force (read through ``store.register``)
and how old each is, as officers are told it; the daily report and ``tisiwatch register show`` both
call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import ReportConfig
from core.numbers import canonical_licence
from store.clock import as_utc, utcnow
from store.models import Licence, Standard
from store.register import KINDS, in_force, register_import, sources

STALE_DAYS = ReportConfig().register_stale_days
"""A register imported more than this many days ago counts as stale (``[report] register_stale_days``)."""


@dataclass(frozen=True, slots=True)
class RegisterStatus:
    """One kind of register as it stands at a moment: the import its rows come from and how old it is.

    ``in_force`` is the register version in force (the newest import of any kind up to the moment);
    ``version`` the import this kind's rows come from, None when it was never imported.
    """

    kind: str
    in_force: int | None
    version: int | None
    source_name: str | None
    source_sha256: str | None
    rows: int
    imported_at: datetime | None
    """When the import was made (timezone-aware UTC)."""
    age_days: int | None
    """Whole days from the import to the moment."""
    stale_days: int = STALE_DAYS

    @property
    def problem(self) -> str | None:
        """What an officer must be told: ``missing`` (never imported), ``empty`` (imported without a
        row), ``stale`` (imported more than ``stale_days`` days ago), or None."""
        if self.version is None:
            return "missing"
        if self.rows == 0:
            return "empty"
        if self.age_days is not None and self.age_days > self.stale_days:
            return "stale"
        return None

    def record(self) -> dict[str, object]:
        """The status as JSON-ready data (times as UTC ISO-8601)."""
        imported = None if self.imported_at is None else self.imported_at.isoformat().replace("+00:00", "Z")
        return {
            "kind": self.kind,
            "version": self.version,
            "source_name": self.source_name,
            "source_sha256": self.source_sha256,
            "rows": self.rows,
            "imported_at": imported,
            "age_days": self.age_days,
            "problem": self.problem,
        }


def register_status(
    session: Session, at: datetime | None = None, stale_days: int = STALE_DAYS
) -> list[RegisterStatus]:
    """For standards, licences and the unsafe list (in that order): the import in force at ``at``
    (default: now), the file it came from, when it was imported and how many days old it is then."""
    at = as_utc(at) if at is not None else utcnow()
    current = in_force(session, at)
    statuses = []
    for kind, source in sources(session, current).items():
        imported = source.imported_at if source is not None else None
        statuses.append(
            RegisterStatus(
                kind=kind,
                in_force=current.version if current is not None else None,
                version=source.version if source is not None else None,
                source_name=source.source_name if source is not None else None,
                source_sha256=source.source_sha256 if source is not None else None,
                rows=source.rows if source is not None else 0,
                imported_at=imported,
                age_days=None if imported is None else max(0, (at - imported).days),
                stale_days=stale_days,
            )
        )
    return statuses


def problems(statuses: Sequence[RegisterStatus]) -> list[RegisterStatus]:
    """The kinds an officer must be told about: missing or empty ones first, then stale ones."""
    return sorted(
        (s for s in statuses if s.problem), key=lambda s: (s.problem == "stale", KINDS.index(s.kind))
    )


def standard_names(session: Session, version: int | None) -> dict[str, str]:
    """TIS number (as written and canonical) -> Thai name, for the standards of ``version``."""
    if version is None:
        return {}
    row = register_import(session, version)
    source = row.source("standards") if row is not None and row.source("standards") is not None else version
    names: dict[str, str] = {}
    query = select(Standard.tis_number, Standard.tis_canonical, Standard.name_th).where(
        Standard.version_id == source
    )
    for number, canonical, name in session.execute(query):
        names.setdefault(number, name)
        names.setdefault(canonical, name)
    return names


@dataclass(frozen=True, slots=True)
class LicenceEntry:
    """The licence register's row (in the register in force) for a licence a listing shows."""

    shown: str
    canonical: str
    found: bool
    licence_no: str = ""
    tis_number: str = ""
    licensee: str = ""
    brands: tuple[str, ...] = ()
    status: str = ""
    issued: date | None = None
    expires: date | None = None
    register_version: int | None = None


def licence_entry(session: Session, shown: str | None) -> LicenceEntry | None:
    """The licence register's entry, in the register in force, for the licence number ``shown``."""
    if not shown or not shown.strip():
        return None
    canonical = canonical_licence(shown)
    version = in_force(session)
    source = None if version is None else version.source("licences")
    found = (
        None
        if source is None
        else session.scalars(
            select(Licence).where(Licence.version_id == source, Licence.licence_canonical == canonical)
        ).first()
    )
    if found is None:
        return LicenceEntry(
            shown, canonical, False, register_version=None if version is None else version.version
        )
    return LicenceEntry(
        shown=shown,
        canonical=canonical,
        found=True,
        licence_no=found.licence_no,
        tis_number=found.tis_number,
        licensee=found.licensee,
        brands=tuple(str(brand) for brand in found.brands or ()),
        status=found.status,
        issued=found.issued,
        expires=found.expires,
        register_version=version.version if version else None,
    )
