"""The demo listings: deterministic, every verdict and trick in every shop, day-to-day changes, scale."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from core.verdicts import VERDICTS
from demo import SHOPS, DemoListing, generate, generate_days
from demo.catalogue import KINDS, LOOKALIKES_REQUIRED, STANDARDS
from demo.generator import REQUIRED
from demo.listing import LICENCE_STATUSES, TRICKS

ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
LICENCE = re.compile(r"[ทน]\s*\d+\s*-\s*\d+(\(\d+\))?\s*/\s*\d+")
LICENCE_FORM = re.compile(r"^[ทน]\d+-\d{2}(\(\d+\))?/\d+$")


def plain(text: str) -> str:
    """Text as a matcher would compare it: zero-width characters gone, Thai digits as Arabic."""
    return ZERO_WIDTH.sub("", text).translate(THAI_DIGITS)


def spec_text(listing: DemoListing) -> str:
    return " ".join(f"{key} {value}" for key, value in listing.spec.items())


def everything(listing: DemoListing) -> str:
    return plain(f"{listing.title}\n{listing.description}\n{spec_text(listing)}")


def by_shop(listings: list[DemoListing]) -> dict[str, list[DemoListing]]:
    return {shop: [listing for listing in listings if listing.shop == shop] for shop in SHOPS}


def shows_mark(text: str) -> bool:
    text = plain(text)
    return bool(LICENCE.search(text)) or "มอก" in text or "ม อ ก" in text or "TIS " in text


def test_same_seed_gives_the_same_listings_and_another_seed_does_not() -> None:
    assert generate(seed=7, size=40) == generate(seed=7, size=40)
    assert generate(seed=8, size=40) != generate(seed=7, size=40)
    assert [x.title for x in generate(seed=8, size=40)] != [x.title for x in generate(seed=7, size=40)]


def test_size_is_per_shop_with_unique_stable_ids() -> None:
    shops = by_shop(generate(size=40))
    for shop, listings in shops.items():
        assert len(listings) == 40
        assert len({listing.item_id for listing in listings}) == 40, shop
    assert all(listing.added_on_day == 1 and listing.removed_on_day is None for listing in generate(size=40))


@pytest.mark.parametrize("shop", SHOPS)
def test_every_shop_shows_every_case_and_trick_at_size_30(shop: str) -> None:
    listings = by_shop(generate(seed=7, size=30))[shop]
    cases = {(x.expected_verdict, x.expected_licence_status) for x in listings}
    assert {(case.verdict, case.status) for case in REQUIRED} <= cases
    assert {x.expected_verdict for x in listings} == set(VERDICTS)
    assert {x.expected_licence_status for x in listings} == {*LICENCE_STATUSES, None}
    assert set(TRICKS) <= {trick for x in listings for trick in x.tricks}
    categories = {x.category for x in listings if x.expected_verdict == "not_controlled"}
    assert {KINDS[key].category for key in LOOKALIKES_REQUIRED} <= categories
    bare = [x for x in listings if "bare_mor_kor_claim" in x.tricks]
    assert bare
    assert all(x.expected_verdict == "no_licence_shown" for x in bare)
    component = [x for x in listings if "component_tis" in x.tricks]
    assert all(x.expected_licence_status == "wrong_standard" for x in component)


@pytest.mark.parametrize("seed", [7, 11])
def test_ground_truth_fits_what_the_page_shows(seed: int) -> None:
    for listing in generate(seed=seed, size=300):
        text = everything(listing)
        verdict, number = listing.expected_verdict, listing.expected_licence_no
        if verdict in ("licensed", "invalid_licence", "unsafe"):
            assert number is not None
            assert LICENCE_FORM.match(number), number
            assert LICENCE.search(text), listing
            assert listing.expected_tis in STANDARDS
        else:
            assert number is None
            assert not LICENCE.search(text), listing
        if verdict == "not_controlled":
            assert listing.expected_tis is None
            assert listing.expected_licence_status is None
        if verdict == "no_licence_shown" and "bare_mor_kor_claim" not in listing.tricks:
            assert not shows_mark(text), listing
        if verdict == "unsafe":
            assert listing.expected_licence_status == "valid"
        assert re.fullmatch(r"\d+\.\d\d", listing.price)
        assert listing.currency == "THB"


TRICK_EVIDENCE = [
    ("thai_digits", lambda x: bool(re.search("[๐-๙]", x.title + x.description + spec_text(x)))),
    ("zero_width", lambda x: bool(ZERO_WIDTH.search(x.title + x.description + spec_text(x)))),
    ("misspelling", lambda x: any(word in x.title for kind in KINDS.values() for word in kind.misspellings)),
    ("spaced_mark", lambda x: "ม อ ก" in plain(x.title + x.description + spec_text(x))),
    (
        "spaced_licence",
        lambda x: bool(re.search(r"[ทน] \d+-\d+\S* / \d+", plain(x.description + spec_text(x)))),
    ),
    ("tis_english", lambda x: "TIS " in plain(x.title + x.description + spec_text(x))),
    ("mark_in_spec_only", lambda x: not shows_mark(x.title + x.description) and shows_mark(spec_text(x))),
    (
        "mark_in_description_only",
        lambda x: not shows_mark(x.title + spec_text(x)) and shows_mark(x.description),
    ),
    ("part_less_tis", lambda x: "685-2562" in plain(x.title + x.description + spec_text(x))),
    ("bare_mor_kor_claim", lambda x: "มอก" in x.title + x.description),
    ("component_tis", lambda x: bool(re.search(r"/(11|166)$", x.expected_licence_no or ""))),
    ("markup_in_title", lambda x: "<" in x.title or "&" in x.title),
]


@pytest.mark.parametrize(("trick", "evidence"), TRICK_EVIDENCE, ids=[trick for trick, _ in TRICK_EVIDENCE])
def test_each_trick_is_really_on_the_page(trick: str, evidence: object) -> None:
    tricked = [x for seed in (1, 2, 7) for x in generate(seed=seed, size=400) if trick in x.tricks]
    assert len(tricked) >= 9
    for listing in tricked:
        assert callable(evidence)
        assert evidence(listing), listing


def test_the_tis_numbers_are_written_as_tisi_writes_them() -> None:
    shown = {x.expected_tis for x in generate(size=200)} - {None}
    assert shown <= set(STANDARDS)
    assert {"2879-2560", "2432-2555", "685 เล่ม 1-2562", "60335 เล่ม 2(23)-2564", "11 เล่ม 5-2553"} <= shown


def test_day_two_removes_adds_and_mends_one_listing_per_shop() -> None:
    first, second = generate_days(seed=7, size=40, last_day=2)
    assert generate(seed=7, size=40, day=2) == second
    before = {(x.shop, x.item_id): x for x in first}
    after = {(x.shop, x.item_id): x for x in second}
    assert set(before) <= set(after)
    for shop in SHOPS:
        removed = [k for k, x in after.items() if k[0] == shop and x.removed_on_day == 2]
        added = [k for k, x in after.items() if k[0] == shop and x.added_on_day == 2]
        fixed = [k for k in before if k[0] == shop and "fixed" in after[k].tricks]
        assert 2 <= len(removed) <= 6
        assert len(added) >= 2
        assert {after[k].expected_verdict for k in added} >= {"no_licence_shown", "licensed"}
        assert len(fixed) == 1
        old, new = before[fixed[0]], after[fixed[0]]
        assert old.expected_verdict in ("no_licence_shown", "invalid_licence")
        assert (new.expected_verdict, new.expected_licence_status) == ("licensed", "valid")
        assert (new.brand, new.model, new.price, new.seller_id) == (
            old.brand,
            old.model,
            old.price,
            old.seller_id,
        )
        unchanged = [k for k in before if k[0] == shop and k not in removed and k != fixed[0]]
        assert all(before[k] == after[k] for k in unchanged)


@pytest.mark.slow
def test_a_hundred_thousand_listings_a_shop() -> None:
    listings = generate(seed=7, size=100_000)
    assert len(listings) == 400_000
    assert len({(x.shop, x.item_id) for x in listings}) == 400_000
    numbers = Counter(x.expected_licence_no for x in listings if x.expected_licence_no)
    assert numbers.most_common(1)[0][1] == 1
