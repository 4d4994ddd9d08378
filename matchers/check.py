"""Judging listings a platform sends (the check API, ``web/api.py``) as ``match_pending`` judges crawled ones.

The :class:`Checker` holds the judge of the register version in force, built once (by
``match.build_judge``, as the match stage builds it) and built again when a new register version
appears; every call asks the database which version is in force, one indexed query. A listing is
judged from its text alone, seen today (Asia/Bangkok): its ``licence_text`` is read as one more row
of its spec table, named :data:`LICENCE_KEY` (where a crawled listing's shop shows it); its image
URLs are never fetched — the match stage, too, reads only pictures the crawl kept as evidence.
Nothing is written here (storing, when asked and allowed: ``matchers.recorder``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from config import Settings
from matchers.match import RegisterMissing, build_judge, missing_message
from matchers.register import load_register
from matchers.verdict import Judge, Judgement, ListingFacts
from store.clock import local_day, utcnow
from store.db import Store
from store.register import in_force

LICENCE_KEY = "ใบอนุญาต"
"""The spec-table row a listing's ``licence_text`` is read as (another name when the listing's own
spec table has a row of this name)."""


class NoRegister(RuntimeError):
    """No register was ever imported: nothing can be judged."""


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One listing as a platform sends it (already validated: lengths, types)."""

    id: str
    title: str
    description: str = ""
    spec: Mapping[str, str] | None = None
    brand: str | None = None
    model: str | None = None
    licence_text: str | None = None
    image_urls: tuple[str, ...] = ()
    """Never fetched and not judged; kept in a stored observation's raw data."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    id: str
    verdict: str
    licence_status: str | None
    tis_number: str | None
    category_score: float
    reasons: list[dict[str, Any]]
    judgement: Judgement | None = field(default=None, compare=False, repr=False)
    """The judge's whole judgement (what a stored verdict keeps; not in the answer)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "verdict": self.verdict,
            "licence_status": self.licence_status,
            "tis_number": self.tis_number,
            "category_score": self.category_score,
            "reasons": self.reasons,
        }


def spec_with_licence(spec: Mapping[str, str] | None, licence_text: str | None) -> dict[str, str]:
    """The spec table the judge reads: the listing's own, and its licence text as one more row."""
    table = dict(spec or {})
    if licence_text and licence_text.strip():
        key = LICENCE_KEY
        while key in table:
            key += " "  # a row of that name is the listing's own: keep both
        table[key] = licence_text
    return table


def facts_of(item: CheckItem, day: date | None = None) -> ListingFacts:
    """What the judge reads of a listing sent to the check API, seen on ``day`` (default: today)."""
    return ListingFacts(
        title=item.title,
        description=item.description,
        spec=spec_with_licence(item.spec, item.licence_text),
        brand=item.brand,
        model=item.model,
        observed_on=day or local_day(utcnow()),
    )


class Checker:
    """The judge of the register in force, shared by the requests of one app (thread-safe: one
    request judges at a time; Python would run them one at a time anyway)."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._version: int | None = None
        self._judge: Judge | None = None
        self._missing: list[str] = []
        self._building = threading.Lock()
        self._judging = threading.Lock()

    def current(self) -> tuple[int, Judge]:
        """The register version in force and its judge (built now if the version is new).

        Raises :class:`NoRegister` when no register was ever imported, and
        ``matchers.match.RegisterMissing`` when the licence register or the unsafe list was never
        imported and ``match.allow_missing_registers`` is off — as ``match_pending`` does."""
        with self.store.session() as session:
            version = in_force(session)
        if version is None:
            raise NoRegister("no register was imported: nothing can be judged")
        with self._building:
            if self._version != version.version:
                with self.store.session() as session:
                    register = load_register(session, version.version)
                self._version = version.version
                self._judge = None
                self._missing = register.missing
                if not register.missing or self.settings.match.allow_missing_registers:
                    self._judge = build_judge(register, self.settings)
            if self._judge is None:  # not loaded again on every request while the version stands
                raise RegisterMissing(missing_message(self._missing))
            return self._version, self._judge

    def check(self, items: Iterable[CheckItem], now: datetime | None = None) -> tuple[int, list[CheckResult]]:
        """The register version and the verdict on each listing seen at ``now`` (default: now), in order."""
        version, judge = self.current()
        with self._judging:
            return version, judge_all(judge, items, local_day(now or utcnow()))


def judge_all(judge: Judge, items: Iterable[CheckItem], day: date | None = None) -> list[CheckResult]:
    """The verdicts of ``judge`` on ``items`` seen on ``day`` (default: today), in order."""
    day = day or local_day(utcnow())
    results = []
    for item in items:
        judgement = judge.judge(facts_of(item, day))
        results.append(
            CheckResult(
                item.id,
                judgement.verdict,
                judgement.licence_status,
                judgement.tis_number,
                judgement.score,
                judgement.reasons,
                judgement,
            )
        )
    return results
