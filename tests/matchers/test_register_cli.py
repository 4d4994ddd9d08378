"""`tisiwatch register import` given what it cannot use: an unknown kind, a directory, a missing file, a
corrupt workbook, control characters. Each ends in an error without a traceback, the database unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from store.db import Store
from tests.matchers.test_register_errors import GOOD, HEADER, counts
from tests.matchers.test_register_hostile import cut_in_row, workbook_parts, write_xlsx

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[str], Store]]:
    """The CLI on a fresh SQLite database that holds the default register."""
    monkeypatch.setattr(cli, "state", cli.State())
    monkeypatch.setenv("COLUMNS", "250")  # no line is wrapped
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(url)
    options = ["--data-dir", str(tmp_path), "--database-url", url]
    assert runner.invoke(cli.app, [*options, "init"]).exit_code == 0
    yield options, store
    store.dispose()


def refused(db: tuple[list[str], Store], *arguments: str) -> list[str]:
    """Run ``register import`` that must fail; the lines it printed."""
    options, store = db
    before = counts(store)
    result = runner.invoke(cli.app, [*options, "register", "import", *arguments])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a traceback
    assert "Traceback" not in result.output
    assert counts(store) == before, "a refused import changed the database"
    return result.output.splitlines()


def test_an_unknown_kind_is_one_line(db: tuple[list[str], Store], tmp_path: Path) -> None:
    path = tmp_path / "licences.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    assert refused(db, str(path), "--kind", "foo") == [
        "error: --kind: 'foo' is not one of standards, licences, unsafe"
    ]


def test_a_directory_is_one_line(db: tuple[list[str], Store], tmp_path: Path) -> None:
    folder = tmp_path / "registers"
    folder.mkdir()
    assert refused(db, str(folder)) == [f"error: {folder} is a directory, not a register file"]


def test_a_missing_file_is_one_line(db: tuple[list[str], Store], tmp_path: Path) -> None:
    assert refused(db, str(tmp_path / "nothing.csv")) == [f"error: {tmp_path / 'nothing.csv'}: no such file"]


def test_a_corrupt_xlsx_is_refused_with_its_row(db: tuple[list[str], Store], tmp_path: Path) -> None:
    parts = workbook_parts()
    cut_in_row(3)(parts)
    lines = refused(db, str(write_xlsx(tmp_path / "licences.xlsx", parts)))
    assert lines[0] == "error: licences.xlsx rejected, nothing imported:"
    assert lines[1] == "register file refused, 1 problem; nothing was imported:"
    assert lines[2].startswith("licences.xlsx:3: not a readable XLSX workbook")
    assert len(lines) == 3


def test_control_characters_and_markup_in_headers_and_names_are_shown_escaped(
    db: tuple[list[str], Store], tmp_path: Path
) -> None:
    path = tmp_path / "x\nerror: forged.csv"
    path.write_text("licence_no,tis_number,licensee,status,\x1b[2J[bold]x[/]\n", encoding="utf-8")
    lines = refused(db, str(path))
    assert lines == [
        "error: x\\x0aerror: forged.csv rejected, nothing imported:",
        "register file refused, 2 problems; nothing was imported:",
        "x\\x0aerror: forged.csv:1:\\x1b[2J[bold]x[/]: unknown column (a licences register has the columns "
        "licence_no, tis_number, licensee, brands, status, issued, expires)",
        "x\\x0aerror: forged.csv:2: no data rows under the header",
    ]


def test_a_good_file_with_a_newline_in_its_name_is_imported_on_one_line(
    db: tuple[list[str], Store], tmp_path: Path
) -> None:
    options, _ = db
    path = tmp_path / "lic\nences\x1b[2J.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    result = runner.invoke(cli.app, [*options, "register", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "imported 1 licences rows from lic\\x0aences\\x1b[2J.csv: register version 2"
    ]
