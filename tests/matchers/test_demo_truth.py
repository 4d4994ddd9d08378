"""The judge against the demo generator's ground truth, at a scale where rare combinations occur.

The generator knows what each of its listings is (``expected_verdict``); the hand-labelled evaluation
set is small, and a mistake that needs two things together (a listed unsafe product whose title also
names a spare part, say) shows up only among thousands of listings.
"""

from __future__ import annotations

import pytest

from bench.bench_matcher import SEED, demo_judge, listing_facts
from demo.generator import generate
from demo.listing import SHOPS

SIZE = 3_000
"""Listings a shop: 12,000 in all (four shops)."""
SHOWN = 5


@pytest.mark.slow
def test_every_demo_listing_gets_the_verdict_it_was_made_for() -> None:
    judge, _, _ = demo_judge(SIZE, licences=0)
    truth = generate(seed=SEED, size=SIZE)
    wrong = []
    for listing, facts in zip(truth, listing_facts(truth), strict=True):
        got = judge.judge(facts)
        # the generator records the status of the licence an unsafe listing shows; the SPEC's
        # licence_status refines only licensed and invalid_licence
        checked = listing.expected_verdict in ("licensed", "invalid_licence")
        expected = (listing.expected_verdict, listing.expected_licence_status if checked else None)
        if (got.verdict, got.licence_status) != expected:
            wrong.append(f"{listing.title!r}: {expected} → {got.verdict}, {got.licence_status}")
    assert len(truth) == len(SHOPS) * SIZE
    assert not wrong, f"{len(wrong)} of {len(truth)} judged wrong, e.g. " + "; ".join(wrong[:SHOWN])
