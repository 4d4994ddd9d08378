"""Fault modes at a rate (demo.faults): 503, 429 with Retry-After, slow and truncated answers that
strike a page once, redirect loops that never end, and an endless calendar — for reliability drills."""

from __future__ import annotations

import http.client
import re
import time
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from demo.faults import KINDS, FaultRates, fault_for
from demo.server import ShopsHandle, start_shops

ALL = FaultRates(rate=1.0, slow_s=0.4)


def test_faults_are_chosen_by_the_page_near_the_rate_and_the_same_every_time() -> None:
    rates = FaultRates(rate=0.3)
    pages = [f"/product/p{i}" for i in range(3000)]
    kinds = [fault_for(rates, 7, "html", page, True) for page in pages]
    assert 0.27 < sum(kind is not None for kind in kinds) / len(pages) < 0.33
    assert set(Counter(kinds)) == {None, *KINDS}
    assert kinds == [fault_for(rates, 7, "html", page, True) for page in pages]
    assert kinds != [fault_for(rates, 8, "html", page, True) for page in pages]  # another seed
    loops = [page for page, kind in zip(pages, kinds, strict=True) if kind == "redirect_loop"]
    assert all(fault_for(rates, 7, "html", f"{page}?loop=1", True) == "redirect_loop" for page in loops)
    assert all(fault_for(rates, 7, "html", page, False) is None for page in loops)  # only product pages loop


@pytest.mark.parametrize(
    ("rates", "problem"),
    [
        ({"rate": 1.5}, "between 0 and 1"),
        ({"kinds": ("slow", "teapot")}, "teapot"),
        ({"kinds": ()}, "none"),
        ({"times": 0}, "times must be 1 or more"),
    ],
)
def test_bad_fault_rates_are_refused(rates: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        FaultRates(**rates)  # type: ignore[arg-type]
    assert FaultRates.from_json(ALL.as_json()) == ALL


@pytest.fixture(scope="module")
def faulty() -> Iterator[ShopsHandle]:
    with start_shops(seed=7, size=30, day=1, faults=False, rates=ALL) as handle:
        yield handle


def _get(base: str, target: str) -> tuple[int, dict[str, str], bytes]:
    """One GET without following redirects; a truncated body raises IncompleteRead."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        connection.close()


def _page_with(kind: str, shops: ShopsHandle) -> str:
    """An HTML shop page (a product page for a redirect loop) whose fault is ``kind``."""
    pages = [shops.product_url("html", f"{100000 + n}") for n in range(1, 31)] + [
        f"{shops.urls['html']}/search?q=w{n}" for n in range(200)
    ]
    for url in pages:
        target = url.removeprefix(shops.urls["html"])
        if fault_for(ALL, 7, "html", target, target.startswith("/product/")) == kind:
            return target
    raise AssertionError(f"no page with {kind}")


def test_503_and_429_strike_a_page_once(faulty: ShopsHandle) -> None:
    base = faulty.urls["html"]
    unavailable = _page_with("unavailable", faulty)
    assert [_get(base, unavailable)[0] for _ in range(2)] == [503, 200]
    limited = _page_with("rate_limited", faulty)
    status, headers, _ = _get(base, limited)
    assert (status, headers["Retry-After"]) == (429, "1")
    assert _get(base, limited)[0] == 200


def test_a_slow_page_answers_late_once(faulty: ShopsHandle) -> None:
    base, slow = faulty.urls["html"], _page_with("slow", faulty)
    started = time.monotonic()
    assert _get(base, slow)[0] == 200
    assert time.monotonic() - started >= ALL.slow_s
    started = time.monotonic()
    assert _get(base, slow)[0] == 200
    assert time.monotonic() - started < ALL.slow_s


def test_a_truncated_page_loses_half_its_body_once(faulty: ShopsHandle) -> None:
    base, truncated = faulty.urls["html"], _page_with("truncated", faulty)
    with pytest.raises(http.client.IncompleteRead):
        _get(base, truncated)
    assert _get(base, truncated)[0] == 200


def test_a_redirect_loop_never_ends(faulty: ShopsHandle) -> None:
    base, looping = faulty.urls["html"], _page_with("redirect_loop", faulty)
    for _ in range(3):
        status, headers, _ = _get(base, looping)
        assert (status, headers["Location"]) == (302, f"{looping}?loop=1")
        status, headers, _ = _get(base, f"{looping}?loop=1")
        assert (status, headers["Location"]) == (302, looping)


def test_the_last_result_page_leads_into_an_endless_calendar() -> None:
    with start_shops(seed=7, size=30, day=1, faults=False, rates=FaultRates(calendar=True)) as shops:
        base = shops.urls["html"]
        status, _, body = _get(base, "/search?q=")
        page = body.decode()
        assert status == 200
        assert 'rel="next" href="/search?q=&amp;page=2"' in page  # more results first: no calendar yet
        last = _get(base, "/search?q=&page=2")[2].decode()
        target = re.search(r'rel="next" class="events" href="([^"]+)"', last)
        assert target is not None
        link = target.group(1).replace("&amp;", "&")
        months = []
        for _ in range(30):
            status, _, body = _get(base, link)
            page = body.decode()
            assert status == 200
            assert "product-link" not in page
            months.append(link.split("?")[0])
            link = re.search(r'rel="next" href="([^"]+)"', page).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
        assert months[0] == "/calendar/2026/12"
        assert months[1] == "/calendar/2027/01"
        assert months[-1] == "/calendar/2029/05"
        assert "from=%2Fsearch" in link  # each list of results has its own calendar
