"""A released scoring version is not edited in place: under ``MATCHER_VERSION`` the evaluation set is
judged exactly as recorded when that version was released (``python -m bench.same_verdicts --pin``).

A change that alters a verdict, a licence status, a TIS number, a score, the licence claimed or the
features that fired is a new scoring version: name it in ``matchers/verdict.py`` and record it.
"""

from __future__ import annotations

import json

from bench.same_verdicts import PINNED, pinned_judgements
from matchers.verdict import MATCHER_VERSION

SHOWN = 3


def test_the_scoring_version_judges_the_evaluation_set_as_recorded() -> None:
    header, *recorded = (json.loads(line) for line in PINNED.read_text(encoding="utf-8").splitlines())
    assert header == {"matcher_version": MATCHER_VERSION}, (
        f"{PINNED.name} records {header}, the matcher is {MATCHER_VERSION}: record the new version's "
        "judgements with `python -m bench.same_verdicts --pin`"
    )
    judged = list(pinned_judgements())
    assert [row["id"] for row in judged] == [row["id"] for row in recorded], (
        "the evaluation set changed: --pin"
    )
    differ = [(old, new) for old, new in zip(recorded, judged, strict=True) if old != new]
    assert not differ, (
        f"{len(differ)} judgements differ from those recorded for {MATCHER_VERSION}; a scoring change needs "
        "a new MATCHER_VERSION. First: " + "; ".join(f"{old} → {new}" for old, new in differ[:SHOWN])
    )
