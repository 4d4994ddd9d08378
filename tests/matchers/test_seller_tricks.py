"""Sellers' tricks do not change a judgement: every demo listing, with one trick on every field
(title, description, spec table, brand, model), gets the verdict, licence status and TIS number it
gets as written.

The tricks are those of ``bench.same_verdicts``: zero-width characters, Thai digits, a spaced or
dotted มอก, odd whitespace, เเ for แ and nikhahit + sara aa for sara am, a tone mark before its vowel
or a dangling vowel, fullwidth letters, case, dash variants.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

import pytest

from bench.bench_matcher import SEED, demo_judge, listing_facts
from bench.same_verdicts import TRICKS
from demo.generator import generate
from matchers.verdict import Judge, ListingFacts

SIZE = 150
"""Listings a shop: 450 in all, each judged once as written and once a trick."""
SHOWN = 3


@pytest.fixture(scope="module")
def judged() -> tuple[Judge, list[ListingFacts], list[tuple[str | None, str | None, str | None]]]:
    judge, _, _ = demo_judge(SIZE, licences=0)
    listings = listing_facts(generate(seed=SEED, size=SIZE))
    outcomes = [(j.verdict, j.licence_status, j.tis_number) for j in map(judge.judge, listings)]
    return judge, listings, outcomes


def _tricked(
    listing: ListingFacts, trick: Callable[[str, random.Random], str], rng: random.Random
) -> ListingFacts:
    def alter(text: str | None) -> str | None:
        return None if text is None else trick(text, rng)

    return replace(
        listing,
        title=trick(listing.title, rng),
        description=trick(listing.description, rng),
        spec={trick(key, rng): trick(value, rng) for key, value in listing.spec.items()},
        brand=alter(listing.brand),
        model=alter(listing.model),
    )


@pytest.mark.parametrize("name", list(TRICKS))
def test_a_trick_does_not_change_the_judgement(
    judged: tuple[Judge, list[ListingFacts], list[tuple[str | None, str | None, str | None]]], name: str
) -> None:
    judge, listings, outcomes = judged
    rng = random.Random(name)
    changed = []
    for listing, before in zip(listings, outcomes, strict=True):
        tricked = _tricked(listing, TRICKS[name], rng)
        got = judge.judge(tricked)
        if (got.verdict, got.licence_status, got.tis_number) != before:
            changed.append(
                f"{tricked.title!r} ({tricked.brand!r}): {before} → {got.verdict}, {got.licence_status}"
            )
    assert {outcome[0] for outcome in outcomes} >= {"licensed", "invalid_licence", "unsafe", "not_controlled"}
    assert not changed, f"{len(changed)} of {len(listings)} changed, e.g. " + "; ".join(changed[:SHOWN])
