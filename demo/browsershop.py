"""The JavaScript-rendered demo shop: its pages are empty shells that fetch JSON and build the listing.

Without running the scripts a crawler sees no title, price or seller. `/search` (and `/`) load results page
by page into `#results`, with a `#load-more` button that disappears after the last page; `/p/ID` renders
`h1.title`, `.price`, `a.seller`, `.description` and `table.spec` from `/data/item/ID.json`.
"""

from __future__ import annotations

from demo.handler import Reply, Shop, json_reply, text_reply
from demo.page import PAGE_SIZE, esc, layout, missing_page, page_number, script_json

_SEARCH_SCRIPT = """
(function () {
  var params = new URLSearchParams(location.search);
  var q = params.get("q") || "", seller = params.get("seller") || "", page = 1;
  var results = document.getElementById("results"), more = document.getElementById("load-more");
  var status = document.getElementById("status");
  function load() {
    more.disabled = true;
    var url = "/data/search.json?q=" + encodeURIComponent(q) + "&seller=" + encodeURIComponent(seller);
    fetch(url + "&page=" + page).then(function (r) { return r.json(); }).then(function (data) {
      data.items.forEach(function (item) {
        var row = document.createElement("div"), link = document.createElement("a");
        var price = document.createElement("span");
        row.className = "result"; link.className = "product-link"; price.className = "price";
        link.href = item.url; link.textContent = item.title; price.textContent = "฿" + item.price;
        row.appendChild(link); row.appendChild(price); results.appendChild(row);
      });
      status.textContent = "พบ " + data.total + " รายการ";
      page += 1;
      if (data.has_more) { more.hidden = false; more.disabled = false; } else { more.remove(); }
    }).catch(function () { status.textContent = "error"; more.disabled = false; more.hidden = false; });
  }
  more.addEventListener("click", load);
  load();
})();
"""

_ITEM_SCRIPT = """
(function () {
  var root = document.getElementById("product"), id = JSON.parse(root.dataset.id);
  function add(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    if (text !== undefined) { el.textContent = text; }
    root.appendChild(el); return el;
  }
  fetch("/data/item/" + encodeURIComponent(id) + ".json").then(function (r) {
    return r.json().then(function (data) { return [r.status, data]; });
  }).then(function (answer) {
    var data = answer[1];
    document.getElementById("status").remove();
    if (answer[0] !== 200) {
      add("h1", "removed", data.status === "removed" ? "สินค้านี้ถูกลบแล้ว" : "ไม่พบสินค้า (404)");
      return;
    }
    document.title = data.title;
    add("h1", "title", data.title);
    add("div", "price", "฿" + data.price);
    var seller = add("a", "seller", data.seller.name); seller.href = data.seller.url;
    add("div", "brand", data.brand); add("div", "model", data.model);
    var gallery = add("div", "gallery");
    data.images.forEach(function (src) {
      var img = document.createElement("img"); img.src = src; gallery.appendChild(img);
    });
    add("div", "description", data.description).style.whiteSpace = "pre-line";
    var table = add("table", "spec");
    data.specs.forEach(function (row) {
      var tr = table.insertRow(), th = document.createElement("th"), td = tr.insertCell();
      th.textContent = row.name; td.textContent = row.value; tr.insertBefore(th, td);
    });
  });
})();
"""


class BrowserShop(Shop):
    name = "browser"
    title = "บ้านสินค้า BaanSinka"

    def product_id(self, path: str) -> str | None:
        return path.removeprefix("/p/") if path.startswith("/p/") else None

    def route(self, path: str, query: dict[str, str], base_url: str) -> Reply:
        if path == "/robots.txt":
            return text_reply("User-agent: *\nDisallow: /cart\n")
        if path in ("/", "/search"):
            body = (
                '<p id="status">กำลังโหลด…</p><div id="results"></div>'
                '<button id="load-more" type="button" hidden>โหลดเพิ่ม</button>'
                f"<script>{_SEARCH_SCRIPT}</script>"
            )
            return Reply(200, layout(self.title, f"ค้นหา | {self.title}", body))
        if path == "/data/search.json":
            return self._search(query)
        if path.startswith("/p/"):
            item_id = path.removeprefix("/p/")
            listing, _removed = self.world.lookup(item_id)
            body = (
                f'<article id="product" data-id="{esc(script_json(item_id))}"><p id="status">กำลังโหลด…</p>'
                f"</article><script>{_ITEM_SCRIPT}</script>"
            )
            return Reply(200 if listing else 404, layout(self.title, f"สินค้า | {self.title}", body))
        if path.startswith("/data/item/") and path.endswith(".json"):
            return self._item(path.removeprefix("/data/item/").removesuffix(".json"), base_url)
        return Reply(404, missing_page(self.title))

    def _search(self, query: dict[str, str]) -> Reply:
        found = self.world.search(query.get("q", ""), query.get("seller", ""))
        page = page_number(query.get("page"))
        chunk = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        items = [
            {"id": i.item_id, "title": i.title, "price": i.price, "url": f"/p/{i.item_id}"} for i in chunk
        ]
        return json_reply(
            {
                "q": query.get("q", ""),
                "page": page,
                "total": len(found),
                "has_more": page * PAGE_SIZE < len(found),
                "items": items,
            }
        )

    def _item(self, item_id: str, base_url: str) -> Reply:
        listing, removed = self.world.lookup(item_id)
        if listing is None:
            return json_reply({"id": item_id, "status": "removed" if removed else "not_found"}, 404)
        return json_reply(
            {
                "id": listing.item_id,
                "title": listing.title,
                "description": listing.description,
                "brand": listing.brand,
                "model": listing.model,
                "category": listing.category,
                "price": listing.price,
                "currency": listing.currency,
                "seller": {
                    "id": listing.seller_id,
                    "name": listing.seller_name,
                    "url": f"/search?seller={listing.seller_id}",
                },
                "specs": [{"name": name, "value": value} for name, value in listing.spec.items()],
                "images": list(listing.images),
                "url": f"{base_url}/p/{listing.item_id}",
                "status": "active",
            }
        )
