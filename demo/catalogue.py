"""The demo catalogue (brands, product kinds, sellers), read once from catalogue.toml next to this module."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_ID_STYLE = {"html": "{slug}", "api": "S{number:05d}", "browser": "u{number:d}", "state": "{number:d}",
             "token": "t{number:d}"}  # fmt: skip
_SELLERS_OF = {"token": "browser"}
"""A shop whose sellers are another's (the catalogue lists sellers for the first three shops)."""


@dataclass(frozen=True, slots=True)
class Brand:
    """A brand and the company that holds its licences; origin ท = made in Thailand, น = imported."""

    name: str
    company: str
    origin: str


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of product: its words, its standard (None when not controlled) and what its pages show."""

    key: str
    role: str
    category: str
    tis: str | None
    names: tuple[str, ...]
    names_en: tuple[str, ...]
    brands: tuple[Brand, ...]
    model_prefix: str
    variants: tuple[str, ...]
    features: tuple[str, ...]
    price: tuple[int, int]
    spec: tuple[tuple[str, tuple[str, ...]], ...]
    misspellings: tuple[str, ...] = ()
    part_less: str | None = None
    base: str = field(init=False)
    """The TIS base number that licence numbers end with ("2879", "685", "60335"); "" when not controlled."""

    def __post_init__(self) -> None:
        base = self.tis.split(" ")[0].split("-")[0] if self.tis else ""
        object.__setattr__(self, "base", base)


@dataclass(frozen=True, slots=True)
class Seller:
    """A seller; the same seller keeps its name on every shop but each shop has its own seller id."""

    number: int
    slug: str
    name: str
    shops: tuple[str, ...]
    categories: tuple[str, ...]

    def id_on(self, shop: str) -> str:
        """The seller's id on `shop` (each marketplace numbers its sellers its own way)."""
        return _ID_STYLE[shop].format(slug=self.slug, number=10_000 + self.number * 37)


def _kind(entry: dict[str, Any], brands: dict[str, Brand]) -> Kind:
    return Kind(
        key=entry["key"],
        role=entry["role"],
        category=entry["category"],
        tis=entry.get("tis"),
        names=tuple(entry["names"]),
        names_en=tuple(entry["names_en"]),
        brands=tuple(brands[name] for name in entry["brands"]),
        model_prefix=entry["model_prefix"],
        variants=tuple(entry["variants"]),
        features=tuple(entry["features"]),
        price=(entry["price"][0], entry["price"][1]),
        spec=tuple((key, tuple(values)) for key, values in entry["spec"].items()),
        misspellings=tuple(entry.get("misspellings", ())),
        part_less=entry.get("part_less"),
    )


def _load() -> tuple[tuple[Kind, ...], tuple[Seller, ...], tuple[str, ...]]:
    data = tomllib.loads((Path(__file__).parent / "catalogue.toml").read_text(encoding="utf-8"))
    brands = {name: Brand(name, row["company"], row["origin"]) for name, row in data["brands"].items()}
    kinds = tuple(_kind(entry, brands) for entry in data["kind"])
    every = tuple(sorted({kind.category for kind in kinds}))
    sellers = tuple(
        Seller(
            number=row["number"],
            slug=row["slug"],
            name=row["name"],
            shops=tuple(row["shops"]),
            categories=every if row["categories"] == ["*"] else tuple(row["categories"]),
        )
        for row in data["seller"]
    )
    return kinds, sellers, tuple(data["register"]["standards"])


_KINDS, SELLERS, STANDARDS = _load()
"""STANDARDS: the verified compulsory TIS numbers, as TISI writes them."""
KINDS: dict[str, Kind] = {kind.key: kind for kind in _KINDS}
CONTROLLED: tuple[Kind, ...] = tuple(kind for kind in _KINDS if kind.role == "controlled")
LOOKALIKES: tuple[Kind, ...] = tuple(kind for kind in _KINDS if kind.role == "lookalike")
AMBIGUOUS: tuple[Kind, ...] = tuple(kind for kind in _KINDS if kind.role == "ambiguous")
LOOKALIKES_REQUIRED: tuple[str, ...] = (
    "power_bank_case",
    "helmet_sticker",
    "pet_toy",
    "phone_case",
    "plug_cover",
)
"""The look-alikes every shop shows at least once."""
TIS_BY_BASE: dict[str, str] = {kind.base: kind.tis for kind in CONTROLLED if kind.tis is not None}
CATEGORIES: tuple[str, ...] = tuple(sorted({kind.category for kind in _KINDS}))
BRANDS_BY_BASE: dict[str, tuple[Brand, ...]] = {kind.base: kind.brands for kind in CONTROLLED}


def sellers_by_category(shop: str) -> dict[str, tuple[Seller, ...]]:
    """For `shop`, the sellers of each category (one nobody specialises in goes to the general stores)."""
    shop = _SELLERS_OF.get(shop, shop)
    general = tuple(s for s in SELLERS if shop in s.shops and len(s.categories) == len(CATEGORIES))
    table: dict[str, tuple[Seller, ...]] = {}
    for category in CATEGORIES:
        found = tuple(s for s in SELLERS if shop in s.shops and category in s.categories)
        table[category] = found or general
    return table
