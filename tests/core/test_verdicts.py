"""Verdict names and groups: one list, read the same by the matcher and the reports."""

from __future__ import annotations

import pytest

from core.verdicts import (
    COMPLIANT,
    INVALID_LICENCE,
    LICENSED,
    NEEDS_REVIEW,
    NO_LICENCE_SHOWN,
    NOT_CONTROLLED,
    UNSAFE,
    VERDICTS,
    VIOLATIONS,
    severity,
)

# (verdict, a violation, compliant, severity rank)
CASES = [
    (UNSAFE, True, False, 0),
    (INVALID_LICENCE, True, False, 1),
    (NO_LICENCE_SHOWN, True, False, 2),
    (NEEDS_REVIEW, False, False, 3),
    (LICENSED, False, True, 3),
    (NOT_CONTROLLED, False, True, 3),
    ("something_new", False, False, 3),
]


@pytest.mark.parametrize(("verdict", "violation", "compliant", "rank"), CASES)
def test_verdict_groups(verdict: str, violation: bool, compliant: bool, rank: int) -> None:
    assert (verdict in VIOLATIONS) is violation
    assert (verdict in COMPLIANT) is compliant
    assert severity(verdict) == rank


def test_every_verdict_is_named_once_most_serious_first() -> None:
    assert VERDICTS == (
        "unsafe", "invalid_licence", "no_licence_shown", "needs_review", "licensed", "not_controlled"
    )  # fmt: skip
    assert len(set(VERDICTS)) == len(VERDICTS)
    assert set(VERDICTS) == {*VIOLATIONS, NEEDS_REVIEW, *COMPLIANT}


def test_the_matcher_says_only_verdicts_core_names() -> None:
    """Every verdict matchers/verdict.py can return is one of core's names (no bare strings)."""
    import ast
    from pathlib import Path

    import matchers.verdict

    tree = ast.parse(Path(matchers.verdict.__file__).read_text(encoding="utf-8"))
    said = {
        node.args[0].id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Judgement" and node.args
        if isinstance(node.args[0], ast.Name)
    }
    bare = [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Judgement" and node.args
        if isinstance(node.args[0], ast.Constant)
    ]
    assert not bare
    assert {"UNSAFE", "NOT_CONTROLLED", "NEEDS_REVIEW", "NO_LICENCE_SHOWN", "LICENSED"} <= said
