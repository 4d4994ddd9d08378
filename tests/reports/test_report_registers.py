"""Which register versions a report was made with, and how old each is: :func:`register_status` (also
behind ``tisiwatch register show``), the warnings at the top of the page and on the workbook's first
sheet, and the register versions of the day's verdicts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import update

from config import ReportConfig, Settings
from matchers.register import import_register
from reports.daily import DailyReport, build_daily_report
from reports.page import card_id
from reports.register import register_status
from reports.wording import LABELS
from store.db import Store
from store.models import RegisterVersion
from tests.reports.report_builders import DAY1, DAY2, World, bkk

NOW = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)
LICENCES = "licence_no,tis_number,licensee,brands,status\nท1234-56/2879,2879-2560,บริษัท ก จำกัด,ACME,active\n"
UNSAFE = "brand,model,tis_number,reason\nBOOM,PB-1,2879-2560,ระเบิดขณะชาร์จ\n"
MISSING_LICENCES = "ยังไม่เคยนำเข้าทะเบียนใบอนุญาต"
EMPTY_LICENCES = "ทะเบียนใบอนุญาตที่นำเข้าไม่มีใบอนุญาตเลย"
MISSING_UNSAFE = "ยังไม่เคยนำเข้ารายการสินค้าไม่ปลอดภัย"
UNCHECKED = "licence numbers shown in listings could not be checked"


def _imported(store: Store, path: Path, kind: str, at: datetime) -> int:
    """Import a register file for real, then date the import ``at``."""
    version = import_register(store, path, kind)
    with store.session() as session:
        session.execute(update(RegisterVersion).where(RegisterVersion.id == version.id).values(created_at=at))
    return version.id


def test_register_status_names_each_kinds_import_and_its_age(any_store: Store, tmp_path: Path) -> None:
    with any_store.session() as session:
        assert [(s.kind, s.version, s.problem) for s in register_status(session, NOW)] == [
            ("standards", None, "missing"), ("licences", None, "missing"), ("unsafe", None, "missing"),
        ]  # fmt: skip
    (tmp_path / "licences.csv").write_text(LICENCES, encoding="utf-8")
    (tmp_path / "unsafe.csv").write_text(UNSAFE, encoding="utf-8")
    standards = _imported(
        any_store, Path("data/standards.csv"), "standards", NOW - timedelta(days=40, hours=1)
    )
    licences = _imported(any_store, tmp_path / "licences.csv", "licences", NOW - timedelta(days=10))
    unsafe = _imported(any_store, tmp_path / "unsafe.csv", "unsafe", NOW - timedelta(hours=5))
    with any_store.session() as session:
        now = {s.kind: s for s in register_status(session, NOW)}
        earlier = {s.kind: s for s in register_status(session, NOW - timedelta(days=20))}
        lenient = {s.kind: s for s in register_status(session, NOW, stale_days=60)}
    assert {s.in_force for s in now.values()} == {unsafe}
    assert [(s.version, s.source_name, s.age_days, s.problem) for s in now.values()] == [
        (standards, "standards.csv", 40, "stale"), (licences, "licences.csv", 10, None),
        (unsafe, "unsafe.csv", 0, None),
    ]  # fmt: skip
    assert now["licences"].rows == 1
    assert now["licences"].imported_at == NOW - timedelta(days=10)
    assert now["licences"].imported_at.tzinfo is not None
    assert len(now["standards"].source_sha256 or "") == 64
    # twenty days ago only the standards were in force, twenty days old
    assert [(s.in_force, s.version, s.age_days, s.problem) for s in earlier.values()] == [
        (standards, standards, 20, None), (standards, None, None, "missing"), (standards, None, None, "missing"),
    ]  # fmt: skip
    assert lenient["standards"].problem is None
    assert now["licences"].record()["imported_at"] == "2025-05-22T03:00:00Z"


def _versions(world: World, kinds: dict[str, int | None], at: datetime) -> RegisterVersion:
    """A register version that imported ``kinds`` (kind -> rows), keeping the other kinds as they were."""
    version = world.register(at, {"2879-2560": "แบตเตอรี่สำรอง"} if "standards" in kinds else None)
    previous = world.versions[-2] if len(world.versions) > 1 else None
    for kind in ("licences", "unsafe"):
        pointer = f"{kind}_from"
        setattr(version, pointer, version.id if kind in kinds else getattr(previous, pointer, None))
    version.kind = next(iter(kinds))
    version.row_count = next(iter(kinds.values())) or 0
    world.session.flush()
    return version


def _report(
    store: Store, out: Path, kinds: list[dict[str, int | None]], settings: Settings | None = None
) -> Path:
    with store.session() as session:
        world = World(session)
        for number, imported in enumerate(kinds):
            _versions(world, imported, bkk(DAY1, 1) - timedelta(days=len(kinds) - number))
        world.observe(world.listing("p1", title="พาวเวอร์แบงค์ 20000mAh"), bkk(DAY1), "no_licence_shown")
    return build_daily_report(store, out, DAY1, settings=settings).html


def _top(html: str) -> str:
    """The page above its first heading."""
    return html[html.index("<body>") : html.index("<h1>")]


def test_a_missing_licence_register_and_unsafe_list_are_banners_at_the_top(
    any_store: Store, tmp_path: Path
) -> None:
    html = _report(any_store, tmp_path / "r", [{"standards": 1}]).read_text("utf-8")
    top = _top(html)
    assert 'class="notice notice-missing"' in top
    assert MISSING_LICENCES in top
    assert UNCHECKED in top
    assert top.index(MISSING_LICENCES) < top.index(UNCHECKED)  # Thai first
    assert MISSING_UNSAFE in top
    assert "notice-stale" not in top


def test_an_empty_licence_register_is_a_banner(any_store: Store, tmp_path: Path) -> None:
    html = _report(any_store, tmp_path / "r", [{"standards": 1}, {"unsafe": 3}, {"licences": 0}])
    top = _top(html.read_text("utf-8"))
    assert EMPTY_LICENCES in top
    assert "The licence register holds no licences" in top
    assert MISSING_UNSAFE not in top


def test_complete_fresh_registers_have_no_banner(any_store: Store, tmp_path: Path) -> None:
    html = _report(any_store, tmp_path / "r", [{"standards": 1}, {"licences": 5}, {"unsafe": 3}])
    assert 'class="notices"' not in html.read_text("utf-8")


def test_a_stale_register_is_a_milder_banner_by_the_setting(any_store: Store, tmp_path: Path) -> None:
    kinds: list[dict[str, int | None]] = [{"standards": 1}, *[{"licences": 5}] * 44, {"unsafe": 3}]
    # the standards were imported 46 days before DAY1 01:00, the licences 2 days, the unsafe list 1 day
    html = _report(any_store, tmp_path / "r", kinds).read_text("utf-8")
    top = _top(html)
    assert top.count('class="notice notice-') == 1
    assert 'class="notice notice-stale"' in top
    assert "ทะเบียนมาตรฐานบังคับนำเข้าเมื่อ 46 วันก่อน (เกิน 30 วัน)" in top
    assert "The standards register was imported 46 days ago (more than 30)" in top
    lenient = Settings(report=ReportConfig(register_stale_days=60))
    again = build_daily_report(any_store, tmp_path / "lenient", DAY1, settings=lenient).html
    assert 'class="notices"' not in again.read_text("utf-8")


@dataclass
class Used:
    """A day whose verdicts were made under two register versions, and the report of it."""

    report: DailyReport
    old: RegisterVersion
    licences: RegisterVersion
    newest: RegisterVersion


@pytest.fixture
def used(any_store: Store, tmp_path: Path) -> Used:
    with any_store.session() as session:
        world = World(session)
        old = _versions(world, {"standards": 1}, bkk(DAY1, 1) - timedelta(days=3))
        world.session.execute(update(RegisterVersion).where(RegisterVersion.id == old.id).values(
            source_name="มาตรฐาน<script>.csv"))  # fmt: skip
        licences = _versions(world, {"licences": 7}, bkk(DAY1, 1) - timedelta(days=2))
        world.observe(world.listing("old"), bkk(DAY1), "no_licence_shown", register=old)
        newest = _versions(world, {"unsafe": 2}, bkk(DAY1, 2))
        world.observe(world.listing("new"), bkk(DAY1, 3), "no_licence_shown", register=newest)
        world.observe(world.listing("also"), bkk(DAY1, 3), "no_licence_shown", register=newest)
    return Used(build_daily_report(any_store, tmp_path / "r", DAY1), old, licences, newest)


def _card(html: str, listing_key: str) -> str:
    start = html.index(f'id="{card_id(listing_key)}"')
    return html[start : html.index("</article>", start)]


def test_the_page_and_the_data_say_which_registers_were_used(used: Used) -> None:
    html = used.report.html.read_text("utf-8")
    section = html[html.index('<section id="registers">') : html.index('<section id="charts">')]
    assert "มาตรฐาน&lt;script&gt;.csv" in section  # the file name, escaped
    assert f'<td class="n">{used.licences.id}</td>' in section
    assert (bkk(DAY1, 1) - timedelta(days=2)).strftime("%Y-%m-%d %H:%M") in section  # imported, Bangkok time
    assert "(Asia/Bangkok)" in section
    assert f"<strong>{used.newest.id}</strong> (2)" in section
    assert f'<strong class="older">{used.old.id}</strong> (1 — <span lang="th">เก่ากว่าฉบับที่ใช้อยู่' in section
    assert "older than the register in force" in _card(html, "shop-a:old")  # made under the old version
    assert "older than the register in force" not in _card(html, "shop-a:new")

    document = json.loads(used.report.json.read_text("utf-8"))
    assert [(r["kind"], r["version"], r["rows"]) for r in document["registers"]] == [
        ("standards", used.old.id, 1), ("licences", used.licences.id, 7), ("unsafe", used.newest.id, 2),
    ]  # fmt: skip
    assert document["verdict_register_versions"] == {str(used.old.id): 1, str(used.newest.id): 2}


def test_the_workbook_says_which_registers_were_used(used: Used) -> None:
    book = openpyxl.load_workbook(used.report.xlsx)
    assert book.sheetnames[0] == "summary"
    rows = [[cell.value for cell in row] for row in book["summary"].iter_rows()]
    header = rows.index([LABELS[k].both() for k in ("register", "version", "source_file")] +
                        [LABELS["imported_at"].both() + " (Asia/Bangkok)", LABELS["age_days"].both(), LABELS["rows"].both()])  # fmt: skip
    standards, licence_row, unsafe = rows[header + 1 : header + 4]
    assert standards[:3] == ["ทะเบียนมาตรฐานบังคับ · standards register", used.old.id, "มาตรฐาน<script>.csv"]
    assert licence_row[1:3] == [used.licences.id, "standards.csv"]  # (the builder names every file so)
    assert licence_row[3] == (bkk(DAY1, 1) - timedelta(days=2)).replace(tzinfo=None)  # a Bangkok time
    assert licence_row[4:] == [2, 7]
    assert unsafe[4] == 0
    versions = rows.index([LABELS["verdict_versions"].both(), LABELS["count"].both(), None, None, None, None])
    assert rows[versions + 1][:3] == [used.newest.id, 2, None]
    assert rows[versions + 2][:3] == [used.old.id, 1, LABELS["older_version"].both()]
    book.close()


@pytest.mark.parametrize(
    ("kinds", "said"),
    [
        ([{"standards": 1}], [MISSING_LICENCES, MISSING_UNSAFE]),
        ([{"standards": 1}, {"unsafe": 1}, {"licences": 0}], [EMPTY_LICENCES]),
        ([{"standards": 1}, {"licences": 3}, {"unsafe": 1}], []),
    ],
)
def test_the_workbooks_first_sheet_warns_of_the_same(
    sqlite_store: Store, tmp_path: Path, kinds: list[dict[str, int | None]], said: list[str]
) -> None:
    xlsx = _report(sqlite_store, tmp_path / "r", kinds).with_name("report.xlsx")
    book = openpyxl.load_workbook(xlsx)
    first = book.worksheets[0]
    warnings = [
        str(row[0].value)
        for row in first.iter_rows(min_row=2, max_row=4)
        if str(row[0].value).startswith("⚠")
    ]
    assert len(warnings) == len(said)
    for text, warning in zip(said, warnings, strict=True):
        assert warning.startswith(f"⚠ {text}")
    assert all(first[f"A{row}"].font.color.rgb.endswith("C0392B") for row in range(2, 2 + len(said)))
    book.close()


def test_register_status_of_today_is_taken_now_and_of_a_past_day_at_its_end(
    sqlite_store: Store, tmp_path: Path
) -> None:
    with sqlite_store.session() as session:
        world = World(session)
        _versions(world, {"standards": 1}, bkk(DAY1, 1))
        _versions(world, {"licences": 4}, bkk(DAY2, 1))
    past = build_daily_report(sqlite_store, tmp_path / "day1", DAY1)
    document = json.loads(past.json.read_text("utf-8"))
    assert [r["version"] for r in document["registers"]] == [1, None, None]  # the licences came later
    assert document["register_version"] == 1
    assert MISSING_LICENCES in past.html.read_text("utf-8")
