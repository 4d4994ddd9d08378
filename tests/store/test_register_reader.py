"""The one reader of the register in force (store/register.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from matchers.register import import_register
from store.clock import utcnow
from store.db import Store
from store.register import (
    KINDS,
    in_force,
    in_force_hashes,
    latest_imports,
    register_import,
    sources,
    standard_keywords,
)

FIXTURES = Path(__file__).resolve().parent.parent / "matchers" / "fixtures"
FILES = {"standards": "standards_small.csv", "licences": "licences_thai.csv", "unsafe": "unsafe_small.csv"}


def _sha256(kind: str) -> str:
    return hashlib.sha256((FIXTURES / FILES[kind]).read_bytes()).hexdigest()


def test_before_any_import_nothing_is_in_force(any_store: Store) -> None:
    with any_store.session() as session:
        assert in_force(session) is None
        assert sources(session, None) == dict.fromkeys(KINDS)
        assert standard_keywords(session) == []
        assert in_force_hashes(session) == set()
        assert latest_imports(session) == []
        assert register_import(session, 1) is None


# (kinds imported in order, kinds in force afterwards)
CASES = [
    (["standards"], {"standards"}),
    (["licences"], {"licences"}),
    (["standards", "licences"], {"standards", "licences"}),
    (["standards", "licences", "unsafe"], {"standards", "licences", "unsafe"}),
    (["standards", "standards"], {"standards"}),
]


@pytest.mark.parametrize(("imports", "held"), CASES)
def test_each_kind_comes_from_its_newest_import(
    sqlite_store: Store, imports: list[str], held: set[str]
) -> None:
    versions = [import_register(sqlite_store, FIXTURES / FILES[kind], kind).id for kind in imports]
    with sqlite_store.session() as session:
        current = in_force(session)
        assert current is not None
        assert current.version == versions[-1]
        assert current.imported == held
        found = sources(session, current)
        for kind in KINDS:
            newest = max((v for v, k in zip(versions, imports, strict=True) if k == kind), default=None)
            assert (found[kind].version if found[kind] else None) == newest
        assert in_force_hashes(session) == {_sha256(kind) for kind in held}
        assert [item.version for item in latest_imports(session)] == versions[::-1]
        keywords = standard_keywords(session)
    assert ("พาวเวอร์แบงค์" in keywords) is ("standards" in held)
    assert len(keywords) == len(set(keywords))


def test_the_version_in_force_at_a_moment(any_store: Store) -> None:
    first = import_register(any_store, FIXTURES / FILES["standards"], "standards")
    second = import_register(any_store, FIXTURES / FILES["licences"], "licences")
    with any_store.session() as session:
        made = register_import(session, second.id)
        assert made is not None
        assert made.imported_at.tzinfo is not None
        assert made.rows == second.row_count
        assert made.source("standards") == first.id
        at_first = in_force(session, register_import(session, first.id).imported_at)  # type: ignore[union-attr]
        assert at_first is not None
        assert at_first.version == first.id
        assert in_force(session, before=made.imported_at + timedelta(microseconds=1)).version == second.id  # type: ignore[union-attr]
        assert in_force(session, utcnow() - timedelta(days=1)) is None
