"""The token shop itself, over HTTP without a browser: its JSON refuses calls without the page's token,
removed listings answer 200 with "product not found", and a burst meets a challenge."""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from demo.generator import generate
from demo.handler import ShopServer
from demo.tokenshop import CHALLENGE_ERROR, TokenShop, page_token
from demo.world import DemoState

SEED, SIZE = 7, 30


def _serve(shop: TokenShop) -> Iterator[str]:
    server = ShopServer(("127.0.0.1", 0), shop)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield server.base_url.removeprefix("http://")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def day2() -> Iterator[str]:
    yield from _serve(TokenShop(DemoState(SEED, SIZE, 2, faults=False)))


def get(address: str, target: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(address, timeout=10)
    try:
        connection.request("GET", target)
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


def nonce_of(address: str, target: str) -> str:
    status, _, body = get(address, target)
    assert status == 200
    found = re.search(r'data-nonce="([^"]+)"', body.decode())
    assert found is not None
    return found[1]


def signed(nonce: str, path: str, query: str = "") -> str:
    return f"{path}?{query}{'&' if query else ''}nonce={quote(nonce)}&token={page_token(nonce, path)}"


def token_listings(day: int) -> list[Any]:
    return [item for item in generate(SEED, SIZE, day) if item.shop == "token"]


def test_the_json_answers_only_with_the_token_the_page_computes(day2: str) -> None:
    live = next(item for item in token_listings(2) if item.active_on(2))
    path = f"/api/v4/item/{live.item_id}"
    nonce = nonce_of(day2, f"/p/{live.item_id}")
    other = nonce_of(day2, "/search?q=")
    assert nonce != other  # a nonce per page
    forged = "0" + nonce[1:]
    for target in (path, f"{path}?nonce={quote(nonce)}", f"{path}?nonce={quote(nonce)}&token=1234",
                   signed(nonce, "/api/v4/search").replace("/api/v4/search", path),
                   f"{path}?nonce={quote(forged)}&token={page_token(forged, path)}",
                   signed(nonce, "/api/v4/search", "keyword=").replace("nonce=", "x=")):  # fmt: skip
        status, _, body = get(day2, target)
        assert (status, json.loads(body)["error"]) == (403, 403), target
    status, _, body = get(day2, signed(nonce, path))
    assert status == 200
    data = json.loads(body)["data"]
    assert (data["itemid"], data["name"], data["price"]) == (
        live.item_id,
        live.title,
        int(float(live.price) * 100_000),
    )
    status, _, body = get(day2, signed(other, "/api/v4/search", "keyword=&page=2"))
    answer = json.loads(body)
    assert status == 200
    assert answer["total"] == len([i for i in token_listings(2) if i.active_on(2)]) > 20
    assert (len(answer["items"]), answer["nomore"]) == (answer["total"] - 20, True)


def test_a_removed_listing_answers_200_with_product_not_found(day2: str) -> None:
    removed = next(item for item in token_listings(2) if item.removed_on_day == 2)
    status, _, _ = get(day2, f"/p/{removed.item_id}")
    assert status == 200
    nonce = nonce_of(day2, f"/p/{removed.item_id}")
    status, _, body = get(day2, signed(nonce, f"/api/v4/item/{removed.item_id}"))
    assert (status, json.loads(body)) == (200, {"error": 4, "error_msg": "product not found", "data": None})
    assert get(day2, "/p/t999999")[0] == 404  # never there
    assert get(day2, signed(nonce, "/api/v4/item/t999999"))[0] == 404


def test_a_burst_from_one_client_meets_a_challenge() -> None:
    shop = TokenShop(DemoState(SEED, SIZE, 1, faults=False), burst=5, window_s=30, cooldown_s=30)
    for address in _serve(shop):
        item_id = token_listings(1)[0].item_id
        assert [get(address, f"/p/{item_id}")[0] for _ in range(5)] == [200] * 5
        status, headers, _ = get(address, f"/p/{item_id}")
        assert (status, headers["Location"]) == (302, f"/verify?next=/p/{item_id}")
        status, _, body = get(address, f"/api/v4/item/{item_id}")
        assert (status, json.loads(body)["error"]) == (403, CHALLENGE_ERROR)
        status, _, body = get(address, "/verify?next=/p/x")
        assert status == 200
        assert b'id="challenge"' in body
        assert get(address, "/robots.txt")[0] == 200
