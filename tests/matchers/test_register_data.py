"""The shipped register (data/standards.csv) and its builder (data/build_register.py)."""

from __future__ import annotations

import csv
import importlib.util
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

import matchers
from core.numbers import canonical_tis
from matchers.register import DEFAULT_STANDARDS, ensure_default_register, import_register, load_register
from store.db import Store

DATA = Path(__file__).resolve().parents[2] / "data"
FIXTURES = Path(__file__).parent / "fixtures"


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_register", DATA / "build_register.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_register = _builder()


def _shipped() -> list[dict[str, str]]:
    with DEFAULT_STANDARDS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_shipped_register_is_package_data_read_from_data() -> None:
    """The importer reads the register from inside the matchers package (so an installed package has
    it), and in the checkout that is data/standards.csv itself, not a copy that could drift from it."""
    assert DEFAULT_STANDARDS.parent == Path(matchers.__file__).resolve().parent
    assert DEFAULT_STANDARDS.is_symlink()
    assert DEFAULT_STANDARDS.samefile(DATA / "standards.csv")


def test_the_shipped_register_imports_cleanly(any_store: Store) -> None:
    version = ensure_default_register(any_store)
    assert version is not None
    assert (version.kind, version.source_name, version.row_count) == ("standards", "standards.csv", 149)
    assert ensure_default_register(any_store) is None  # only once
    with any_store.session() as session:
        register = load_register(session)
    assert len(register.standards) == 149
    assert all(entry.keywords_th and entry.keywords_en for entry in register.standards)
    for entry in register.standards:
        keywords = [word.casefold() for word in (*entry.keywords_th, *entry.keywords_en)]
        clashes = [word for word in entry.exclude_keywords if any(word.casefold() in k for k in keywords)]
        assert not clashes, f"{entry.tis_number}: exclude words inside its own keywords: {clashes}"


def test_no_default_register_over_imported_standards(sqlite_store: Store) -> None:
    import_register(sqlite_store, FIXTURES / "standards_small.csv")
    assert ensure_default_register(sqlite_store) is None


# (TIS number, words that must be among its keywords, words that must be among its exclusions)
SHIPPED_CASES = [
    ("369-2557", ["หมวกกันน็อค", "หมวกกันน็อก", "หมวกกันน๊อค", "หมวกกันน๊อก", "motorcycle helmet"], ["หมวกจักรยาน"]),
    (
        "2879-2560",
        ["พาวเวอร์แบงค์", "พาวเวอร์แบงก์", "เพาเวอร์แบงค์", "แบตสำรอง", "power bank", "powerbank"],
        ["เคส", "case", "ซอง", "สติ๊กเกอร์"],
    ),
    (
        "2432-2555",
        ["ปลั๊กพ่วง", "ปลั๊กราง", "รางปลั๊ก", "รางปลั๊กไฟ", "extension cord", "power strip"],
        ["ที่เก็บสายไฟ"],
    ),
    ("685 เล่ม 1-2562", ["ของเล่น", "ตุ๊กตา", "อาร์ตทอย", "ลาบูบู้", "labubu"], ["pet toy", "dog toy", "ของเล่นแมว"]),
    ("166-2549", ["ปลั๊ก", "เต้ารับ"], ["ปลั๊กพ่วง", "earplug"]),
    ("60335 เล่ม 2(23)-2564", ["ไดร์เป่าผม", "ไดร์", "hair dryer"], ["กิ๊บ", "ไขควง"]),
    ("2217-2548", ["แบตเตอรี่", "ถ่าน 18650"], ["พาวเวอร์แบงค์", "แบตเตอรี่รถยนต์"]),
]


@pytest.mark.parametrize(("tis", "keywords", "excluded"), SHIPPED_CASES)
def test_shipped_keywords_and_exclusions(tis: str, keywords: list[str], excluded: list[str]) -> None:
    rows = {row["tis_number"]: row for row in _shipped()}
    row = rows[tis]
    words = row["keywords_th"].split("|") + row["keywords_en"].split("|")
    assert set(keywords) <= set(words)
    assert set(excluded) <= set(row["exclude_keywords"].split("|"))


def test_the_shipped_file_is_built_from_the_current_keyword_tables() -> None:
    tables = tomllib.loads((DATA / "keywords.toml").read_text(encoding="utf-8"))
    rows = {row["tis_number"]: row for row in _shipped()}
    assert list(rows) == [canonical_tis(number) for number in rows]
    for number, extra in tables["standards"].items():
        row = rows[canonical_tis(number)]
        assert set(extra["th"]) <= set(row["keywords_th"].split("|")), number
        assert set(extra["en"]) <= set(row["keywords_en"].split("|")), number
        assert set(extra["exclude"]) <= set(row["exclude_keywords"].split("|")), number
    assert DEFAULT_STANDARDS.read_bytes() == build_register.render(list(rows.values())).encode("utf-8")


SOURCE = [
    {"tis_number": "2879-2560", "name_th": "พาวเวอร์แบงค์ ", "name_en": "Power banks", "group": "battery",
     "keywords_th": "พาวเวอร์แบงค์|แบตสำรอง", "keywords_en": "power bank", "verified": "yes", "source": "x"},
    {"tis_number": "มอก. 685 เล่ม 1-2562", "name_th": "ของเล่น", "name_en": "Toys", "group": "toy_child",
     "keywords_th": "ของเล่น", "keywords_en": "toy", "verified": "yes", "source": "x"},
    {"tis_number": "3418-2565", "name_th": "คาร์ซีท", "name_en": "Car seats", "group": "vehicle_safety",
     "keywords_th": "คาร์ซีท", "keywords_en": "car seat", "verified": "no", "source": "x"},
]  # fmt: skip
TABLES = {
    "groups": {"all": ["sticker"], "battery": ["แบตเตอรี่รถยนต์", "แบต"], "toy_child": ["toy box"]},
    "standards": {
        "2879-2560": {
            "th": ["พาวเวอร์แบงก์", "แบตสำรอง"],
            "en": ["Power Bank", "powerbank"],
            "exclude": ["เคส"],
        },
        "685 เล่ม1-2562": {"th": [], "en": [], "exclude": ["pet toy"]},
    },
}


def test_builder_keeps_verified_rows_and_merges_the_tables() -> None:
    rows = build_register.build_rows(SOURCE, TABLES)
    assert [row["tis_number"] for row in rows] == ["2879-2560", "685 เล่ม 1-2562"]
    power = rows[0]
    assert power["name_th"] == "พาวเวอร์แบงค์"
    assert power["keywords_th"] == "พาวเวอร์แบงค์|แบตสำรอง|พาวเวอร์แบงก์"
    assert power["keywords_en"] == "power bank|powerbank"  # "Power Bank" repeats "power bank"
    # the group word "แบต" is part of the keyword แบตสำรอง, so it is dropped for this standard
    assert power["exclude_keywords"] == "เคส|sticker|แบตเตอรี่รถยนต์"
    assert rows[1]["exclude_keywords"] == "pet toy|sticker|toy box"
    assert rows[1]["in_force"] == ""


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        (
            {"standards": {"2879-2560": {"exclude": ["แบต"]}}},
            "2879-2560: exclude word 'แบต' is part of a keyword",
        ),
        (
            {"standards": {"3418-2565": {"th": ["x"]}}},
            "3418-2565: in keywords.toml but not a verified standard",
        ),
        ({"standards": {"2879-2560": {"th": ["=cmd"]}}}, "2879-2560: keywords_th has a word starting with"),
    ],
)
def test_builder_refuses_inconsistent_tables(tables: dict[str, object], message: str) -> None:
    with pytest.raises(build_register.BuildError, match=message):
        build_register.build_rows(SOURCE, tables)


def test_builder_output_is_deterministic_and_importable(sqlite_store: Store, tmp_path: Path) -> None:
    source = tmp_path / "reference.csv"
    with source.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(SOURCE[0]))
        writer.writeheader()
        writer.writerows(SOURCE)
    keywords = tmp_path / "keywords.toml"
    keywords.write_text(
        '[standards."2879-2560"]\nth = ["แบตเตอรี่สำรอง"]\nen = []\nexclude = ["ซอง"]\n', "utf-8"
    )
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert build_register.main([str(source), "--out", str(first), "--keywords", str(keywords)]) == 0
    assert build_register.main([str(source), "--out", str(second), "--keywords", str(keywords)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert b"\r\n" not in first.read_bytes()
    version = import_register(sqlite_store, first)
    assert (version.kind, version.row_count) == ("standards", 2)
