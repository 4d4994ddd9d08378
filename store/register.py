"""The register in force, read from the store: the one reader every stage uses.

Every import of a register file is a row of ``register_versions``. The register *in force* at a moment
is the newest import up to then; for each kind of register (standards, licences, the unsafe list) its
``standards_from`` / ``licences_from`` / ``unsafe_from`` name the import that kind's rows come from, so
an import of licences keeps the standards and the unsafe list as they were. This module answers, as
plain frozen data: which version is in force (:func:`in_force`), where each kind comes from
(:func:`sources`), the search words of its standards (:func:`standard_keywords`), the SHA-256 of the
files in force (:func:`in_force_hashes`). Writing a version is the register import's business
(``matchers.register``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.clock import as_utc
from store.models import RegisterVersion, Standard

KINDS = ("standards", "licences", "unsafe")
POINTERS = {"standards": "standards_from", "licences": "licences_from", "unsafe": "unsafe_from"}
"""For each kind, the column of ``register_versions`` that names the import its rows come from."""


@dataclass(frozen=True, slots=True)
class RegisterImport:
    """One import of a register file, and the register it put in force."""

    version: int
    kind: str
    source_name: str
    source_sha256: str
    rows: int
    imported_at: datetime
    """When the import was made (timezone-aware UTC)."""
    pointers: Mapping[str, int | None]
    """For each kind, the import its rows come from in this version (None: never imported)."""

    @classmethod
    def of(cls, row: RegisterVersion) -> RegisterImport:
        return cls(
            version=row.id,
            kind=row.kind,
            source_name=row.source_name,
            source_sha256=row.source_sha256,
            rows=row.row_count,
            imported_at=as_utc(row.created_at),
            pointers={kind: getattr(row, column) for kind, column in POINTERS.items()},
        )

    def source(self, kind: str) -> int | None:
        """The import the rows of ``kind`` come from in this version, or None."""
        return self.pointers[kind]

    @property
    def imported(self) -> frozenset[str]:
        """The kinds this version holds (imported in it or before it)."""
        return frozenset(kind for kind, source in self.pointers.items() if source is not None)


def in_force(
    session: Session, at: datetime | None = None, *, before: datetime | None = None
) -> RegisterImport | None:
    """The register version in force: the newest import made at or before ``at`` (or strictly before
    ``before``; neither: the newest of all); None when there is none."""
    query = select(RegisterVersion).order_by(RegisterVersion.id.desc()).limit(1)
    if at is not None:
        query = query.where(RegisterVersion.created_at <= at)
    if before is not None:
        query = query.where(RegisterVersion.created_at < before)
    row = session.scalars(query).first()
    return None if row is None else RegisterImport.of(row)


def register_import(session: Session, version: int) -> RegisterImport | None:
    """One register version by its number, or None when there is no such version."""
    row = session.get(RegisterVersion, version)
    return None if row is None else RegisterImport.of(row)


def latest_imports(session: Session, last: int = 10) -> list[RegisterImport]:
    """The last ``last`` imports, newest first."""
    query = select(RegisterVersion).order_by(RegisterVersion.id.desc()).limit(last)
    return [RegisterImport.of(row) for row in session.scalars(query)]


def sources(session: Session, version: RegisterImport | None) -> dict[str, RegisterImport | None]:
    """For standards, licences and the unsafe list (in that order): the import the rows of ``version``
    come from (None: never imported, or no version)."""
    found: dict[str, RegisterImport | None] = {}
    for kind in KINDS:
        source = None if version is None else version.source(kind)
        found[kind] = None if source is None else register_import(session, source)
    return found


def standard_keywords(session: Session) -> list[str]:
    """The search words of every standard in force (Thai first, then English), each once."""
    version = in_force(session)
    source = None if version is None else version.source("standards")
    if source is None:
        return []
    rows = session.execute(
        select(Standard.keywords_th, Standard.keywords_en).where(Standard.version_id == source)
    )
    words = [word for th, en in rows for word in [*th, *en]]
    return list(dict.fromkeys(words))


def in_force_hashes(session: Session) -> set[str]:
    """The SHA-256 of each register file in force (standards, licences, unsafe list)."""
    version = in_force(session)
    if version is None:
        return set()
    pointers = [source for source in version.pointers.values() if source is not None]
    query = select(RegisterVersion.source_sha256).where(RegisterVersion.id.in_(pointers))
    return set(session.scalars(query))
