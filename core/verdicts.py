"""Verdict names and their groups: what the matcher says of a listing and how reports read it."""

from __future__ import annotations

UNSAFE = "unsafe"
"""On the known-unsafe list (a recall, a seizure, a failed test)."""
INVALID_LICENCE = "invalid_licence"
"""A licence is shown, but the register says it is not valid for this product."""
NO_LICENCE_SHOWN = "no_licence_shown"
"""A controlled product with no licence number shown."""
NEEDS_REVIEW = "needs_review"
"""The evidence does not decide: an officer looks."""
LICENSED = "licensed"
"""A controlled product showing a licence the register holds as valid for it."""
NOT_CONTROLLED = "not_controlled"
"""Not a product under a compulsory standard."""

VIOLATIONS: tuple[str, ...] = (UNSAFE, INVALID_LICENCE, NO_LICENCE_SHOWN)
"""The verdicts that break the law, most serious first."""
COMPLIANT: tuple[str, ...] = (LICENSED, NOT_CONTROLLED)
"""The verdicts that end a violation."""
VERDICTS: tuple[str, ...] = (*VIOLATIONS, NEEDS_REVIEW, *COMPLIANT)
"""Every verdict, most serious first."""


def severity(verdict: str) -> int:
    """The rank of a violation (0 is the most serious); a verdict that is no violation ranks after all."""
    return VIOLATIONS.index(verdict) if verdict in VIOLATIONS else len(VIOLATIONS)
