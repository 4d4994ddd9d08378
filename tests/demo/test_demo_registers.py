"""The demo register files: the SPEC's format, and consistent with the listings' ground truth."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from demo import generate_days, write_registers
from demo.catalogue import STANDARDS
from demo.writer import LICENCE_COLUMNS, UNSAFE_COLUMNS

SEED, SIZE, FILLER = 7, 30, 150


@pytest.fixture(scope="module")
def registers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, str]]]:
    paths = write_registers(tmp_path_factory.mktemp("registers"), seed=SEED, size=SIZE, filler=FILLER)
    assert set(paths) == {"licences", "unsafe"}
    tables = {}
    for name, path in paths.items():
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        raw.decode("utf-8")
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            assert tuple(reader.fieldnames or ()) == (
                LICENCE_COLUMNS if name == "licences" else UNSAFE_COLUMNS
            )
            tables[name] = list(reader)
    return tables


def test_the_files_are_well_formed(registers: dict[str, list[dict[str, str]]]) -> None:
    licences, unsafe = registers["licences"], registers["unsafe"]
    numbers = [row["licence_no"] for row in licences]
    assert len(numbers) == len(set(numbers))
    for row in licences:
        assert row["status"] in {"active", "suspended", "revoked", "expired"}
        assert row["tis_number"] in STANDARDS
        assert row["licensee"]
        issued = dt.date.fromisoformat(row["issued"])
        if row["expires"]:
            assert dt.date.fromisoformat(row["expires"]) > issued
        if row["status"] == "expired":
            assert dt.date.fromisoformat(row["expires"]) < dt.date(2025, 1, 1)
    for row in unsafe:
        assert row["brand"]
        assert row["model"]
        dt.date.fromisoformat(row["listed_on"])
    for row in [*licences, *unsafe]:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), row


def test_licences_agree_with_the_listings(registers: dict[str, list[dict[str, str]]]) -> None:
    licences = {row["licence_no"]: row for row in registers["licences"]}
    unsafe = {(row["brand"], row["model"]) for row in registers["unsafe"]}
    listings = [listing for day in generate_days(SEED, SIZE, last_day=3) for listing in day]
    shown = {x.expected_licence_no for x in listings if x.expected_licence_no}
    unknown = {x.expected_licence_no for x in listings if x.expected_licence_status == "not_found"}
    assert len(licences) == len(shown) - len(unknown) + FILLER
    for listing in listings:
        status, number = listing.expected_licence_status, listing.expected_licence_no
        assert ((listing.brand, listing.model) in unsafe) == (listing.expected_verdict == "unsafe"), listing
        row = licences.get(number or "")
        if status == "not_found" or number is None:
            assert row is None
            continue
        assert row is not None, listing
        brands = row["brands"].split("|") if row["brands"] else []
        if status == "valid":
            assert (row["status"], row["tis_number"]) == ("active", listing.expected_tis)
            assert not brands or listing.brand in brands
        elif status in ("revoked", "suspended", "expired"):
            assert (row["status"], row["tis_number"]) == (status, listing.expected_tis)
        elif status == "wrong_standard":
            assert row["status"] == "active"
            assert row["tis_number"] != listing.expected_tis
        elif status == "wrong_brand":
            assert (row["status"], row["tis_number"]) == ("active", listing.expected_tis)
            assert brands
            assert listing.brand not in brands


def test_the_register_can_be_as_large_as_tisis(tmp_path: Path) -> None:
    paths = write_registers(tmp_path, seed=3, size=30, filler=20_000)
    with paths["licences"].open(encoding="utf-8", newline="") as handle:
        numbers = [row["licence_no"] for row in csv.DictReader(handle)]
    assert len(numbers) > 20_000
    assert len(numbers) == len(set(numbers))
