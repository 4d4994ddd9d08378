"""Importing register files as versions, and loading a version for the matcher."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from matchers.register import (
    LicenceEntry,
    Register,
    StandardEntry,
    import_register,
    load_register,
    summary,
)
from store.db import Store
from store.models import Licence, RegisterVersion
from store.register import in_force

FIXTURES = Path(__file__).parent / "fixtures"


def test_licences_with_thai_headers_bom_and_thai_digits(any_store: Store) -> None:
    version = import_register(any_store, FIXTURES / "licences_thai.csv")
    assert (version.kind, version.source_name, version.row_count) == ("licences", "licences_thai.csv", 4)
    assert len(version.source_sha256) == 64
    with any_store.session() as session:
        register = load_register(session)
    assert set(register.licences) == {"ท1234-56/2879", "น5678-61/166", "ท2222-62/685", "น3333(2)-63/2432"}
    assert register.licences["ท1234-56/2879"] == LicenceEntry(
        licence_no="ท 1234-56 / 2879",
        tis_number="2879-2560",
        licensee="บริษัท พาวเวอร์ดี จำกัด",
        brands=("PowerD", "พาวเวอร์ดี"),
        status="active",
        issued=date(2020, 4, 1),  # 2563-04-01 is a Buddhist-era date
        expires=date(2025, 3, 31),
    )
    suspended = register.licences["น5678-61/166"]
    assert (suspended.status, suspended.issued, suspended.expires, suspended.brands) == (
        "suspended",
        date(2018, 6, 1),  # 01/06/2561, day first
        None,
        (),
    )
    assert register.licences["ท2222-62/685"].tis_number == "685 เล่ม 1-2562"
    assert register.licences["ท2222-62/685"].status == "revoked"
    assert register.licences["น3333(2)-63/2432"].licensee == "บริษัท รางปลั๊ก, จำกัด"
    assert register.licences["น3333(2)-63/2432"].status == "expired"


def test_standards_and_unsafe_load_as_plain_data(any_store: Store) -> None:
    import_register(any_store, FIXTURES / "standards_small.csv")
    import_register(any_store, FIXTURES / "unsafe_small.csv")
    with any_store.session() as session:
        register = load_register(session)
    assert [entry.tis_number for entry in register.standards] == [
        "2879-2560",
        "685 เล่ม 1-2562",
        "60335 เล่ม 2(23)-2564",
    ]
    assert register.standards[0] == StandardEntry(
        tis_number="2879-2560",
        tis_base="2879",
        name_th="แบตเตอรี่สำรองไฟฟ้าสำหรับการใช้งานแบบพกพา",
        name_en="Power banks",
        group="",
        keywords_th=("พาวเวอร์แบงค์", "แบตสำรอง"),
        keywords_en=("power bank",),
        exclude_keywords=("เคส", "case"),
        in_force=date(2018, 9, 1),
    )
    assert register.standard("685 เล่ม 1-2562") is register.standards[1]
    assert register.standard("9999-2560") is None
    assert register.standards_for_base("60335") == [register.standards[2]]
    zap, zap2, robo = register.unsafe
    assert (zap.brand_key, zap.model_key, zap.tis_number, zap.listed_on) == (
        "zap power",
        "pb10000",
        "2879-2560",
        date(2024, 3, 1),
    )
    assert (zap2.tis_number, zap2.source, zap2.listed_on) == (None, None, None)
    assert (robo.model_key, robo.tis_number, robo.listed_on) == (
        "robox1",
        "685 เล่ม 1-2562",
        date(2024, 2, 15),
    )


def test_each_version_points_to_the_newest_import_of_each_kind(any_store: Store) -> None:
    first = import_register(any_store, FIXTURES / "standards_small.csv")
    licences = import_register(any_store, FIXTURES / "licences_thai.csv")
    unsafe = import_register(any_store, FIXTURES / "unsafe_small.csv", kind="unsafe")
    second = import_register(any_store, FIXTURES / "standards_small.csv")
    pointers = [(v.standards_from, v.licences_from, v.unsafe_from) for v in (first, licences, unsafe, second)]
    assert pointers == [
        (first.id, None, None),
        (first.id, licences.id, None),
        (first.id, licences.id, unsafe.id),
        (second.id, licences.id, unsafe.id),
    ]
    with any_store.session() as session:
        current = in_force(session)
        assert current is not None
        assert current.version == second.id
        at_first = load_register(session, first.id)
        at_licences = load_register(session, licences.id)
        now = load_register(session)
        versions = session.scalar(select(func.count()).select_from(RegisterVersion))
    assert versions == 4
    assert (len(at_first.standards), len(at_first.licences), len(at_first.unsafe)) == (3, 0, 0)
    assert (len(at_licences.standards), len(at_licences.licences), len(at_licences.unsafe)) == (3, 4, 0)
    assert (now.version_id, len(now.standards), len(now.licences), len(now.unsafe)) == (second.id, 3, 4, 3)


def test_a_new_licence_import_replaces_the_licence_register(sqlite_store: Store, tmp_path: Path) -> None:
    import_register(sqlite_store, FIXTURES / "licences_thai.csv")
    smaller = tmp_path / "licences-2025.csv"
    smaller.write_text(
        "licence_no,tis_number,licensee,status\nท9999-68/2879,2879-2560,บริษัท ใหม่ จำกัด,active\n",
        encoding="utf-8",
    )
    version = import_register(sqlite_store, smaller)
    with sqlite_store.session() as session:
        register = load_register(session)
        stored = session.scalar(select(func.count()).select_from(Licence))
    assert register.version_id == version.id
    assert list(register.licences) == ["ท9999-68/2879"]
    assert stored == 5  # the older version's rows stay, for verdicts made under it


def test_before_any_import_the_register_is_empty(any_store: Store) -> None:
    with any_store.session() as session:
        assert in_force(session) is None
        empty = Register(version_id=None, standards=[], licences={}, unsafe=[], imported=frozenset())
        assert load_register(session) == empty
        assert empty.missing == ["licences", "unsafe"]
        with pytest.raises(LookupError, match="no register version 42"):
            load_register(session, 42)
        assert summary(session) == {
            "current_version": None,
            "kinds": {"standards": None, "licences": None, "unsafe": None},
            "imports": [],
        }


def test_summary_says_where_each_kind_comes_from(any_store: Store) -> None:
    standards = import_register(any_store, FIXTURES / "standards_small.csv")
    licences = import_register(any_store, FIXTURES / "licences_thai.csv")
    with any_store.session() as session:
        info = summary(session)
    assert info["current_version"] == licences.id
    assert info["kinds"]["unsafe"] is None
    assert info["kinds"]["standards"]["version"] == standards.id
    assert info["kinds"]["standards"]["rows"] == 3
    assert info["kinds"]["licences"]["source_name"] == "licences_thai.csv"
    assert [item["version"] for item in info["imports"]] == [licences.id, standards.id]
    assert [item["kind"] for item in info["imports"]] == ["licences", "standards"]
    assert info["imports"][0]["imported_at"].tzinfo is not None


def test_xlsx_first_sheet_with_date_and_number_cells(any_store: Store, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["เลขที่ใบอนุญาต", "มอก.", "ผู้รับใบอนุญาต", "สถานะ", "วันที่ออก", "วันหมดอายุ"])
    sheet.append(["ท1234-56/2879", "2879-2560", "บริษัท ก จำกัด", "ปกติ", datetime(2021, 5, 1), "2026-04-30"])
    sheet.append([None, None, None, None, None, None])  # an empty row is skipped
    sheet.append(["น77-60/166", 166.0, "Plug Co., Ltd.", "active", None, None])
    workbook.create_sheet("notes").append(["this sheet is not read"])
    path = tmp_path / "licences.xlsx"
    workbook.save(path)
    version = import_register(any_store, path)
    assert (version.kind, version.row_count) == ("licences", 2)
    with any_store.session() as session:
        licences = load_register(session).licences
    assert licences["ท1234-56/2879"].issued == date(2021, 5, 1)
    assert licences["ท1234-56/2879"].expires == date(2026, 4, 30)
    assert licences["น77-60/166"].tis_number == "166"


def test_the_kind_must_be_known(sqlite_store: Store) -> None:
    with pytest.raises(ValueError, match="unknown register kind 'licence'"):
        import_register(sqlite_store, FIXTURES / "licences_thai.csv", kind="licence")


LICENCE = LicenceEntry("ท1-60/2879", "2879-2560", "x", (), "active", date(2020, 1, 1), date(2024, 12, 31))
STATUS_ON_CASES = [
    (LICENCE, date(2024, 12, 31), "active"),
    (LICENCE, date(2025, 1, 1), "expired"),
    (
        LicenceEntry("ท1-60/2879", "2879-2560", "x", (), "revoked", None, date(2024, 12, 31)),
        date(2025, 1, 1),
        "revoked",
    ),
    (LicenceEntry("ท1-60/2879", "2879-2560", "x", (), "active", None, None), date(2099, 1, 1), "active"),
]


@pytest.mark.parametrize(("licence", "day", "expected"), STATUS_ON_CASES)
def test_licence_status_on_a_day(licence: LicenceEntry, day: date, expected: str) -> None:
    assert licence.status_on(day) == expected


def test_review_keywords_are_an_optional_column_with_a_thai_header(any_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "standards.csv"
    path.write_text(
        "เลขที่ มอก.,ชื่อมาตรฐาน,คำค้น,คำที่ต้องตรวจ\n"
        "685 เล่ม 1-2562,ของเล่น,ของเล่น|ตุ๊กตา,15 ปีขึ้นไป|นักสะสม\n"
        "2879-2560,พาวเวอร์แบงค์,พาวเวอร์แบงค์,\n",
        encoding="utf-8",
    )
    import_register(any_store, path)
    with any_store.session() as session:
        toys, power_banks = load_register(session).standards
    assert toys.review_keywords == ("15 ปีขึ้นไป", "นักสะสม")
    assert power_banks.review_keywords == ()
