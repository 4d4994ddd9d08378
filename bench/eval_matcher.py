"""Benchmark: the matcher against the hand-labelled evaluation set in tests/matchers/eval/.

    python -m bench.eval_matcher [--misses] [--no-write]

Imports the shipped standards (data/standards.csv) and the set's licences.csv and unsafe.csv into a
temporary SQLite store through ``matchers.register.import_register``, as ``tisiwatch register import``
does, builds the judge with ``matchers.match.build_judge`` and the project's settings, judges every
listing of listings.jsonl, and prints violation precision and recall (a violation is a verdict of
no_licence_shown, invalid_licence or unsafe), exact verdict accuracy, TIS-number and licence-status
accuracy, the needs_review rate and a confusion table. ``--misses`` lists every case judged wrong with
its top reasons. Goals: precision ≥ 0.97, recall ≥ 0.97, exact ≥ 0.95, needs_review ≤ 0.05; the exit
status is 1 when one is missed. Replaces the "Matcher evaluation" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bench.harness import DOC, ROOT, machine, write_section
from config import load_settings
from core.verdicts import (
    INVALID_LICENCE,
    LICENSED,
    NEEDS_REVIEW,
    NO_LICENCE_SHOWN,
    NOT_CONTROLLED,
    UNSAFE,
    VIOLATIONS,
)
from matchers.match import build_judge
from matchers.register import Register, ensure_default_register, import_register, load_register
from matchers.verdict import MATCHER_VERSION, Judge, ListingFacts
from store.db import Store

SECTION = "## Matcher evaluation"
EVAL_DIR = ROOT / "tests" / "matchers" / "eval"
VERDICTS = (NOT_CONTROLLED, LICENSED, NO_LICENCE_SHOWN, INVALID_LICENCE, UNSAFE, NEEDS_REVIEW)
"""Every verdict, in the order the confusion table shows them."""
GOALS = {
    "precision": (">=", 0.97),
    "recall": (">=", 0.97),
    "exact": (">=", 0.95),
    "review_rate": ("<=", 0.05),
}
TOP_REASONS = 3
ACCESSORY_TRICKS = frozenset(
    {"accessory", "accessory-for", "accessory-joined", "accessory-spaced", "accessory-english",
     "accessory-fits-model", "accessory-with-tis", "consumable", "spare-part", "look-alike-case",
     "tool-for-product", "sticker", "with-accessory-word", "controlled-part", "thai-word-first"}
)  # fmt: skip
"""Accessories, parts and care products named after a controlled product, and the real products whose
titles name an accessory: scored on their own too, the set's hardest look-alikes."""


@dataclass(frozen=True)
class Outcome:
    """A verdict with the two fields that refine it, as labelled or as judged."""

    verdict: str
    tis_number: str | None = None
    licence_status: str | None = None

    def __str__(self) -> str:
        return f"{self.verdict}/{self.licence_status or '-'}/{self.tis_number or '-'}"


@dataclass(frozen=True)
class Case:
    """One labelled listing of the evaluation set."""

    id: str
    trick: str
    facts: ListingFacts
    expected: Outcome


@dataclass(frozen=True)
class Result:
    case: Case
    got: Outcome
    reasons: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Scores:
    listings: int
    precision: float
    recall: float
    exact: float
    tis: float
    tis_cases: int
    licence_status: float
    licence_status_cases: int
    review_rate: float


# ---- metrics: small pure functions over (expected, got) pairs ----


def ratio(part: int, whole: int, empty: float = 1.0) -> float:
    """part ÷ whole; ``empty`` when there is nothing to count (by default 1.0: no case can be wrong)."""
    return part / whole if whole else empty


def violation_precision_recall(pairs: Sequence[tuple[Outcome, Outcome]]) -> tuple[float, float]:
    """Precision and recall of "is a violation" (verdict in VIOLATIONS), whatever the exact verdict."""
    hits = sum(1 for e, g in pairs if e.verdict in VIOLATIONS and g.verdict in VIOLATIONS)
    flagged = sum(1 for _, g in pairs if g.verdict in VIOLATIONS)
    actual = sum(1 for e, _ in pairs if e.verdict in VIOLATIONS)
    return ratio(hits, flagged), ratio(hits, actual)


def exact_accuracy(pairs: Sequence[tuple[Outcome, Outcome]]) -> float:
    """Share of listings whose verdict is exactly the labelled one."""
    return ratio(sum(1 for e, g in pairs if e.verdict == g.verdict), len(pairs))


def tis_accuracy(pairs: Sequence[tuple[Outcome, Outcome]]) -> tuple[float, int]:
    """Share of listings labelled with a TIS number that got that number; and how many there are."""
    labelled = [(e, g) for e, g in pairs if e.tis_number is not None]
    return ratio(sum(1 for e, g in labelled if e.tis_number == g.tis_number), len(labelled)), len(labelled)


def licence_status_accuracy(pairs: Sequence[tuple[Outcome, Outcome]]) -> tuple[float, int]:
    """Share of listings labelled with a licence_status that got that status; and how many there are."""
    labelled = [(e, g) for e, g in pairs if e.licence_status is not None]
    right = sum(1 for e, g in labelled if e.licence_status == g.licence_status)
    return ratio(right, len(labelled)), len(labelled)


def review_rate(pairs: Sequence[tuple[Outcome, Outcome]]) -> float:
    """Share of listings the matcher sent to needs_review."""
    return ratio(sum(1 for _, g in pairs if g.verdict == NEEDS_REVIEW), len(pairs), empty=0.0)


def confusion(pairs: Iterable[tuple[Outcome, Outcome]]) -> Counter[tuple[str, str]]:
    """(expected verdict, got verdict) → number of listings."""
    return Counter((e.verdict, g.verdict) for e, g in pairs)


def is_miss(expected: Outcome, got: Outcome) -> bool:
    """Wrong verdict, or a labelled TIS number or licence_status that was not matched."""
    return (
        expected.verdict != got.verdict
        or (expected.tis_number is not None and expected.tis_number != got.tis_number)
        or (expected.licence_status is not None and expected.licence_status != got.licence_status)
    )


def score(pairs: Sequence[tuple[Outcome, Outcome]]) -> Scores:
    """Every figure the benchmark reports."""
    precision, recall = violation_precision_recall(pairs)
    tis, tis_cases = tis_accuracy(pairs)
    status, status_cases = licence_status_accuracy(pairs)
    return Scores(
        len(pairs), precision, recall, exact_accuracy(pairs), tis, tis_cases, status, status_cases,
        review_rate(pairs),
    )  # fmt: skip


def missed_goals(scores: Scores) -> list[str]:
    """The goals these scores miss, as text (empty: all met)."""
    missed = []
    for name, (op, target) in GOALS.items():
        value = getattr(scores, name)
        if (op == ">=" and value < target) or (op == "<=" and value > target):
            missed.append(f"{name} {value:.3f} (goal {goal_text(name)})")
    return missed


def confusion_table(counts: Counter[tuple[str, str]]) -> list[str]:
    """A Markdown table, expected verdict by row and judged verdict by column."""
    lines = [
        "| expected ↓ / got → | " + " | ".join(VERDICTS) + " | total |",
        "|---" * (len(VERDICTS) + 2) + "|",
    ]
    for expected in VERDICTS:
        row = [counts.get((expected, got), 0) for got in VERDICTS]
        lines.append(f"| {expected} | " + " | ".join(str(n) for n in row) + f" | {sum(row)} |")
    return lines


# ---- loading and judging ----


def load_cases(path: Path) -> list[Case]:
    """The labelled listings of a listings.jsonl file."""
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        facts = ListingFacts(
            title=row["title"],
            description=row["description"],
            spec=row["spec"],
            brand=row["brand"],
            model=row["model"],
            observed_on=date.fromisoformat(row["observed_on"]),
        )
        expected = row["expected"]
        outcome = Outcome(expected["verdict"], expected["tis_number"], expected["licence_status"])
        cases.append(Case(row["id"], row["trick"], facts, outcome))
    return cases


def load_eval_register(store: Store, eval_dir: Path) -> Register:
    """The shipped standards and the set's licences and unsafe list, imported as a user would."""
    store.migrate()
    ensure_default_register(store)
    import_register(store, eval_dir / "licences.csv", "licences")
    import_register(store, eval_dir / "unsafe.csv", "unsafe")
    with store.session() as session:
        return load_register(session)


def eval_judge(eval_dir: Path, settings_file: Path | None = None) -> tuple[Judge, Register]:
    """The judge under the eval register, with the settings of ``settings_file`` (by default the
    project's, as ``load_settings`` finds them; never the environment's), and that register."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(settings_file, overrides={"data_dir": tmp}, environ={})
        store = Store.from_settings(settings)
        try:
            register = load_eval_register(store, eval_dir)
        finally:
            store.dispose()
    return build_judge(register, settings), register


def judge_cases(cases: Sequence[Case], eval_dir: Path) -> tuple[list[Result], Register, float]:
    """Judge every case under the eval register; the results, the register and the seconds judging took."""
    judge, register = eval_judge(eval_dir)
    started = time.perf_counter()
    results = []
    for case in cases:
        judgement = judge.judge(case.facts)
        got = Outcome(judgement.verdict, judgement.tis_number, judgement.licence_status)
        results.append(Result(case, got, judgement.reasons))
    return results, register, time.perf_counter() - started


# ---- output ----


def goal_text(name: str) -> str:
    """A goal as people write it: ``≥ 0.97``."""
    op, target = GOALS[name]
    return f"{'≥' if op == '>=' else '≤'} {target}"


def figures(scores: Scores) -> list[tuple[str, str, str]]:
    """(measure, value, goal) rows."""
    return [
        ("violation precision", f"{scores.precision:.3f}", goal_text("precision")),
        ("violation recall", f"{scores.recall:.3f}", goal_text("recall")),
        ("exact verdict accuracy", f"{scores.exact:.3f}", goal_text("exact")),
        (f"TIS-number accuracy ({scores.tis_cases} labelled)", f"{scores.tis:.3f}", ""),
        (
            f"licence_status accuracy ({scores.licence_status_cases} labelled)",
            f"{scores.licence_status:.3f}",
            "",
        ),
        ("needs_review rate", f"{scores.review_rate:.3f}", goal_text("review_rate")),
    ]


def accessory_line(results: Sequence[Result]) -> str:
    """The main figures on the accessory cases and their counterparts (ACCESSORY_TRICKS) alone."""
    pairs = [(r.case.expected, r.got) for r in results if r.case.trick in ACCESSORY_TRICKS]
    scores = score(pairs)
    return (
        f"accessories and their counterparts ({scores.listings} listings): precision {scores.precision:.3f}, "
        f"recall {scores.recall:.3f}, exact {scores.exact:.3f}, needs_review {scores.review_rate:.3f}"
    )


def describe_miss(result: Result) -> list[str]:
    """A wrong case, with its top reasons, for --misses."""
    case = result.case
    lines = [
        f"{case.id} [{case.trick}] expected {case.expected}  got {result.got}",
        f"    title: {case.facts.title}",
    ]
    for reason in result.reasons[:TOP_REASONS]:
        lines.append(f"    - {reason.get('feature')}: {reason.get('detail')}")
    return lines


def section(scores: Scores, results: Sequence[Result], register: Register, seconds: float) -> str:
    misses = Counter(r.case.trick for r in results if is_miss(r.case.expected, r.got))
    missed = missed_goals(scores)
    lines = [
        SECTION,
        "",
        f"`python -m bench.eval_matcher` — {date.today().isoformat()}, {machine()}.",
        "",
        f"Matcher version `{MATCHER_VERSION}` on the {scores.listings} hand-labelled listings of "
        "`tests/matchers/eval/` (see its",
        f"README). Register: the shipped standards ({len(register.standards)}), the set's "
        f"licences ({len(register.licences):,}) and its",
        f"unsafe list ({len(register.unsafe)}), imported with `import_register` into a temporary SQLite store.",
        "A violation is a verdict of `no_licence_shown`, `invalid_licence` or `unsafe`. "
        f"Judging took {seconds:.2f} s",
        f"({scores.listings / seconds if seconds else 0:,.0f} listings/s, one process).",
        "",
        "| measure | value | goal |",
        "|---|---|---|",
        *(f"| {name} | {value} | {goal} |" for name, value, goal in figures(scores)),
        "",
        *confusion_table(confusion((r.case.expected, r.got) for r in results)),
        "",
        accessory_line(results)[0].upper() + accessory_line(results)[1:] + ".",
        "",
        "Goals: " + ("all met." if not missed else "missed — " + "; ".join(missed) + "."),
    ]
    if misses:
        lines += [
            "",
            "Wrong cases by trick: " + ", ".join(f"{trick} {n}" for trick, n in misses.most_common()) + ".",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--misses", action="store_true", help="print every wrong case with its top reasons")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    cases = load_cases(args.eval_dir / "listings.jsonl")
    results, register, seconds = judge_cases(cases, args.eval_dir)
    scores = score([(r.case.expected, r.got) for r in results])
    if args.misses:
        for result in results:
            if is_miss(result.case.expected, result.got):
                print("\n".join(describe_miss(result)))
        print()
    print(f"{scores.listings} listings judged in {seconds:.2f} s (matcher {MATCHER_VERSION})")
    for name, value, goal in figures(scores):
        print(f"{name}: {value}" + (f" (goal {goal})" if goal else ""))
    print("\n".join(confusion_table(confusion((r.case.expected, r.got) for r in results))))
    print(accessory_line(results))
    missed = missed_goals(scores)
    print("goals: " + ("all met" if not missed else "missed: " + "; ".join(missed)))
    if not args.no_write:
        write_section(SECTION, section(scores, results, register, seconds))
        print(f"updated {DOC.relative_to(ROOT)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
