"""The scheduler's register step: each file is imported on its own, none able to stop the others; a file
refused once, for whatever reason, is not tried again until its content changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import cli
import matchers.register
from scheduler import Pipeline
from store.db import Store
from store.models import PipelineRun, RegisterVersion, UnsafeEntry
from tests.matchers.test_register_hostile import cut_in_row, workbook_parts, write_xlsx
from tests.scheduler.conftest import Make

runner = CliRunner()
FILES = ["registers/good1.csv", "registers/corrupt.xlsx", "registers/good2.csv"]
GOOD1 = "licence_no,tis_number,licensee,brands,status\nท1234-56/2879,2879-2560,บริษัท พลังดี จำกัด,Eloop,active\n"
GOOD2 = "brand,model,reason\nSparky,X-1,{reason}\n"


@pytest.fixture
def pipeline(make_settings: Make, store: Store) -> Pipeline:
    settings = make_settings(schedule={"register_files": FILES})
    folder = settings.data_dir / "registers"
    folder.mkdir(parents=True)
    (folder / "good1.csv").write_text(GOOD1, encoding="utf-8")
    parts = workbook_parts()
    cut_in_row(3)(parts)
    write_xlsx(folder / "corrupt.xlsx", parts)
    (folder / "good2.csv").write_text(GOOD2.format(reason="fire"), encoding="utf-8")
    return Pipeline(settings, store)


def run(pipeline: Pipeline) -> tuple[str, list[tuple[str, str]], dict[str, dict[str, Any]], str | None]:
    outcome = pipeline.run("register", "schedule")
    with pipeline.store.session() as session:
        step = session.get_one(PipelineRun, outcome.run_id).steps[0]
        files = dict(step.stats.get("files", {}))
        error = step.error
    return outcome.status, [(name, status) for name, status, _ in outcome.steps], files, error


def results(files: dict[str, dict[str, Any]]) -> list[str]:
    return [files[name]["result"] for name in FILES]


def versions(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(RegisterVersion)) or 0


def test_a_corrupt_file_stops_neither_the_files_after_it_nor_later_checks(
    pipeline: Pipeline, store: Store, cli_state: None, tmp_path: Path
) -> None:
    before = versions(store)
    status, steps, files, error = run(pipeline)
    assert results(files) == ["imported", "rejected", "imported"]
    assert (status, steps) == ("failed", [("register", "failed"), ("match", "ok")])
    assert versions(store) == before + 2
    reason = files["registers/corrupt.xlsx"]["reason"]
    assert "corrupt.xlsx:3: not a readable XLSX workbook" in reason
    assert error is not None
    assert error.startswith("registers/corrupt.xlsx rejected, nothing imported: register file refused")
    status, steps, files, error = run(pipeline)  # nothing changed: nothing is tried again
    assert results(files) == ["unchanged", "rejected before", "unchanged"]
    assert "corrupt.xlsx:3: not a readable XLSX workbook" in files["registers/corrupt.xlsx"]["reason"]
    assert (status, steps, error) == ("finished", [("register", "ok"), ("match", "skipped")], None)
    (pipeline.settings.data_dir / "registers" / "good2.csv").write_text(GOOD2.format(reason="shock"), "utf-8")
    status, steps, files, error = run(pipeline)  # a changed file after the rejected one is imported
    assert results(files) == ["unchanged", "rejected before", "imported"]
    assert versions(store) == before + 3
    with store.session() as session:
        imported = select(UnsafeEntry.reason).where(UnsafeEntry.model != "PB-1")  # not the fixture's list
        assert session.scalars(imported.order_by(UnsafeEntry.id)).all() == ["fire", "shock"]
    options = [
        "--data-dir",
        str(pipeline.settings.data_dir),
        "--database-url",
        pipeline.settings.database_url,
    ]
    history = runner.invoke(cli.app, [*options, "schedule", "history", "--run", "1"])
    assert history.exit_code == 0, history.output
    said = history.output
    assert '"registers/good1.csv": {"result": "imported"' in said
    assert '"registers/corrupt.xlsx": {"result": "rejected"' in said
    assert '"registers/good2.csv": {"result": "imported"' in said


def test_an_unexpected_failure_is_recorded_for_its_file_and_not_tried_again(
    pipeline: Pipeline, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = matchers.register.import_register
    tried: list[str] = []

    def import_register(store: Store, path: Path, *args: Any, **options: Any) -> RegisterVersion:
        tried.append(Path(path).name)
        if Path(path).name == "good1.csv":
            raise RuntimeError("the checker crashed\x1b[2J")
        return real(store, path, *args, **options)

    monkeypatch.setattr(matchers.register, "import_register", import_register)
    status, _, files, error = run(pipeline)
    assert results(files) == ["failed", "rejected", "imported"]
    assert files["registers/good1.csv"]["reason"] == "RuntimeError: the checker crashed\\x1b[2J"
    assert error is not None
    assert "registers/good1.csv failed, nothing imported: RuntimeError: the checker crashed\\x1b[2J" in error
    assert tried == ["good1.csv", "corrupt.xlsx", "good2.csv"]
    status, _, files, error = run(pipeline)
    assert (status, error) == ("finished", None)
    assert results(files) == ["rejected before", "rejected before", "unchanged"]
    assert files["registers/good1.csv"]["reason"] == "RuntimeError: the checker crashed\\x1b[2J"
    assert tried == ["good1.csv", "corrupt.xlsx", "good2.csv"]  # neither was tried again
    (pipeline.settings.data_dir / "registers" / "good1.csv").write_text(GOOD1 + "\n", encoding="utf-8")
    monkeypatch.setattr(matchers.register, "import_register", real)
    _, _, files, _ = run(pipeline)
    assert results(files) == ["imported", "rejected before", "unchanged"]


def test_a_database_error_is_tried_again_at_the_next_check(
    pipeline: Pipeline, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    real = matchers.register.import_register

    def unreachable(*args: Any, **options: Any) -> RegisterVersion:
        raise OperationalError("insert", {}, Exception("server closed the connection"))

    monkeypatch.setattr(matchers.register, "import_register", unreachable)
    _, _, files, _ = run(pipeline)
    assert results(files) == ["failed", "failed", "failed"]
    assert "sha256" not in files["registers/good1.csv"]  # not the file's fault: not held back
    monkeypatch.setattr(matchers.register, "import_register", real)
    _, _, files, _ = run(pipeline)
    assert results(files) == ["imported", "rejected", "imported"]


def test_rejections_are_remembered_across_a_step_that_recorded_no_files(
    pipeline: Pipeline, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from store import journal

    _, _, files, _ = run(pipeline)
    assert results(files) == ["imported", "rejected", "imported"]
    real = journal.register_hashes
    monkeypatch.setattr(journal, "register_hashes", lambda session: 1 / 0)
    _, steps, files, _ = run(pipeline)  # the step fails as a whole and records no files
    assert (steps[0], files) == (("register", "failed"), {})
    monkeypatch.setattr(journal, "register_hashes", real)
    _, _, files, _ = run(pipeline)
    assert results(files) == ["unchanged", "rejected before", "unchanged"]
