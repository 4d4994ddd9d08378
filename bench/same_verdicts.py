"""Check: a change to the matcher leaves every judgement as it was (the scoring version stays).

    python -m bench.same_verdicts --save before.jsonl      # on the code before the change
    python -m bench.same_verdicts --compare before.jsonl   # on the code after it
    python -m bench.same_verdicts --pin                    # record a new scoring version's judgements

A matcher change that only makes it faster must not change a single judgement, or it needs a new
``MATCHER_VERSION``. This judges three sets and writes every judgement (verdict, licence status, TIS
number, score, licence claimed and every reason) one JSON line each, then compares line by line:

- the benchmark's demo listings (``bench.bench_matcher``: default register, 100,000 licences);
- copies of some of them altered with sellers' tricks (zero-width characters, Thai digits, a spaced
  or dotted มอก, odd whitespace, a doubled or misordered Thai vowel, fullwidth letters, case);
- the hand-labelled evaluation set under its own register (``bench.eval_matcher``).

Exit status 1 when any judgement differs; the first differences are printed.

``--pin`` records what the evaluation set's judgements must stay under ``MATCHER_VERSION`` (verdict,
licence status, TIS number, score, licence claimed, the features that fired and their scores) in
tests/matchers/eval/judgements.jsonl; a test holds every later change to them: a released scoring
version is not edited in place. Run it only when the scoring version is new.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bench.bench_matcher import bench_judge
from bench.eval_matcher import EVAL_DIR, ROOT, eval_judge, load_cases
from config import DEFAULT_SETTINGS_FILE
from matchers.verdict import MATCHER_VERSION, Judge, ListingFacts

SHOWN = 5
"""Differences printed."""
PINNED = EVAL_DIR / "judgements.jsonl"

_THAI_DIGITS = {ord(str(digit)): chr(0x0E50 + digit) for digit in range(10)}
_FULLWIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}
TRICKS: dict[str, Callable[[str, random.Random], str]] = {
    "zero-width": lambda s, r: "\u200b".join(s) if len(s) < 60 else s.replace(" ", " \u200b", 3),
    "Thai digits": lambda s, r: s.translate(_THAI_DIGITS),
    "spaced or dotted มอก": lambda s, r: s.replace("มอก.", r.choice(("ม อ ก", "ม.อ.ก.", "มอก ", "ม.อ.ก"))),
    "odd whitespace": lambda s, r: s.replace(" ", r.choice(("  ", "\t", "\u00a0", " \n "))),
    "เเ for แ, nikhahit and sara aa for sara am": lambda s, r: s.replace("แ", "เเ").replace(
        "ำ", "\u0e4d\u0e32"
    ),
    "tone mark before its vowel, or a vowel left alone": (
        lambda s, r: s.replace("\u0e31\u0e48", "\u0e48\u0e31") if "\u0e31\u0e48" in s else s + " \u0e31"
    ),
    "fullwidth letters": lambda s, r: s.translate(_FULLWIDTH),
    "case": lambda s, r: s.upper() if r.random() < 0.5 else s.swapcase(),
    "dash variants": lambda s, r: s.replace("-", r.choice(("\u2013", "\u2212", " - "))),
}


def altered(listings: list[ListingFacts], count: int, seed: int = 7) -> Iterator[ListingFacts]:
    """``count`` copies of listings, each with one or two sellers' tricks on each of its fields."""
    chooser = random.Random(seed)
    for i in range(count):
        base = listings[i * 7 % len(listings)]
        tricks = chooser.sample(list(TRICKS.values()), chooser.choice((1, 2)))

        def alter(text: str, tricks: list[Callable[[str, random.Random], str]] = tricks) -> str:
            for trick in tricks:
                text = trick(text, chooser)
            return text

        yield replace(
            base,
            title=alter(base.title),
            description=alter(base.description),
            spec={alter(key): alter(value) for key, value in base.spec.items()},
            brand=alter(base.brand) if base.brand and chooser.random() < 0.3 else base.brand,
        )


def judgements(
    judge: Judge, listings: Iterator[ListingFacts] | list[ListingFacts], label: str
) -> Iterator[str]:
    """Each listing's whole judgement as a JSON line, with the set's label and its place in the set."""
    for n, listing in enumerate(listings):
        yield json.dumps({"set": label, "n": n, **asdict(judge.judge(listing))}, ensure_ascii=False)


def pinned_judgements() -> Iterator[dict[str, Any]]:
    """What a scoring version must keep of each evaluation-set judgement: all but the wording of the
    reasons (which may be mended without a new version). Under the shipped settings."""
    judge, _ = eval_judge(EVAL_DIR, DEFAULT_SETTINGS_FILE)
    for case in load_cases(EVAL_DIR / "listings.jsonl"):
        got = judge.judge(case.facts)
        yield {
            "id": case.id,
            "verdict": got.verdict,
            "licence_status": got.licence_status,
            "tis_number": got.tis_number,
            "score": got.score,
            "licence_claimed": got.licence_claimed,
            "features": [[reason["feature"], reason["score"]] for reason in got.reasons],
        }


def every_judgement(count: int, licences: int, copies: int) -> Iterator[str]:
    judge, _, listings, _ = bench_judge(count, licences)
    yield from judgements(judge, listings, "demo")
    yield from judgements(judge, altered(listings, copies), "altered")
    judge, _ = eval_judge(EVAL_DIR, DEFAULT_SETTINGS_FILE)
    yield from judgements(judge, [case.facts for case in load_cases(EVAL_DIR / "listings.jsonl")], "eval")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--save", type=Path, help="write every judgement to this file")
    action.add_argument("--compare", type=Path, help="compare every judgement with this file")
    action.add_argument(
        "--pin",
        action="store_true",
        help=f"record this scoring version's judgements in {PINNED.relative_to(ROOT)}",
    )
    parser.add_argument("--listings", type=int, default=30_000)
    parser.add_argument("--licences", type=int, default=100_000)
    parser.add_argument("--altered", type=int, default=8_000)
    args = parser.parse_args(argv)
    if args.pin:
        rows = [{"matcher_version": MATCHER_VERSION}, *pinned_judgements()]
        PINNED.write_text(
            "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
        )
        print(f"{len(rows) - 1:,} judgements of {MATCHER_VERSION} written to {PINNED.relative_to(ROOT)}")
        return 0
    lines = every_judgement(args.listings, args.licences, args.altered)
    if args.save:
        count = 0
        with args.save.open("w", encoding="utf-8") as out:
            for line in lines:
                out.write(line + "\n")
                count += 1
        print(f"{count:,} judgements written to {args.save}")
        return 0
    before = args.compare.read_text(encoding="utf-8").splitlines()
    differ = 0
    now = list(lines)
    for old, new in zip(before, now, strict=False):
        if old != new:
            differ += 1
            if differ <= SHOWN:
                print(f"before: {old}\nnow:    {new}\n")
    differ += abs(len(before) - len(now))
    print(f"{len(now):,} judgements, {differ:,} differ from {args.compare}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
