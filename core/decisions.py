"""Officers' decisions: their names, the reasons a dismissal gives, supervisors' checks, a case's
status once sent to ETDA, and the hash of what an officer judged (SPEC "Officers' decisions")."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

CONFIRMED = "confirmed"
"""The officer agrees: the listing breaks the law; its case may go to ETDA."""
DISMISSED = "dismissed"
"""A false positive: the listing leaves the queue while what was judged is unchanged."""
NEEDS_INFORMATION = "needs_information"
"""The officer cannot decide yet; the listing stays in the queue."""
DECISIONS: tuple[str, ...] = (CONFIRMED, DISMISSED, NEEDS_INFORMATION)

DISMISS_REASONS: tuple[str, ...] = ("not_controlled", "licence_valid", "duplicate", "other")
"""Why a listing is dismissed; ``other`` needs a note."""

QC_PASSED = "passed"
QC_RETURNED = "returned"
QC_RESULTS: tuple[str, ...] = (QC_PASSED, QC_RETURNED)
"""A supervisor's check of a confirmation (``[review] qc = true``)."""

SENT = "sent"
TAKEN_DOWN = "taken_down"
STILL_ONLINE = "still_online"
CASE_STATUSES: tuple[str, ...] = (SENT, TAKEN_DOWN, STILL_ONLINE)
"""Where a case exported to ETDA stands: sent, its listing gone, or still online after the set days."""


def judged_hash(
    title: str | None,
    description: str | None,
    spec: Mapping[str, Any] | None,
    licence_shown: str | None,
    images: Sequence[Any] | None,
) -> str:
    """SHA-256 of what an officer judges in a listing: its title, description, spec table, the licence
    it shows and its images. A price or stock change leaves it, so a dismissal holds across them."""
    content = [
        title or "",
        description or "",
        sorted((str(key), str(value)) for key, value in (spec or {}).items()),
        licence_shown or "",
        [str(image) for image in images or ()],
    ]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()
