"""Case files and officers' decisions: by default only confirmed cases (QC-passed with ``[review] qc``)
are exported, each carrying its decision and its case status; the export records them as sent once,
and exporting the same cases again gives the same case data."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from config import Settings
from reports.casefile import case_id, export_cases
from reports.verify import verify_casefile
from scheduler.steps import CasesStep, StepContext, TakedownsStep
from store.clock import utcnow
from store.db import Store
from store.decisions import check, decide
from store.models import CaseSend, Listing
from store.people import add_user
from tests.reports.report_builders import DAY1, World, bkk

PASSWORD = "correct horse battery staple"


def _world(store: Store) -> dict[str, int]:
    """Six violating listings and one licensed; decisions on five of them."""
    with store.session() as session:
        world = World(session)
        world.register(standards={"2879-2560": "แบตเตอรี่สำรอง"})
        ids = {}
        for name in ("confirmed", "dismissed", "asked", "returned", "passed", "undecided"):
            listing = world.listing(name)
            world.observe(listing, bkk(DAY1, 9), "no_licence_shown")
            ids[name] = listing.id
        fine = world.listing("fine")
        world.observe(fine, bkk(DAY1, 9), "licensed")
        officer = add_user(session, "somchai", "officer", PASSWORD)
        supervisor = add_user(session, "malee", "supervisor", PASSWORD)
        at = bkk(DAY1, 14)
        decide(session, officer, [ids["confirmed"], ids["returned"], ids["passed"]], "confirmed", now=at)
        decide(session, officer, [ids["dismissed"]], "dismissed", reason="licence_valid", now=at)
        decide(session, officer, [ids["asked"]], "needs_information", now=at)
        [returned] = decide(session, officer, [ids["returned"]], "confirmed", now=at + timedelta(minutes=1))
        [passed] = decide(session, officer, [ids["passed"]], "confirmed", now=at + timedelta(minutes=1))
        check(session, supervisor, returned.id, "returned", now=at + timedelta(hours=1))
        check(session, supervisor, passed.id, "passed", now=at + timedelta(hours=1))
        return ids


def _cases(path: Path) -> list[dict[str, Any]]:
    with zipfile.ZipFile(path) as archive:
        return [json.loads(line) for line in archive.read("cases.jsonl").decode().splitlines()]


def _entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _sends(store: Store) -> list[tuple[str, str, str]]:
    with store.session() as session:
        rows = session.execute(
            select(Listing.marketplace_id, CaseSend.status, CaseSend.export_name)
            .join(Listing, Listing.id == CaseSend.listing_id)
            .order_by(Listing.marketplace_id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _qc(settings: Settings) -> Settings:
    return settings.model_copy(update={"review": settings.review.model_copy(update={"qc": True})})


def test_the_default_export_is_the_confirmed_cases_recorded_as_sent_once(
    any_store: Store, settings: Settings, tmp_path: Path
) -> None:
    _world(any_store)
    out = tmp_path / "cases-1.zip"
    summary = export_cases(any_store, settings, out=out)
    cases = _cases(out)
    by_key = {case["listing_key"]: case for case in cases}
    assert set(by_key) == {"shop-a:confirmed", "shop-a:returned", "shop-a:passed"}
    assert (summary.cases, summary.sent) == (3, 3)
    first = by_key["shop-a:confirmed"]
    assert first["case_id"] == case_id("shop-a:confirmed")
    assert (first["officer_decision"], first["decided_by"]) == ("confirmed", "somchai")
    assert first["decided_at"] == "2025-03-10T07:00:00Z"
    assert first["case_status"] == "sent"
    assert first["sent_at"] is not None
    assert first["status_at"] is None
    assert _sends(any_store) == [
        ("confirmed", "sent", "cases-1.zip"),
        ("passed", "sent", "cases-1.zip"),
        ("returned", "sent", "cases-1.zip"),
    ]
    manifest = json.loads(_entries(out)["manifest.json"])
    assert manifest["selection"] == "confirmed"
    assert verify_casefile(out).ok
    # the same cases again: the same case data, nothing sent twice
    again = export_cases(any_store, settings, out=tmp_path / "cases-2.zip")
    assert again.sent == 0
    one, two = _entries(out), _entries(tmp_path / "cases-2.zip")
    for name in one:
        if name not in {"manifest.json", "manifest.sig"}:
            assert one[name] == two[name], name
    assert len(_sends(any_store)) == 3


def test_with_qc_only_cases_whose_confirmation_passed(
    any_store: Store, settings: Settings, tmp_path: Path
) -> None:
    _world(any_store)
    out = tmp_path / "cases.zip"
    summary = export_cases(any_store, _qc(settings), out=out)
    assert [case["listing_key"] for case in _cases(out)] == ["shop-a:passed"]
    assert summary.sent == 1
    assert json.loads(_entries(out)["manifest.json"])["selection"] == "confirmed_qc_passed"
    assert _sends(any_store) == [("passed", "sent", "cases.zip")]


def test_all_violations_keeps_every_violating_listing_and_sends_nothing(
    any_store: Store, settings: Settings, tmp_path: Path
) -> None:
    _world(any_store)
    out = tmp_path / "all.zip"
    summary = export_cases(any_store, settings, out=out, all_violations=True)
    decisions = {case["listing_key"]: case["officer_decision"] for case in _cases(out)}
    assert decisions == {
        "shop-a:confirmed": "confirmed",
        "shop-a:dismissed": "dismissed",
        "shop-a:asked": "needs_information",
        "shop-a:returned": "confirmed",
        "shop-a:passed": "confirmed",
        "shop-a:undecided": None,
    }
    assert (summary.cases, summary.sent) == (6, 0)
    assert _sends(any_store) == []
    assert all(case["case_status"] is None for case in _cases(out))


def test_no_decision_no_case(sqlite_store: Store, settings: Settings, tmp_path: Path) -> None:
    with sqlite_store.session() as session:
        world = World(session)
        world.observe(world.listing("x"), bkk(DAY1, 9), "no_licence_shown")
    summary = export_cases(sqlite_store, settings, out=tmp_path / "cases.zip")
    assert (summary.cases, summary.sent) == (0, 0)
    assert verify_casefile(tmp_path / "cases.zip").ok


def test_the_scheduler_steps_send_and_then_track_the_cases(
    sqlite_store: Store, settings: Settings, tmp_path: Path
) -> None:
    ids = _world(sqlite_store)
    context = StepContext(settings, sqlite_store, job="daily", contain=True)
    out = settings.data_dir / "cases" / "cases-2025-03-10.zip"
    done = CasesStep(out, make_folder=True).run(context)
    assert done.ok, done.error
    assert (done.counts["cases"], done.counts["sent"]) == (3, 3)
    assert "3 newly sent to ETDA" in done.summary
    assert {name for name, _, export in _sends(sqlite_store) if export == out.name} == {
        "confirmed",
        "passed",
        "returned",
    }
    with sqlite_store.session() as session:
        world = World(session)
        world.observe(session.get_one(Listing, ids["confirmed"]), utcnow(), gone=True)  # found gone after
    tracked = TakedownsStep().run(context)
    assert tracked.ok, tracked.error
    assert tracked.counts == {"open": 3, "taken_down": 1, "still_online": 0}
    assert ("confirmed", "taken_down", out.name) in _sends(sqlite_store)
    with sqlite_store.session() as session:
        assert session.scalar(select(func.count()).select_from(CaseSend)) == 3
