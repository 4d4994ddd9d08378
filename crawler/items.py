"""What spiders yield: a listing sighting (``store.writer.Sighting``) or a failed URL."""

from __future__ import annotations

from dataclasses import dataclass

from store.writer import Sighting

__all__ = ["FailedUrl", "Sighting"]


@dataclass(frozen=True)
class FailedUrl:
    """A URL that finally failed, with the reason (stored with the run)."""

    url: str
    reason: str
    http_status: int | None = None
    kind: str = "content"
    """What went wrong, for the run's counts by kind (``crawler.outcome``): a network error
    (``connection_refused``, ``timeout``…), ``http_<status>``, ``robots``, ``not_found``, ``content``
    (a page that could not be read) or ``invalid`` (a listing that could not be stored)."""
