"""Generates the listings of the demo shops, deterministically from (seed, size, day).

Every shop gets, before any random filler, one listing of each required case (every verdict, every licence
status, every seller trick, the usual look-alikes), so that any size of 30 or more shows all of them.
Each later day removes about a tenth of the listings, adds a few and mends exactly one violation.
The first three shops share one random stream (as they always have); every shop added since draws from
its own (`FIRST_SHOPS`), so adding a shop changes no other shop's listings.
"""

from __future__ import annotations

import gc
import random
from dataclasses import replace

from demo.catalogue import (
    AMBIGUOUS,
    CONTROLLED,
    KINDS,
    LOOKALIKES,
    LOOKALIKES_REQUIRED,
    Seller,
    sellers_by_category,
)
from demo.copywriter import Case, Item, ListingWriter
from demo.listing import SHOPS, DemoListing

REQUIRED: tuple[Case, ...] = (
    Case("licensed", "valid"),
    Case("licensed", "valid", ("thai_digits",), "power_bank"),
    Case("licensed", "valid", ("zero_width",), "power_bank"),
    Case("licensed", "valid", ("misspelling",), "helmet"),
    Case("licensed", "valid", ("misspelling",), "power_bank"),
    Case("licensed", "valid", ("spaced_licence", "spaced_mark")),
    Case("licensed", "valid", ("tis_english",), "power_bank"),
    Case("licensed", "valid", ("mark_in_spec_only",)),
    Case("licensed", "valid", ("mark_in_description_only",)),
    Case("licensed", "valid", ("part_less_tis",), "toy"),
    Case("licensed", "valid", ("markup_in_title",)),
    Case("no_licence_shown"),
    Case("no_licence_shown", None, ("bare_mor_kor_claim",)),
    Case("invalid_licence", "not_found"),
    Case("invalid_licence", "revoked"),
    Case("invalid_licence", "suspended"),
    Case("invalid_licence", "expired"),
    Case("invalid_licence", "wrong_standard", ("component_tis",), "extension_cord"),
    Case("invalid_licence", "wrong_standard"),
    Case("invalid_licence", "wrong_brand"),
    Case("unsafe", "valid"),
    *(Case("not_controlled", None, (), key) for key in LOOKALIKES_REQUIRED),
    Case("needs_review"),
    Case("no_licence_shown", None, ("licence_in_image_only",)),
    Case("no_licence_shown", None, ("qr_in_image_only",)),
)
"""The cases every shop shows first; 29 of them, so every shop of size 30 or more has them all."""

_SINGLE_TRICKS = (
    "thai_digits",
    "zero_width",
    "misspelling",
    "misspelling",
    "spaced_mark",
    "spaced_licence",
    "tis_english",
    "mark_in_spec_only",
    "mark_in_description_only",
    "part_less_tis",
    "markup_in_title",
)
_INVALID = ("not_found", "revoked", "suspended", "expired", "wrong_standard", "wrong_brand")
_MODEL_SUFFIXES = ("", "", "", "S", "Pro", "Plus", "Max", "Lite")
_ID_BASE = {"html": 100_000, "api": 500_000, "state": 700_000}
FIRST_SHOPS: tuple[str, ...] = ("html", "api", "browser")
"""The shops drawn from the seed's main random stream; each later shop has a stream of its own."""
OWN_STREAM: dict[str, int] = {"token": 1, "state": 2}
"""The later shops' streams, numbered: a stream's licence serials start at 1,000 + its number × 300,000
(six digits at most, as licence numbers have; apart up to 300,000 licences a stream) and its unsafe
models are numbered from its number × 100,000, so none repeat across shops."""
_FIRST_SERIAL, _SERIAL_OFFSET, _UNSAFE_OFFSET = 1000, 300_000, 100_000


def item_id(shop: str, number: int) -> str:
    """The stable id of a shop's `number`-th item; number 0 is the shop's ghost (linked, but never there)."""
    if shop == "html":
        return str(_ID_BASE["html"] + number)
    if shop == "api":
        return f"SKU-{_ID_BASE['api'] + number}"
    if shop == "state":
        return str(_ID_BASE["state"] + number)
    return f"{shop[0]}{number:06d}"


def _random_tricks(rng: random.Random) -> tuple[str, ...]:
    return (rng.choice(_SINGLE_TRICKS),) if rng.random() < 0.3 else ()


def _random_case(rng: random.Random) -> Case:
    """A filler listing's case: mostly licensed goods and look-alikes, some violations."""
    draw = rng.random()
    if draw < 0.45:
        return Case("licensed", "valid", _random_tricks(rng))
    if draw < 0.70:
        return Case("not_controlled", None, (), rng.choice(LOOKALIKES).key)
    if draw < 0.83:
        return Case("no_licence_shown", None, ("bare_mor_kor_claim",) if rng.random() < 0.3 else ())
    if draw < 0.94:
        status = rng.choice(_INVALID)
        if status == "wrong_standard" and rng.random() < 0.5:
            return Case("invalid_licence", status, ("component_tis",), "extension_cord")
        return Case("invalid_licence", status, _random_tricks(rng))
    if draw < 0.96:
        return Case("unsafe", "valid", _random_tricks(rng))
    return Case("needs_review", None, (), rng.choice(AMBIGUOUS).key)


class _Market:
    """Some shops as they evolve day by day, all drawn from one random stream."""

    def __init__(self, seed: int | str, size: int, shops: tuple[str, ...], offset: int = 0) -> None:
        self.rng = random.Random(seed)
        self.size = size
        self.shops = shops
        self.writer = ListingWriter(self.rng)
        self.writer.serial = _FIRST_SERIAL + offset * _SERIAL_OFFSET
        self.unsafe_models = offset * _UNSAFE_OFFSET
        self.sellers = {shop: sellers_by_category(shop) for shop in shops}
        self.items: dict[str, list[Item]] = {shop: [] for shop in shops}
        self.listings: dict[str, list[DemoListing]] = {shop: [] for shop in shops}

    def _item(self, shop: str, number: int, case: Case, day: int) -> Item:
        rng, pick = self.rng, self.writer.pick
        key = case.kind or ("toy" if "part_less_tis" in case.tricks else None)
        if key is not None:
            kind = KINDS[key]
        elif case.verdict == "not_controlled":
            kind = pick(LOOKALIKES)
        elif case.verdict == "needs_review":
            kind = pick(AMBIGUOUS)
        else:
            kind = pick(CONTROLLED)
        if case.verdict == "unsafe":
            self.unsafe_models += 1
            model = f"{kind.model_prefix}-{100 + int(rng.random() * 900)}Z{self.unsafe_models}"
        else:
            model = f"{kind.model_prefix}-{100 + int(rng.random() * 900)}{pick(_MODEL_SUFFIXES)}"
        low, high = kind.price
        seller: Seller = pick(self.sellers[shop][kind.category])
        return Item(
            shop=shop,
            item_id=item_id(shop, number),
            kind=kind,
            brand=pick(kind.brands),
            model=model,
            variant=pick(kind.variants),
            feature=pick(kind.features),
            seller=seller,
            seller_id=seller.id_on(shop),
            price=f"{min(high, (low + int(rng.random() * (high + 1 - low))) // 10 * 10 + 9)}.00",
            added_on_day=day,
        )

    def _add(self, shop: str, case: Case, day: int) -> None:
        item = self._item(shop, len(self.items[shop]) + 1, case, day)
        self.items[shop].append(item)
        self.listings[shop].append(self.writer.write(item, case))

    def first_day(self) -> None:
        rng = self.rng
        for shop in self.shops:
            cases = list(REQUIRED[: self.size])
            cases += [_random_case(rng) for _ in range(self.size - len(cases))]
            rng.shuffle(cases)
            for case in cases:
                self._add(shop, case, 1)

    def next_day(self, day: int) -> None:
        """Mend one violation, remove about a tenth of what is on sale, add a few new listings."""
        rng = self.rng
        for shop in self.shops:
            listings = self.listings[shop]
            active = [i for i, listing in enumerate(listings) if listing.removed_on_day is None]
            violating = [
                i for i in active if listings[i].expected_verdict in ("no_licence_shown", "invalid_licence")
            ]
            if violating:
                fixed = rng.choice(violating)
                item = self.items[shop][fixed]
                listings[fixed] = self.writer.write(
                    item, Case("licensed", "valid", ("fixed",), item.kind.key)
                )
                active.remove(fixed)
            for i in rng.sample(active, k=round(len(active) * 0.1)):
                listings[i] = replace(listings[i], removed_on_day=day)
            news = [Case("no_licence_shown"), Case("licensed", "valid")]
            news += [_random_case(rng) for _ in range(len(active) // 50 - 2)]
            for case in news:
                self._add(shop, case, day)


def generate_days(seed: int = 7, size: int = 40, last_day: int = 1) -> list[list[DemoListing]]:
    """The listings of every shop as of each day 1..last_day (removed ones stay, with removed_on_day set)."""
    collecting = gc.isenabled()
    gc.disable()  # many young objects and no cycles: the collector would only slow this down
    try:
        later = [shop for shop in SHOPS if shop not in FIRST_SHOPS]
        markets = [_Market(seed, size, FIRST_SHOPS)] + [
            _Market(f"{seed}:{shop}", size, (shop,), OWN_STREAM[shop]) for shop in later
        ]
        listings = {shop: market.listings[shop] for market in markets for shop in market.shops}
        for market in markets:
            market.first_day()
        days = [[listing for shop in SHOPS for listing in listings[shop]]]
        for day in range(2, last_day + 1):
            for market in markets:
                market.next_day(day)
            days.append([listing for shop in SHOPS for listing in listings[shop]])
    finally:
        if collecting:
            gc.enable()
    return days


def generate(seed: int = 7, size: int = 40, day: int = 1) -> list[DemoListing]:
    """The listings of every shop (`size` per shop on day 1) as of `day`, shop by shop."""
    if day < 1:
        raise ValueError(f"day must be 1 or later, not {day}")
    return generate_days(seed, size, day)[-1]


def ghost_listing(seed: int, shop: str) -> DemoListing:
    """A plausible listing that a shop's search and sitemap still link to, though its page is gone (404)."""
    rng = random.Random(f"{seed}:ghost:{shop}")
    kind = KINDS["power_bank"]
    seller = sellers_by_category(shop)[kind.category][0]
    item = Item(
        shop,
        item_id(shop, 0),
        kind,
        kind.brands[0],
        "PB-100",
        kind.variants[1],
        kind.features[0],
        seller,
        seller.id_on(shop),
        "399.00",
    )
    return ListingWriter(rng).write(item, Case("no_licence_shown"))
