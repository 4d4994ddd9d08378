"""The CLI: every command has help text; commands work against a temporary database."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer.main
from sqlalchemy import func, select
from typer.testing import CliRunner

import cli
from store.clock import BANGKOK, as_utc
from store.db import Store
from store.models import Licence, Listing, PipelineRun, RegisterVersion, Standard, Verdict
from store.writer import ensure_site, finish_run, start_run

runner = CliRunner()


def all_commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of a Typer group, as (path, command); Typer keeps its own copy of click."""
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from all_commands(command, (*prefix, name))


COMMANDS = sorted(path for path, _ in all_commands(typer.main.get_group(cli.app)))


def test_the_spec_commands_exist() -> None:
    expected = {
        ("init",),
        ("register", "import"),
        ("register", "show"),
        ("crawl",),
        ("match",),
        ("runs",),
        ("report", "daily"),
        ("export", "findings"),
        ("export", "cases"),
        ("verify",),
        ("schedule", "run"),
        ("schedule", "list"),
        ("schedule", "trigger"),
        ("schedule", "history"),
        ("demo",),
        ("demo", "serve"),
    }
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help_text(path: tuple[str, ...]) -> None:
    command: Any = typer.main.get_group(cli.app)
    for name in path:
        command = command.commands[name]
    assert (command.help or "").strip(), f"tisiwatch {' '.join(path)} has no help text"
    result = runner.invoke(cli.app, [*path, "--help"])
    assert result.exit_code == 0
    placeholders = re.findall(r"<[a-z][a-z\[\] ]*>", result.output)
    assert not placeholders, f"type placeholders in the help of tisiwatch {' '.join(path)}: {placeholders}"


def test_the_commands_help_shows_no_type_placeholders() -> None:
    result = runner.invoke(cli.app, ["--help"])
    assert result.exit_code == 0
    assert "--verbose" in result.output
    assert not re.findall(r"<[a-z][a-z\[\] ]*>", result.output)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[str], Store]]:
    monkeypatch.setattr(cli, "state", cli.State())
    monkeypatch.setenv("COLUMNS", "250")  # wide enough that Rich tables keep whole names
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(url)
    yield ["--data-dir", str(tmp_path), "--database-url", url], store
    store.dispose()


def test_init_migrates_and_loads_the_default_register(db: tuple[list[str], Store]) -> None:
    options, store = db
    result = runner.invoke(cli.app, [*options, "init"])
    assert result.exit_code == 0, result.output
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Standard)) > 100
        assert session.scalar(select(func.count()).select_from(RegisterVersion)) == 1


def test_register_import_adds_a_version_and_show_reports_it(
    db: tuple[list[str], Store], tmp_path: Path
) -> None:
    options, store = db
    licences = tmp_path / "licences.csv"
    licences.write_text(
        "licence_no,tis_number,licensee,brands,status\nท1234-56/2879,2879-2560,บริษัท พลังดี จำกัด,Eloop,active\n",
        encoding="utf-8",
    )
    assert runner.invoke(cli.app, [*options, "init"]).exit_code == 0
    result = runner.invoke(cli.app, [*options, "register", "import", str(licences)])
    assert result.exit_code == 0, result.output
    with store.session() as session:
        assert session.scalars(select(Licence.licence_canonical)).all() == ["ท1234-56/2879"]
        assert session.scalar(select(func.count()).select_from(RegisterVersion)) == 2
    shown = runner.invoke(cli.app, [*options, "register", "show"])
    assert shown.exit_code == 0
    rows = {line.split()[0]: line.split() for line in shown.output.splitlines() if line.strip()}
    with store.session() as session:
        imported = session.scalars(select(RegisterVersion.created_at).order_by(RegisterVersion.id)).all()
    local = [f"{as_utc(at).astimezone(BANGKOK):%Y-%m-%d %H:%M}" for at in imported]
    assert "register in force: version 2; times in Asia/Bangkok" in shown.output
    assert rows["standards"][:4] == ["standards", "149", "1", "standards.csv"]
    assert rows["licences"][:4] == ["licences", "1", "2", "licences.csv"]
    assert " ".join(rows["licences"][4:]) == f"{local[1]} 0 days"
    assert (
        " ".join(rows["unsafe"])
        == "unsafe list — — not imported: tisiwatch register import FILE --kind unsafe"
    )
    assert "imports, newest first; times in Asia/Bangkok" in shown.output
    with store.session() as session:  # the licence register grows old: past report.register_stale_days
        session.get_one(RegisterVersion, 2).created_at = datetime.now(UTC) - timedelta(days=40)
    aged = runner.invoke(cli.app, [*options, "register", "show"])
    assert "40 days, stale" in aged.output


def test_runs_fit_80_columns_with_local_times(
    db: tuple[list[str], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    options, store = db
    assert runner.invoke(cli.app, [*options, "init"]).exit_code == 0
    started = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # 06:30 on the 5th in Bangkok
    with store.session() as session:
        site = ensure_site(session, "shopee-th-browser", "browser")
        for _ in range(3):
            run = start_run(session, site, mode="recheck")
            run.started_at = started
            finish_run(session, run.id, "interrupted", {"items": 12345, "failed_urls": 678, "pages": 20000})
    monkeypatch.setenv("COLUMNS", "80")
    listed = runner.invoke(cli.app, [*options, "runs"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = [line.split() for line in lines if line.split()[:1] in (["1"], ["2"], ["3"])]
    assert rows[0] == [
        "3",
        "shopee-th-browser",
        "recheck",
        "2026-12-05",
        "06:30",
        "interrupted",
        "12,345",
        "678",
    ]
    assert "times in Asia/Bangkok" in lines[0]
    detail = runner.invoke(cli.app, [*options, "runs", "--run", "2"])
    assert detail.exit_code == 0, detail.output
    assert "started   2026-12-05 06:30:00 (Asia/Bangkok)" in detail.output
    assert "pages 20,000 · listings 12,345" in detail.output
    missing = runner.invoke(cli.app, [*options, "runs", "--run", "9"])
    assert (missing.exit_code, missing.output.strip()) == (1, "error: no crawl run 9")


def test_runs_show_what_a_planned_run_did_of_its_budget_and_left(db: tuple[list[str], Store]) -> None:
    options, store = db
    assert runner.invoke(cli.app, [*options, "init"]).exit_code == 0
    record = {
        "requests": 2000,
        "open": {"planned": 140, "of": 152, "done": 140},
        "words": {"planned": 40, "of": 1750, "done": 37, "rotation_at": 412, "rotation_next": 449},
        "others": {"planned": 300, "of": 9000, "done": 300},
        "left": {"open": 12, "words": 3, "others": 0},
        "spent": 2003,
    }
    with store.session() as session:
        site = ensure_site(session, "demo-html", "html")
        old = start_run(session, site)  # a run stored before budgets: shown as it always was
        finish_run(session, old.id, "finished", {"items": 5})
        run = start_run(session, site, mode="budget")
        finish_run(session, run.id, "finished", {"items": 480, "requests": 2003, "budget": record})
    listed = runner.invoke(cli.app, [*options, "runs"])
    assert listed.exit_code == 0, listed.output
    said = (
        "run 2: budget 2,000: 140 open-violation re-checks, 37/1,750 words (rotation at 412), "
        "300 other re-checks; 2,003 requests made; left: 12 open-violation re-checks, 3 words"
    )
    assert said in " ".join(listed.output.split())
    assert "run 1:" not in listed.output
    detail = runner.invoke(cli.app, [*options, "runs", "--run", "2"])
    assert "plan budget 2,000: 140 open-violation" in " ".join(detail.output.split())
    assert "plan " not in runner.invoke(cli.app, [*options, "runs", "--run", "1"]).output


def test_a_bad_register_file_is_rejected_with_its_row_and_column(
    db: tuple[list[str], Store], tmp_path: Path
) -> None:
    options, store = db
    bad = tmp_path / "licences.csv"
    bad.write_text(
        "licence_no,tis_number,licensee,brands,status\nท1-56/2879,2879-2560,X,,bogus\n", encoding="utf-8"
    )
    assert runner.invoke(cli.app, [*options, "init"]).exit_code == 0
    result = runner.invoke(cli.app, [*options, "register", "import", str(bad)])
    assert result.exit_code == 1
    assert "licences.csv:2:status" in result.output
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Licence)) == 0


def test_schedule_list_and_history_work_on_a_fresh_database(db: tuple[list[str], Store]) -> None:
    options, store = db
    assert runner.invoke(cli.app, [*options, "init"]).exit_code == 0
    listed = runner.invoke(cli.app, [*options, "schedule", "list"])
    assert listed.exit_code == 0, listed.output
    for job, cron in (("daily", "0 6 * * *"), ("recheck", "0 3 * * 0"), ("register", "*/30 * * * *")):
        assert job in listed.output
        assert cron in listed.output
    history = runner.invoke(cli.app, [*options, "schedule", "history"])
    assert history.exit_code == 0, history.output
    with store.session() as session:  # the commands created the scheduler's tables, with no run yet
        assert session.scalar(select(func.count()).select_from(PipelineRun)) == 0


def test_a_bad_setting_stops_the_command_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "state", cli.State())
    settings = tmp_path / "settings.toml"
    settings.write_text("[crawl]\nconcurency = 3\n", encoding="utf-8")
    result = runner.invoke(cli.app, ["--config", str(settings), "runs"])
    assert result.exit_code == 1
    assert "crawl.concurency: unknown key" in result.output


def test_crawl_match_report_and_export_through_the_cli(db: tuple[list[str], Store], tmp_path: Path) -> None:
    """The analyst's path: init, an HTML-shop crawl with a search word, match, daily report, export."""
    from demo.server import start_shops
    from demo.writer import write_registers

    options, store = db
    assert runner.invoke(cli.app, [*options, "init"]).exit_code == 0
    with start_shops(seed=7, size=30, day=1) as shops:
        result = runner.invoke(
            cli.app,
            [*options, "crawl", "demo-html", "--base-url", shops.urls["html"], "--query", "power bank"],
        )
    assert result.exit_code == 0, result.output
    with store.session() as session:
        titles = session.scalars(select(Listing.title)).all()
    assert titles, "the search found listings"
    result = runner.invoke(cli.app, [*options, "match"])
    assert result.exit_code == 1, "no licence register: match refuses"
    assert "no licence register" in result.output
    for kind, path in write_registers(tmp_path / "registers", seed=7, size=30).items():
        imported = runner.invoke(cli.app, [*options, "register", "import", str(path), "--kind", kind])
        assert imported.exit_code == 0, imported.output
    result = runner.invoke(cli.app, [*options, "match"])
    assert result.exit_code == 0, result.output
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Verdict)) == len(titles)
    runs = runner.invoke(cli.app, [*options, "runs", "--run", "1"])
    assert runs.exit_code == 0, runs.output
    assert "demo-html" in runs.output
    assert "coverage  title 100%" in runs.output
    report = tmp_path / "report"
    assert runner.invoke(cli.app, [*options, "report", "daily", "--out", str(report)]).exit_code == 0
    assert (report / "report.html").stat().st_size > 0
    assert (report / "findings.json").stat().st_size > 0
    out = tmp_path / "findings.jsonl"
    result = runner.invoke(
        cli.app, [*options, "export", "findings", "--all", "--format", "jsonl", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(titles)
    assert {row["verdict"] for row in rows} <= {"licensed", "no_licence_shown", "invalid_licence", "unsafe",
                                                 "not_controlled", "needs_review"}  # fmt: skip


def test_an_unknown_site_is_refused_by_name(db: tuple[list[str], Store]) -> None:
    options, _ = db
    result = runner.invoke(cli.app, [*options, "crawl", "no-such-shop"])
    assert result.exit_code == 1
    assert "no-such-shop: no such site profile" in result.output
