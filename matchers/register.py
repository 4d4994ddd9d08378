"""The register of compulsory standards, licences and known-unsafe products, in versions.

Every import of a file (:func:`import_register`) creates a new :class:`~store.models.RegisterVersion`.
A version's register is, for each kind, the rows of the newest version up to it that imported that
kind; its ``standards_from``/``licences_from``/``unsafe_from`` point there, so an import of licences
keeps the standards and the unsafe list as they were. :func:`load_register` reads one version into
plain frozen dataclasses for the matcher.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from matchers.registercheck import read_register
from matchers.registercolumn import KINDS
from matchers.registerfile import MAX_FILE_BYTES, MAX_ROWS, MAX_XLSX_BYTES, Problem, RegisterError
from store.db import Store
from store.models import Licence, RegisterVersion, Standard, UnsafeEntry
from store.register import POINTERS, RegisterImport, in_force, latest_imports, register_import, sources

__all__ = [
    "DEFAULT_STANDARDS",
    "LicenceEntry",
    "Problem",
    "Register",
    "RegisterError",
    "StandardEntry",
    "UnsafeItem",
    "ensure_default_register",
    "import_register",
    "load_register",
    "summary",
]

DEFAULT_STANDARDS = Path(__file__).resolve().parent / "standards.csv"
"""The shipped register of compulsory standards, imported on first use: package data of ``matchers``
(in a checkout a symlink to ``data/standards.csv``, in an installed package a copy of it)."""
CHUNK = 5000
_MODELS: dict[str, Any] = {"standards": Standard, "licences": Licence, "unsafe": UnsafeEntry}


@dataclass(frozen=True)
class StandardEntry:
    """A compulsory standard and its search words; ``tis_number`` is canonical (``685 เล่ม 1-2562``)."""

    tis_number: str
    tis_base: str
    name_th: str
    name_en: str
    group: str
    keywords_th: tuple[str, ...]
    keywords_en: tuple[str, ...]
    exclude_keywords: tuple[str, ...]
    in_force: date | None
    review_keywords: tuple[str, ...] = ()
    """Words that put a listing at the edge of the standard's scope (a 12 V lamp, a collectible
    figure for adults): such a listing goes to officer review."""


@dataclass(frozen=True)
class LicenceEntry:
    """A TISI licence as the register states it; ``tis_number`` is canonical."""

    licence_no: str
    tis_number: str
    licensee: str
    brands: tuple[str, ...]
    status: str
    issued: date | None
    expires: date | None

    def status_on(self, day: date) -> str:
        """The status on ``day``: an active licence past its expiry date counts as expired."""
        if self.status == "active" and self.expires is not None and self.expires < day:
            return "expired"
        return self.status


@dataclass(frozen=True)
class UnsafeItem:
    """A product on the known-unsafe list, with the keys it is matched by."""

    brand: str
    model: str
    brand_key: str
    model_key: str
    tis_number: str | None
    reason: str
    source: str | None
    listed_on: date | None


@dataclass(frozen=True)
class Register:
    """One register version as plain data; ``licences`` is keyed by canonical licence number."""

    version_id: int | None
    standards: list[StandardEntry]
    licences: dict[str, LicenceEntry]
    unsafe: list[UnsafeItem]
    imported: frozenset[str] = frozenset(KINDS)
    """The kinds (standards, licences, unsafe) that were ever imported up to this version: an empty
    list that was never imported is not a list that holds nothing."""

    @property
    def missing(self) -> list[str]:
        """The kinds the verdicts depend on that were never imported (licences, unsafe)."""
        return [kind for kind in ("licences", "unsafe") if kind not in self.imported]

    def standard(self, tis_number: str) -> StandardEntry | None:
        """The standard with this canonical TIS number, if it is in the register."""
        return next((entry for entry in self.standards if entry.tis_number == tis_number), None)

    def standards_for_base(self, base: str) -> list[StandardEntry]:
        """Every standard with this base number (``685`` → all parts and years of TIS 685)."""
        return [entry for entry in self.standards if entry.tis_base == base]


def import_register(
    store: Store,
    path: Path | str,
    kind: str | None = None,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_xlsx_bytes: int = MAX_XLSX_BYTES,
    max_rows: int = MAX_ROWS,
) -> RegisterVersion:
    """Import a register file as a new version, all or nothing; RegisterError lists what is wrong
    (a file that cannot be read, or is over a limit, too)."""
    checked = read_register(Path(path), kind, max_bytes, max_xlsx_bytes=max_xlsx_bytes, max_rows=max_rows)
    with store.session() as session:
        previous = in_force(session)
        version = RegisterVersion(
            kind=checked.kind,
            source_name=checked.name,
            source_sha256=checked.sha256,
            row_count=len(checked.records),
            **{
                column: None if previous is None else previous.source(kind)
                for kind, column in POINTERS.items()
            },
        )
        session.add(version)
        session.flush()
        setattr(version, POINTERS[checked.kind], version.id)
        table = _MODELS[checked.kind].__table__  # Core bulk insert: no ORM bookkeeping per row
        for start in range(0, len(checked.records), CHUNK):
            chunk = checked.records[start : start + CHUNK]
            for record in chunk:
                record["version_id"] = version.id
            session.execute(insert(table), chunk)
    return version


def load_register(session: Session, version_id: int | None = None) -> Register:
    """The register of one version (None: the current one) as plain frozen dataclasses."""
    version = in_force(session) if version_id is None else register_import(session, version_id)
    if version is None:
        if version_id is not None:
            raise LookupError(f"no register version {version_id}")
        return Register(version_id=None, standards=[], licences={}, unsafe=[], imported=frozenset())
    return Register(
        version_id=version.version,
        standards=_standards(session, version.source("standards")),
        licences=_licences(session, version.source("licences")),
        unsafe=_unsafe(session, version.source("unsafe")),
        imported=version.imported,
    )


def _standards(session: Session, version_id: int | None) -> list[StandardEntry]:
    if version_id is None:
        return []
    s = Standard
    query = select(
        s.tis_canonical, s.tis_base, s.name_th, s.name_en, s.group,
        s.keywords_th, s.keywords_en, s.exclude_keywords, s.in_force, s.review_keywords,
    ).where(s.version_id == version_id).order_by(s.id)  # fmt: skip
    return [
        StandardEntry(
            tis, base, name_th, name_en, group, tuple(th), tuple(en), tuple(exclude), in_force, tuple(review)
        )
        for tis, base, name_th, name_en, group, th, en, exclude, in_force, review in session.execute(query)
    ]


def _licences(session: Session, version_id: int | None) -> dict[str, LicenceEntry]:
    if version_id is None:
        return {}
    c = Licence
    query = select(
        c.licence_canonical,
        c.licence_no,
        c.tis_canonical,
        c.licensee,
        c.brands,
        c.status,
        c.issued,
        c.expires,
    ).where(c.version_id == version_id)
    return {
        key: LicenceEntry(number, tis, licensee, tuple(brands), status, issued, expires)
        for key, number, tis, licensee, brands, status, issued, expires in session.execute(query)
    }


def _unsafe(session: Session, version_id: int | None) -> list[UnsafeItem]:
    if version_id is None:
        return []
    u = UnsafeEntry
    columns = (u.brand, u.model, u.brand_key, u.model_key, u.tis_number, u.reason, u.source, u.listed_on)
    query = select(*columns).where(u.version_id == version_id).order_by(u.id)
    return [UnsafeItem(*row) for row in session.execute(query)]


def _describe(version: RegisterImport) -> dict[str, Any]:
    return {
        "version": version.version,
        "kind": version.kind,
        "source_name": version.source_name,
        "source_sha256": version.source_sha256,
        "rows": version.rows,
        "imported_at": version.imported_at,
    }


def summary(session: Session, last: int = 10) -> dict[str, Any]:
    """What ``tisiwatch register show`` prints: the current version, where each kind comes from, the
    last imports (newest first)."""
    version = in_force(session)
    return {
        "current_version": version.version if version is not None else None,
        "kinds": {kind: None if s is None else _describe(s) for kind, s in sources(session, version).items()},
        "imports": [_describe(item) for item in latest_imports(session, last)],
    }


def ensure_default_register(store: Store, path: Path = DEFAULT_STANDARDS) -> RegisterVersion | None:
    """Import the shipped standards if no standards were ever imported; the new version, else None."""
    with store.session() as session:
        imported = select(RegisterVersion.id).where(RegisterVersion.kind == "standards").limit(1)
        if session.scalar(imported) is not None:
            return None
    return import_register(store, path, "standards")
