"""The token demo shop: a JavaScript shop whose JSON endpoints refuse any call without a per-page token.

Like the marketplaces whose search and item endpoints need values the page's own script computes, its
HTML pages are empty shells. Each carries a nonce the server signed (``data-nonce``: hex time, a dot,
an HMAC of it); the page's script computes a token from that nonce and the endpoint's path
(:func:`page_token`, FNV-1a in the page) and calls ``/api/v4/search?keyword=&page=&nonce=&token=`` or
``/api/v4/item/ID?nonce=&token=``. Any call without a valid token (a bare HTTP call, a forged or stale
nonce, a token for another path) answers 403.

- ``/`` and ``/search?q=&page=`` render results from the search JSON (``items`` of ``{itemid, name,
  price}``, ``total``, ``nomore``), 20 a page; ``/p/ID`` renders ``#app h1.title``, ``.price`` … from
  the item JSON ``{"error": 0, "data": {...}}``. Prices are integers scaled by 100,000, as some
  marketplaces write them.
- A removed listing still answers 200 everywhere: its JSON is ``{"error": 4, "error_msg": "product not
  found", "data": null}`` and its page says "ไม่พบสินค้า" (product not found). An id the shop never had
  answers 404.
- A burst — more than ``burst`` requests within ``window_s`` seconds from one client address — is met
  with a challenge for ``cooldown_s`` seconds: pages redirect (302) to ``/verify?next=…``, a page with
  ``#challenge`` ("ยืนยันว่าคุณไม่ใช่บอท"), and the JSON endpoints answer 403 ``{"error": 90309999}``.
  ``/verify``, ``/robots.txt`` and images are neither counted nor challenged. The default ``burst``
  (300 in 2 s) is far above what the shipped profile's politeness makes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from decimal import Decimal
from urllib.parse import quote

from demo.handler import Reply, Shop, json_reply, text_reply
from demo.page import PAGE_SIZE, esc, layout, missing_page, page_number
from demo.world import DemoState

PRICE_SCALE = 100_000
NONCE_TTL_S = 600
CHALLENGE_ERROR = 90309999
TOKEN_JS = """
function pageToken(nonce, path) {
  var h = 0x811c9dc5, s = "tm|" + nonce + "|" + path;
  for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h.toString(16);
}
function signed(path, query) {
  var nonce = document.body.dataset.nonce;
  return path + "?" + query + (query ? "&" : "") + "nonce=" + encodeURIComponent(nonce) +
    "&token=" + pageToken(nonce, path);
}
"""
_SEARCH_JS = """
var params = new URLSearchParams(location.search), app = document.getElementById("app");
var q = params.get("q") || "", page = params.get("page") || "1";
fetch(signed("/api/v4/search", "keyword=" + encodeURIComponent(q) + "&page=" + encodeURIComponent(page)))
  .then(function (r) { return r.json(); }).then(function (d) {
    var list = document.createElement("ul"); list.className = "results";
    d.items.forEach(function (it) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.className = "product-link"; a.href = "/p/" + encodeURIComponent(it.itemid); a.textContent = it.name;
      li.appendChild(a); list.appendChild(li);
    });
    app.appendChild(list);
    var status = document.createElement("p"); status.id = "status"; status.textContent = "พบ " + d.total + " รายการ";
    app.appendChild(status);
  });
"""
_ITEM_JS = """
var app = document.getElementById("app"), id = decodeURIComponent(location.pathname.split("/").pop());
function add(tag, cls, text) {
  var el = document.createElement(tag); el.className = cls; el.textContent = text; app.appendChild(el); return el;
}
fetch(signed("/api/v4/item/" + encodeURIComponent(id), "")).then(function (r) { return r.json(); })
  .then(function (d) {
    if (!d.data) { add("h1", "removed", "ไม่พบสินค้า"); add("p", "notice", d.error_msg || "product not found"); return; }
    var it = d.data;
    document.title = it.name; add("h1", "title", it.name);
    add("div", "price", "฿" + (it.price / 100000).toFixed(2));
    add("a", "seller", it.shop.name).href = it.shop.url;
    add("div", "description", it.description).style.whiteSpace = "pre-line";
  });
"""


def page_token(nonce: str, path: str) -> str:
    """The token the page's script computes for ``path`` (32-bit FNV-1a of key, nonce and path)."""
    value = 0x811C9DC5
    for char in f"tm|{nonce}|{path}":
        value = ((value ^ ord(char)) * 0x01000193) & 0xFFFFFFFF
    return f"{value:x}"


class TokenShop(Shop):
    name = "token"
    title = "ตลาดโทเค็น TokenMart"

    def __init__(
        self,
        state: DemoState,
        burst: int = 300,
        window_s: float = 2.0,
        cooldown_s: float = 5.0,
    ) -> None:
        super().__init__(state)
        self.burst, self.window_s, self.cooldown_s = burst, window_s, cooldown_s
        self._secret = hashlib.sha256(f"{state.seed}:token-shop".encode()).digest()
        self._seen: dict[str, deque[float]] = {}
        self._challenged: dict[str, float] = {}
        self._lock = threading.Lock()

    def product_id(self, path: str) -> str | None:
        return path.removeprefix("/p/") if path.startswith("/p/") else None

    # -- the burst challenge -------------------------------------------------------------------------

    def admit(self, client: str, path: str, target: str) -> Reply | None:
        """None when the client may go on; else the challenge (a redirect to /verify, or a 403)."""
        if path in ("/verify", "/robots.txt") or path.startswith("/img/"):
            return None
        now = time.monotonic()
        with self._lock:
            until = self._challenged.get(client, 0.0)
            if until <= now:
                seen = self._seen.setdefault(client, deque())
                seen.append(now)
                while seen and seen[0] < now - self.window_s:
                    seen.popleft()
                if len(seen) <= self.burst:
                    return None
                self._challenged[client] = until = now + self.cooldown_s
                seen.clear()
        if path.startswith("/api/"):
            return json_reply({"error": CHALLENGE_ERROR, "error_msg": "verify", "verify": "/verify"}, 403)
        return Reply(302, b"", "text/plain; charset=utf-8", {"Location": f"/verify?next={quote(target)}"})

    # -- pages and endpoints -------------------------------------------------------------------------

    def route(self, path: str, query: dict[str, str], base_url: str) -> Reply:
        if path == "/robots.txt":
            return text_reply("User-agent: *\nDisallow: /cart\n")
        if path == "/verify":
            body = ('<div id="challenge" class="captcha"><h1>ยืนยันว่าคุณไม่ใช่บอท</h1>'
                    "<p>Please verify you are human.</p></div>")  # fmt: skip
            return Reply(200, layout(self.title, "ยืนยันตัวตน", body))
        if path in ("/", "/search"):
            return Reply(200, self._shell(f"ค้นหา | {self.title}", _SEARCH_JS))
        if path.startswith("/p/"):
            listing, removed = self.world.lookup(path.removeprefix("/p/"))
            return Reply(200 if listing or removed else 404, self._shell(f"สินค้า | {self.title}", _ITEM_JS))
        if path.startswith("/api/v4/"):
            if not self._valid(path, query):
                return json_reply({"error": 403, "error_msg": "invalid token"}, 403)
            if path == "/api/v4/search":
                return self._search(query)
            if path.startswith("/api/v4/item/"):
                return self._item(path.removeprefix("/api/v4/item/"), base_url)
        return Reply(404, missing_page(self.title))

    def _nonce(self) -> str:
        stamp = f"{time.time_ns():x}"
        return f"{stamp}.{hmac.new(self._secret, stamp.encode(), 'sha256').hexdigest()[:16]}"

    def _valid(self, path: str, query: dict[str, str]) -> bool:
        """A token for this path from a nonce this shop signed, not older than ``NONCE_TTL_S``."""
        nonce, token = query.get("nonce", ""), query.get("token", "")
        stamp, _, signature = nonce.partition(".")
        expected = hmac.new(self._secret, stamp.encode(), "sha256").hexdigest()[:16]
        try:
            age_s = (time.time_ns() - int(stamp, 16)) / 1e9
        except ValueError:
            return False
        return (
            hmac.compare_digest(signature, expected)
            and -60 < age_s < NONCE_TTL_S
            and hmac.compare_digest(token, page_token(nonce, path))
        )

    def _shell(self, title: str, script: str) -> bytes:
        body = f'<div id="app"></div><script>{TOKEN_JS}{script}</script>'
        page = layout(self.title, title, body).decode()
        return page.replace("<body>", f'<body data-nonce="{esc(self._nonce())}">', 1).encode()

    def _search(self, query: dict[str, str]) -> Reply:
        found = self.world.search(query.get("keyword", ""))
        page = page_number(query.get("page"))
        chunk = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        items = [{"itemid": i.item_id, "name": i.title, "price": _scaled(i.price)} for i in chunk]
        return json_reply({"total": len(found), "page": page, "nomore": page * PAGE_SIZE >= len(found),
                           "items": items})  # fmt: skip

    def _item(self, item_id: str, base_url: str) -> Reply:
        listing, removed = self.world.lookup(item_id)
        if listing is None:
            if removed:
                return json_reply({"error": 4, "error_msg": "product not found", "data": None})
            return json_reply({"error": 404, "error_msg": "no such item", "data": None}, 404)
        data = {
            "itemid": listing.item_id,
            "name": listing.title,
            "description": listing.description,
            "brand": listing.brand,
            "model": listing.model,
            "price": _scaled(listing.price),
            "currency": listing.currency,
            "shop": {
                "shopid": listing.seller_id,
                "name": listing.seller_name,
                "url": f"/shop/{listing.seller_id}",
            },
            "attributes": [{"name": name, "value": value} for name, value in listing.spec.items()],
            "images": list(listing.images),
            "url": f"{base_url}/p/{listing.item_id}",
        }
        return Reply(200, json.dumps({"error": 0, "data": data}, ensure_ascii=False).encode(),
                     "application/json; charset=utf-8")  # fmt: skip


def _scaled(price: str) -> int:
    return int(Decimal(price) * PRICE_SCALE)
