"""What the demo shops serve: each shop's listings for the current day, indexed once, and the fault state."""

from __future__ import annotations

import threading
from collections import defaultdict

from demo.faults import FaultMill, FaultRates
from demo.generator import generate, ghost_listing
from demo.listing import SHOPS, DemoListing

_SEARCH_CACHE = 512


class ShopWorld:
    """One shop on one day: listings by id, what is on sale, categories, sellers and a search cache.

    `linked` is what the shop's search, categories and sitemap show: everything on sale plus, with faults on,
    one ghost listing whose page answers 404.
    """

    def __init__(self, shop: str, listings: list[DemoListing], day: int, ghost: DemoListing | None) -> None:
        self.shop = shop
        self.day = day
        self.by_id = {listing.item_id: listing for listing in listings if listing.added_on_day <= day}
        self.on_sale = [listing for listing in self.by_id.values() if listing.active_on(day)]
        self.linked = list(self.on_sale)
        if ghost is not None:
            self.linked.insert(min(3, len(self.linked)), ghost)
        self.by_category: dict[str, list[DemoListing]] = defaultdict(list)
        self.by_seller: dict[str, list[DemoListing]] = defaultdict(list)
        for listing in self.linked:
            self.by_category[listing.category].append(listing)
        for listing in self.on_sale:
            self.by_seller[listing.seller_id].append(listing)
        self.missing_id = ghost.item_id if ghost is not None else None
        self.unavailable_id = self.on_sale[2].item_id if ghost is not None and len(self.on_sale) > 4 else None
        self.rate_limited_id = (
            self.on_sale[4].item_id if ghost is not None and len(self.on_sale) > 4 else None
        )
        self._haystack: list[str] | None = None
        self._searches: dict[str, list[DemoListing]] = {}
        self._lock = threading.Lock()

    def lookup(self, item_id: str) -> tuple[DemoListing | None, bool]:
        """The listing with `item_id` if it is on sale, and whether it existed but was removed."""
        listing = self.by_id.get(item_id)
        if listing is None:
            return None, False
        if listing.removed_on_day is not None and listing.removed_on_day <= self.day:
            return None, True
        return listing, False

    def search(self, query: str, seller_id: str = "") -> list[DemoListing]:
        """Linked listings whose title or description contains `query` (case-insensitive), in shop order."""
        needle = query.strip().lower()
        if seller_id:
            return [
                listing for listing in self.by_seller.get(seller_id, []) if needle in listing.title.lower()
            ]
        if not needle:
            return self.linked
        with self._lock:
            found = self._searches.get(needle)
            if found is not None:
                return found
            if self._haystack is None:
                self._haystack = [f"{item.title}\n{item.description}".lower() for item in self.linked]
            haystack = self._haystack
        found = [listing for listing, text in zip(self.linked, haystack, strict=True) if needle in text]
        with self._lock:
            if len(self._searches) >= _SEARCH_CACHE:
                self._searches.pop(next(iter(self._searches)))
            self._searches[needle] = found
        return found


class FaultBook:
    """Remembers which one-time faults have been served, so each fails only on its first request."""

    def __init__(self) -> None:
        self._served: set[str] = set()
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        with self._lock:
            if key in self._served:
                return False
            self._served.add(key)
            return True

    def reset(self) -> None:
        with self._lock:
            self._served.clear()


class DemoState:
    """The shops' shared state: (seed, size), the day being served, the fault switch and fault rates."""

    def __init__(self, seed: int, size: int, day: int, faults: bool, rates: FaultRates | None = None) -> None:
        self.seed, self.size, self.faults = seed, size, faults
        self.book = FaultBook()
        self.mill = FaultMill(rates, seed) if rates is not None and rates.active else None
        self.day = day
        self.worlds: dict[str, ShopWorld] = self._build(day)

    def _build(self, day: int) -> dict[str, ShopWorld]:
        per_shop: dict[str, list[DemoListing]] = {shop: [] for shop in SHOPS}
        for listing in generate(self.seed, self.size, day):
            per_shop[listing.shop].append(listing)
        return {
            shop: ShopWorld(
                shop, per_shop[shop], day, ghost_listing(self.seed, shop) if self.faults else None
            )
            for shop in SHOPS
        }

    def set_day(self, day: int) -> None:
        """Serve `day` from now on (same ports); one-time faults fire again on the new day."""
        worlds = self._build(day)
        self.worlds, self.day = worlds, day
        self.book.reset()
        if self.mill is not None:
            self.mill.reset()

    def world(self, shop: str) -> ShopWorld:
        return self.worlds[shop]

    def fault_ids(self) -> dict[str, dict[str, str]]:
        """Per shop: the item ids that answer 503 once, 429 once, and the linked id that answers 404."""
        table: dict[str, dict[str, str]] = {}
        for shop, world in self.worlds.items():
            ids = {"unavailable": world.unavailable_id, "rate_limited": world.rate_limited_id,
                   "missing": world.missing_id}  # fmt: skip
            table[shop] = {name: value for name, value in ids.items() if value is not None}
        return table
