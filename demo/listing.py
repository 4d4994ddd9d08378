"""One listing of a demo marketplace, with the ground truth a matcher is expected to find.

A few controlled listings show their TIS mark, licence number and TISI QR code only in a product picture
(a `Label`, drawn by `demo.label`); their text shows no licence. Their truth depends on a setting, so it is
recorded for both: `expected_verdict` is what the matcher must say with `match.read_images = false` (the
default, and what `tisiwatch demo` runs with): `no_licence_shown`, since a matcher that does not look at
pictures sees no licence. `label.verdict` is what it must say when it reads images: `licensed` when the
picture shows a licence the register holds as active, `needs_review` when it shows only the mark and a
TISI QR code (the QR names a licence record, but no licence number can be checked). `truth(read_images)`
gives the pair for either mode; `expected_licence_no` stays None, since the text shows none.
"""

from __future__ import annotations

from dataclasses import dataclass

SHOPS: tuple[str, ...] = ("html", "api", "browser", "token", "state")


LICENCE_STATUSES: tuple[str, ...] = (
    "valid",
    "not_found",
    "revoked",
    "suspended",
    "expired",
    "wrong_standard",
    "wrong_brand",
)

TRICKS: tuple[str, ...] = (
    "thai_digits",
    "zero_width",
    "misspelling",
    "spaced_mark",
    "spaced_licence",
    "tis_english",
    "mark_in_spec_only",
    "mark_in_description_only",
    "part_less_tis",
    "bare_mor_kor_claim",
    "component_tis",
    "markup_in_title",
    "licence_in_image_only",
    "qr_in_image_only",
)
"""Presentation tags a generated listing can carry (and "fixed" on a listing mended on a later day)."""


@dataclass(frozen=True, slots=True)
class Label:
    """A product label shown only as a picture: the TIS mark, a licence number (or none) and a TISI QR code."""

    path: str
    """The image's path on the shop (`/img/ID/label.png`); it is also in the listing's `images`."""
    tis: str
    licence_no: str | None
    qr: str
    """The QR code's payload: `https://appdb.tisi.go.th/Q/i.php?d=<10 digits>`."""
    verdict: str
    """The verdict when product images are read (`match.read_images = true`)."""
    licence_status: str | None


@dataclass(frozen=True, slots=True)
class DemoListing:
    """A product page as a demo shop serves it, and what the pipeline should conclude about it."""

    shop: str
    item_id: str
    title: str
    description: str
    brand: str
    model: str
    price: str
    currency: str
    seller_id: str
    seller_name: str
    category: str
    spec: dict[str, str]
    images: list[str]
    expected_verdict: str
    expected_licence_status: str | None
    expected_tis: str | None
    expected_licence_no: str | None = None
    tricks: tuple[str, ...] = ()
    removed_on_day: int | None = None
    added_on_day: int = 1
    label: Label | None = None

    def truth(self, read_images: bool = False) -> tuple[str, str | None]:
        """(verdict, licence status) the matcher must give, with product images read or not."""
        if read_images and self.label is not None:
            return self.label.verdict, self.label.licence_status
        return self.expected_verdict, self.expected_licence_status

    def active_on(self, day: int) -> bool:
        """Whether the listing is on sale (not removed) on `day`."""
        return self.added_on_day <= day and (self.removed_on_day is None or self.removed_on_day > day)


def product_path(shop: str, item_id: str) -> str:
    """The path of the page a person would open for an item of `shop`."""
    if shop == "html":
        return f"/product/{item_id}"
    if shop == "api":
        return f"/item/{item_id}"
    if shop in ("browser", "token"):
        return f"/p/{item_id}"
    if shop == "state":
        return f"/products/i{item_id}.html"
    raise ValueError(f"unknown demo shop {shop!r}")


def api_item_path(item_id: str) -> str:
    """The JSON detail endpoint of the api shop."""
    return f"/api/items/{item_id}"
