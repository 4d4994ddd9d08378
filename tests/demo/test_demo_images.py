"""Product labels shown only in a picture: which listings have one, their truth in both modes, the served PNG."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import chompjs
import pytest
from PIL import Image

from core.numbers import canonical_tis
from demo import DemoListing, generate, write_registers
from demo.label import label_png
from demo.listing import SHOPS
from demo.server import ShopsHandle
from matchers.images import image_fields, read_image
from matchers.marks import listing_fields, read_licences, read_marks
from tests.demo.conftest import token_item
from tests.matchers.test_images import needs_tesseract, needs_zbar

Get = Callable[[str], Any]
SEED, SIZE = 7, 30  # the `shops` fixture's


def labelled(seed: int = SEED, size: int = SIZE) -> list[DemoListing]:
    return [x for x in generate(seed=seed, size=size) if x.label is not None]


def test_every_shop_has_a_licence_label_and_a_qr_only_label() -> None:
    found = labelled()
    for shop in SHOPS:
        tricks = sorted(x.tricks for x in found if x.shop == shop)
        assert tricks == [("licence_in_image_only",), ("qr_in_image_only",)], shop
    assert len(labelled(seed=SEED, size=300)) == 2 * len(
        SHOPS
    )  # a handful: only the required cases have labels


def test_truth_in_both_modes_and_a_text_without_any_mark() -> None:
    for listing in labelled():
        label = listing.label
        assert label is not None
        assert listing.expected_tis == label.tis
        assert listing.truth() == listing.truth(read_images=False) == ("no_licence_shown", None)
        assert (listing.expected_verdict, listing.expected_licence_no) == ("no_licence_shown", None)
        if "licence_in_image_only" in listing.tricks:
            assert label.licence_no is not None
            assert listing.truth(read_images=True) == ("licensed", "valid")
        else:
            assert label.licence_no is None
            assert listing.truth(read_images=True) == ("needs_review", None)
        assert label.qr.startswith("https://appdb.tisi.go.th/Q/i.php?d=")
        assert len(label.qr.rsplit("=", 1)[1]) == 10
        assert listing.images[1] == label.path == f"/img/{listing.item_id}/label.png"
        fields = listing_fields(listing.title, listing.description, listing.spec)
        assert (read_marks(fields), read_licences(fields)) == ([], [])
    plain = [x for x in generate(seed=SEED, size=SIZE) if x.label is None]
    assert all(x.truth(read_images=True) == x.truth() for x in plain)


def test_the_register_holds_each_pictured_licence_as_active(tmp_path: Path) -> None:
    paths = write_registers(tmp_path, seed=SEED, size=SIZE, filler=50, last_day=1)
    with paths["licences"].open(encoding="utf-8", newline="") as handle:
        rows = {row["licence_no"]: row for row in csv.DictReader(handle)}
    for listing in labelled():
        assert listing.label is not None
        if listing.label.licence_no is None:
            continue
        row = rows[listing.label.licence_no]
        assert (row["status"], row["tis_number"]) == ("active", listing.label.tis)
        assert not row["brands"] or listing.brand in row["brands"].split("|")


def test_labels_are_drawn_the_same_from_the_same_seed() -> None:
    first = {x.item_id: label_png(x.label, x.brand, x.model) for x in labelled() if x.label}
    label_png.cache_clear()
    again = {x.item_id: label_png(x.label, x.brand, x.model) for x in labelled() if x.label}
    assert first == again
    for png in first.values():
        image = Image.open(io.BytesIO(png))
        assert (image.format, image.width > 600) == ("PNG", True)


def _image_urls(shops: ShopsHandle, get: Get, listing: DemoListing) -> list[str]:
    """The image URLs the listing's page (html JSON-LD, api JSON, browser and token JSON, state script) gives."""
    base = shops.urls[listing.shop]
    if listing.shop == "html":
        page = get(shops.product_url("html", listing.item_id)).text
        start = page.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
        return [str(url) for url in json.loads(page[start : page.index("</script>", start)])["image"]]
    if listing.shop == "api":
        return [str(url) for url in get(shops.api_item_url(listing.item_id)).json()["images"]]
    if listing.shop == "state":
        page = get(shops.product_url("state", listing.item_id)).text
        script = page[page.index("window.__INITIAL_STATE__ = ") : page.rindex("</script>")]
        return [base + str(url) for url in chompjs.parse_js_object(script)["pdp"]["item"]["images"]]
    if listing.shop == "token":  # the JSON answers only with the token its page computes
        return [base + str(url) for url in token_item(base, listing.item_id).json()["data"]["images"]]
    return [base + str(url) for url in get(f"{base}/data/item/{listing.item_id}.json").json()["images"]]


@needs_zbar
def test_the_shops_serve_the_label_with_the_tisi_qr(shops: ShopsHandle, get: Get) -> None:
    for listing in labelled():
        assert listing.label is not None
        url = shops.urls[listing.shop] + listing.label.path
        assert url in _image_urls(shops, get, listing)
        answer = get(url)
        assert (answer.status, answer.headers["Content-Type"]) == (200, "image/png")
        assert answer.body == label_png(listing.label, listing.brand, listing.model)
        reading = read_image(answer.body, url, ocr=False)
        assert reading.error is None
        assert reading.qr == (listing.label.qr,)
        assert reading.tisi_qr == (listing.label.qr.rsplit("=", 1)[1],)
    other = get(shops.urls["html"] + labelled()[0].images[0])
    assert read_image(other.body, "grey.png", ocr=False).qr == ()  # the other pictures are plain


@needs_tesseract
@pytest.mark.parametrize("seed", [SEED, 11])
def test_ocr_reads_the_mark_and_licence_on_every_label(seed: int) -> None:
    for listing in labelled(seed=seed):
        assert listing.label is not None
        source = f"http://shop{listing.label.path}"
        fields = image_fields([read_image(label_png(listing.label, listing.brand, listing.model), source)])
        marks, licences = read_marks(fields), read_licences(fields)
        assert [m.tis.canonical for m in marks] == [canonical_tis(listing.label.tis)], fields
        assert {m.where for m in [*marks, *licences]} == {f"image {source}"}
        read = [x.canonical for x in licences]
        if listing.label.licence_no is None:
            assert read == [], fields
            continue
        assert read[:1] == [listing.label.licence_no], fields
        # read_licences also takes "น1054-65(2" after ใบอนุญาต from "น1054-65(2)/369" (in any text)
        assert all(listing.label.licence_no.startswith(number) for number in read), fields
