"""A crawl run's statistics, typed: what the crawler records and the reports, the CLI and the alerts read.

A run's stats are stored as JSON (``crawl_runs.stats``): the run's totals at the top level, each
worker's own entry under ``workers``, and the crawler's bookkeeping (its plan, trap drops, status
counts…) beside them. :class:`RunStats` is the part every reader shares, read with
:meth:`RunStats.from_json` — which tolerates runs stored by older versions (a missing or odd value is
unknown, None; coverage stored as a percentage) — and written with :meth:`RunStats.to_json`.

Field coverage has one definition, :func:`coverage_of`: for each of title, price, seller and licence
text, the share of stored listings that had it, as a fraction 0..1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

COVERAGE_FIELDS = ("title", "price", "seller", "licence_text")
"""The fields whose coverage a run records, in the order they are shown."""
_COUNTS = ("pages", "items", "gone", "failed_urls", "requests", "answered")


def coverage_of(covered: Mapping[str, int], items: int) -> dict[str, float]:
    """Field coverage: for each field, the share 0..1 of ``items`` that had it (``covered``), to four
    places; 0.0 for a run without items."""
    return {name: round(covered.get(name, 0) / items, 4) if items else 0.0 for name in COVERAGE_FIELDS}


def coverage_fraction(value: Any) -> float | None:
    """A stored coverage value as a fraction 0..1 (older runs: a percentage above 1 is scaled down);
    None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    fraction = float(value) / 100 if value > 1 else float(value)
    return fraction if 0 <= fraction <= 1 else None


def count(value: Any) -> int | None:
    """A stored count: a number, or the sum of a mapping's numbers (errors by kind); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, Mapping):
        return sum(int(v) for v in value.values() if isinstance(v, int | float) and not isinstance(v, bool))
    return None


@dataclass(frozen=True, slots=True)
class RunStats:
    """What a crawl run (or one of its workers) got: None where a stored run does not say."""

    pages: int | None = None
    """Responses received."""
    items: int | None = None
    """Listings stored (live sightings)."""
    gone: int | None = None
    """Listings found gone (404/410)."""
    failed_urls: int | None = None
    """URLs that finally failed."""
    requests: int | None = None
    """URLs asked for (not retries, not robots.txt)."""
    answered: int | None = None
    """Pages that answered 2xx (not robots.txt)."""
    errors: dict[str, int] = field(default_factory=dict)
    """Download and spider exceptions by kind."""
    error_count: int | None = None
    """All errors (older runs stored a number, not kinds)."""
    covered: dict[str, int] | None = None
    """For each coverage field, the listings that had it (None: a run stored without the counts)."""
    stored_coverage: dict[str, float | None] = field(default_factory=dict)
    """The coverage a run stored without its counts, as fractions."""
    reason: str | None = None
    """Why a failed run failed, in one line."""
    finish_reason: str | None = None
    """How the crawl ended (Scrapy's finish reason)."""
    blocked_for_s: float | None = None
    """A run the site blocked (status ``blocked``): how long block signals went on before it stopped."""
    blocked_left: int | None = None
    """A run the site blocked: the requests it left for the next run (at least)."""

    @property
    def left_share(self) -> float | None:
        """A blocked run's requests left as a share 0..1 of those it made and left; None if not blocked."""
        if self.blocked_left is None:
            return None
        planned = self.blocked_left + (self.requests or 0)
        return self.blocked_left / planned if planned else None

    def blocked_note(self) -> str | None:
        """A blocked run in words: for how long, and what share of its plan was left; None if not blocked."""
        if self.blocked_left is None:
            return None
        minutes = (self.blocked_for_s or 0) / 60
        share = self.left_share
        return (
            f"blocked after {minutes:.0f} min of block signals; {self.blocked_left} requests"
            f"{f' ({share:.0%} of the plan)' if share is not None else ''} left for the next run"
        )

    @property
    def coverage(self) -> dict[str, float | None]:
        """Field coverage as fractions 0..1 (:func:`coverage_of`); a field a stored run does not say is None."""
        if self.covered is not None and self.items is not None:
            return dict(coverage_of(self.covered, self.items))
        return {name: self.stored_coverage.get(name) for name in COVERAGE_FIELDS}

    @classmethod
    def counted(
        cls,
        counts: Mapping[str, int],
        covered: Mapping[str, int],
        errors: Mapping[str, int],
        *,
        reason: str | None = None,
        finish_reason: str | None = None,
    ) -> RunStats:
        """Stats from what was counted: ``counts`` by name (pages, items, …), ``covered`` by field."""
        number = {name: int(counts.get(name, 0)) for name in _COUNTS}
        return cls(
            pages=number["pages"],
            items=number["items"],
            gone=number["gone"],
            failed_urls=number["failed_urls"],
            requests=number["requests"],
            answered=number["answered"],
            errors=dict(errors),
            error_count=sum(errors.values()),
            covered={name: int(covered.get(name, 0)) for name in COVERAGE_FIELDS},
            reason=reason,
            finish_reason=finish_reason,
        )

    @classmethod
    def from_json(cls, data: Any) -> RunStats:
        """A run's (or a worker's) stats as stored, by this version or an older one; anything missing
        or odd is unknown (None), never an error."""
        data = data if isinstance(data, Mapping) else {}
        errors = data.get("errors")
        covered = data.get("covered")
        coverage = data.get("coverage")
        coverage = coverage if isinstance(coverage, Mapping) else {}
        blocked = data.get("blocked")
        blocked = blocked if isinstance(blocked, Mapping) else {}
        return cls(
            pages=count(data.get("pages")),
            items=count(data.get("items")),
            gone=count(data.get("gone")),
            failed_urls=count(data.get("failed_urls")),
            requests=count(data.get("requests")),
            answered=count(data.get("answered")),
            errors=_counter(errors),
            error_count=count(errors),
            covered=_counter(covered) if isinstance(covered, Mapping) else None,
            stored_coverage={name: coverage_fraction(coverage.get(name)) for name in COVERAGE_FIELDS},
            reason=_text(data.get("reason")),
            finish_reason=_text(data.get("finish_reason")),
            blocked_for_s=_number(blocked.get("for_s")),
            blocked_left=count(blocked.get("left")) if blocked else None,
        )

    def to_json(self) -> dict[str, Any]:
        """The stats as stored: the counts, errors by kind, ``covered`` and ``coverage`` (fractions);
        what is unknown is left out."""
        stored: dict[str, Any] = {
            name: value for name in _COUNTS if (value := getattr(self, name)) is not None
        }
        stored["errors"] = dict(self.errors)
        if self.covered is not None:
            stored["covered"] = dict(self.covered)
        stored["coverage"] = {name: value for name, value in self.coverage.items() if value is not None}
        for name in ("reason", "finish_reason"):
            if (value := getattr(self, name)) is not None:
                stored[name] = value
        if self.blocked_left is not None:
            stored["blocked"] = {"left": self.blocked_left, "for_s": self.blocked_for_s or 0.0}
        return stored


def _counter(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {
        str(k): int(v) for k, v in value.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
