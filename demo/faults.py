"""Fault modes at a rate, for reliability drills: the shops misbehave the way real marketplaces do.

With :class:`FaultRates` given, a share ``rate`` of the shops' pages (result pages, sitemaps, API calls,
product pages — never robots.txt or images) is given one fault mode each, chosen from ``kinds`` by a
hash of the seed, the shop and the page's path and query, so a drill knows in advance what will fail:

- ``unavailable``: 503 without Retry-After; ``rate_limited``: 429 with ``Retry-After: 1``;
- ``slow``: the answer comes after ``slow_s`` seconds (past a short crawl timeout: the fetch times out);
- ``truncated``: the headers announce the whole body, half of it is sent, the connection is closed;
- ``redirect_loop`` (product pages only): ``/product/ID`` → ``?loop=1`` → back, for ever.

The first four strike the first ``times`` requests of a page and then it answers normally: the page
stays reachable for a crawler that retries. A redirect loop never ends: its listing is unreachable.
With ``rate_limit`` N above 0, each shop answers at most N requests in any one second and every
other request 429 with ``Retry-After: 1`` (robots.txt and images are neither counted nor limited), the
way a marketplace limits one client — on top of the fault modes, whose ``rate`` may then be 0.

With ``calendar`` on, the HTML shop's last result page links (``rel="next"``) to an events calendar
whose every month links to the next one: an endless chain of pages without listings.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("unavailable", "rate_limited", "slow", "truncated", "redirect_loop")
TRANSIENT = ("unavailable", "rate_limited", "slow", "truncated")
LOOP_PARAM = "loop=1"


@dataclass(frozen=True)
class FaultRates:
    """How often the shops misbehave, and how (see the module docstring)."""

    rate: float = 0.0
    kinds: tuple[str, ...] = KINDS
    times: int = 1
    slow_s: float = 3.0
    calendar: bool = False
    rate_limit: float = 0.0
    """Requests a second each shop answers; the others get 429 with Retry-After (0: no limit)."""

    @property
    def active(self) -> bool:
        return bool(self.rate or self.calendar or self.rate_limit)

    def __post_init__(self) -> None:
        if not 0 <= self.rate <= 1:
            raise ValueError(f"fault rate must be between 0 and 1, not {self.rate}")
        unknown = sorted(set(self.kinds) - set(KINDS))
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds must be some of {', '.join(KINDS)}, not {unknown or 'none'}")
        if self.times < 1 or self.slow_s < 0 or self.rate_limit < 0:
            raise ValueError("fault times must be 1 or more, slow_s and rate_limit 0 or more")

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "kinds": list(self.kinds)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultRates:
        return cls(**{**data, "kinds": tuple(data.get("kinds", KINDS))})


def fault_for(rates: FaultRates, seed: int, shop: str, target: str, product: bool) -> str | None:
    """The fault mode of a page (``target``: path and query), or None. A redirect loop's second leg
    (``?loop=1``) has the fault of the page it came from."""
    path, _, query = target.partition("?")
    kept = "&".join(part for part in query.split("&") if part and part != LOOP_PARAM)
    key = f"{seed}:{shop}:{path}?{kept}".encode()
    digest = hashlib.sha256(key).digest()
    if int.from_bytes(digest[:8], "big") / 2**64 >= rates.rate:
        return None
    kind = rates.kinds[digest[8] % len(rates.kinds)]
    return None if kind == "redirect_loop" and not product else kind


@dataclass
class FaultMill:
    """The shops' fault state: which pages have had their transient faults, and how often."""

    rates: FaultRates
    seed: int
    struck: Counter[str] = field(default_factory=Counter)
    answered: dict[str, deque[float]] = field(default_factory=dict)
    """Per shop, when the requests of the last second were answered (``rate_limit``)."""
    limited: Counter[str] = field(default_factory=Counter)
    """Per shop, the requests answered 429 by the rate limit."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def over_limit(self, shop: str) -> bool:
        """Whether this request of ``shop`` is one too many in the last second (``rate_limit``)."""
        if not self.rates.rate_limit:
            return False
        now = time.monotonic()
        with self._lock:
            recent = self.answered.setdefault(shop, deque())
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if len(recent) >= self.rates.rate_limit:
                self.limited[shop] += 1
                return True
            recent.append(now)
            return False

    def strike(self, shop: str, target: str, product: bool) -> str | None:
        """The fault this request meets, if any (a transient one only its first ``times`` times)."""
        if target.startswith(("/robots.txt", "/img/")):
            return None
        if self.over_limit(shop):
            return "rate_limited"
        if not self.rates.rate:
            return None
        kind = fault_for(self.rates, self.seed, shop, target, product)
        if kind is None or kind == "redirect_loop":
            return kind
        with self._lock:
            self.struck[f"{shop}:{target}"] += 1
            return kind if self.struck[f"{shop}:{target}"] <= self.rates.times else None

    def reset(self) -> None:
        with self._lock:
            self.struck.clear()
            self.answered.clear()
            self.limited.clear()
