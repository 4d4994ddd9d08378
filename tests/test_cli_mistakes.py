"""Expected mistakes end in one line, never a traceback: every command against a data directory that is
missing, empty, holds an uninitialised database, or cannot be read."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from tests.test_cli import COMMANDS

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent

# what each command is given besides the data directory (files it names exist; the database does not)
ARGS: dict[tuple[str, ...], list[str]] = {
    ("register", "import"): ["{tmp}/standards.csv"],
    ("register", "show"): [],
    ("crawl",): ["demo-html", "--query", "x"],
    ("runs",): [],
    ("match",): [],
    ("report", "daily"): ["--out", "{tmp}/report"],
    ("export", "findings"): ["--out", "{tmp}/findings.jsonl"],
    ("export", "cases"): ["--out", "{tmp}/cases.zip"],
    ("schedule", "run"): [],
    ("schedule", "list"): [],
    ("schedule", "trigger"): ["daily"],
    ("schedule", "history"): [],
    ("users", "add"): ["someone", "--password-stdin"],
    ("users", "list"): [],
    ("users", "disable"): ["someone"],
    ("users", "password"): ["someone", "--password-stdin"],
    ("tokens", "add"): ["someone"],
    ("takedowns",): [],
    ("tokens", "list"): [],
    ("tokens", "revoke"): ["someone"],
    ("serve",): [],
}
NEED_NO_DATABASE = {
    ("init",): "makes the database (tested below)",
    ("info",): "says what is there, whatever it is (tested below)",
    ("sites",): "lists the site profiles",
    (
        "login",
    ): "opens a browser window on a profile's own directory (tested in tests/crawler/test_session.py)",
    ("verify",): "reads a case file only",
    ("demo",): "makes its own data directory",
    ("demo", "serve"): "serves the demo shops",
    ("keys", "show"): "reads the installation's key file only",
    ("keys", "list"): "reads the trusted-keys file only",
    ("keys", "trust"): "writes the trusted-keys file only",
    ("keys",): "a group",
    ("register",): "a group",
    ("export",): "a group",
    ("report",): "a group",
    ("schedule",): "a group",
    ("users",): "a group",
    ("tokens",): "a group",
}


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "nowhere"


def _empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def _uninitialised(tmp_path: Path) -> Path:
    folder = tmp_path / "uninitialised"
    folder.mkdir()
    sqlite3.connect(folder / "tisiwatch.db").execute("CREATE TABLE notes (text TEXT)").connection.close()
    return folder


def _not_a_database(tmp_path: Path) -> Path:
    folder = tmp_path / "garbage"
    folder.mkdir()
    (folder / "tisiwatch.db").write_bytes(b"this is not a database " * 100)
    return folder


def _a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a folder", encoding="utf-8")
    return path


DATA_DIRS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing": (_missing, "no database in"),
    "empty": (_empty, "no database in"),
    "uninitialised": (_uninitialised, "is not initialised: run `tisiwatch init`"),
    "not a database": (_not_a_database, "is not a SQLite database"),
    "a file": (_a_file, "it is a file, not a folder"),
}


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli, "state", cli.State())
    monkeypatch.setenv("COLUMNS", "80")  # narrow: a long message must still be one line
    monkeypatch.chdir(tmp_path)
    (tmp_path / "standards.csv").write_text("tis_number,name_th\n2879-2560,พาวเวอร์แบงค์\n", encoding="utf-8")


def test_every_command_is_tried_or_said_why_not() -> None:
    assert set(COMMANDS) == set(ARGS) | set(NEED_NO_DATABASE)


def _one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: "), output
    assert "Traceback" not in output
    return lines[0]


@pytest.mark.parametrize("state", DATA_DIRS, ids=str)
@pytest.mark.parametrize("path", sorted(ARGS), ids=" ".join)
def test_a_command_without_a_usable_database_says_why_in_one_line(
    tmp_path: Path, path: tuple[str, ...], state: str
) -> None:
    make, expected = DATA_DIRS[state]
    data_dir = make(tmp_path)
    args = [arg.format(tmp=tmp_path) for arg in ARGS[path]]
    result = runner.invoke(cli.app, ["--data-dir", str(data_dir), *path, *args])
    assert result.exit_code == 1, result.output
    line = _one_error_line(result.output)
    assert expected in line
    if state in {"missing", "empty"}:
        assert (
            line
            == f"error: no database in {data_dir.resolve()}"
            + (" (the folder does not exist)" if state == "missing" else "")
            + ": run `tisiwatch init`"
        )
    assert not (tmp_path / "nowhere").exists(), "asking created nothing"


def test_init_makes_the_database_where_it_can_and_says_why_where_it_cannot(tmp_path: Path) -> None:
    made = runner.invoke(cli.app, ["--data-dir", str(tmp_path / "nowhere"), "init"])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "nowhere" / "tisiwatch.db").exists()
    refused = runner.invoke(cli.app, ["--data-dir", str(_a_file(tmp_path)), "init"])
    assert refused.exit_code == 1
    assert "it is a file" in _one_error_line(refused.output)


@pytest.mark.parametrize("state", DATA_DIRS, ids=str)
def test_info_names_the_problem_and_how_to_fix_it(tmp_path: Path, state: str) -> None:
    make, expected = DATA_DIRS[state]
    data_dir = make(tmp_path)
    result = runner.invoke(cli.app, ["--data-dir", str(data_dir), "info"])
    assert result.exit_code == 0, result.output
    assert str(data_dir.resolve()) in result.output
    assert "none: built-in defaults" in result.output
    assert " ".join(expected.split()) in " ".join(result.output.split())


def test_info_after_init_shows_the_register_and_the_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert runner.invoke(cli.app, ["--data-dir", str(data_dir), "init"]).exit_code == 0
    result = runner.invoke(cli.app, ["--data-dir", str(data_dir), "info"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"sqlite:///{data_dir.resolve() / 'tisiwatch.db'}" in text
    assert "ready" in text
    assert "standards 149" in text
    assert "licences — — not imported: tisiwatch register import FILE --kind licences" in text
    assert "listings 0 on 0 sites (0 gone)" in text


def test_a_database_server_that_cannot_be_reached_is_one_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://tisiwatch:secret@127.0.0.1:1/nothing"
    result = runner.invoke(cli.app, ["--database-url", url, "runs"])
    assert result.exit_code == 1
    line = _one_error_line(result.output)
    assert line.startswith(
        "error: cannot reach the database at postgresql+psycopg://tisiwatch:***@127.0.0.1:1/"
    )
    assert "secret" not in result.output


def test_a_file_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert runner.invoke(cli.app, ["--data-dir", str(data_dir), "init"]).exit_code == 0
    blocked = tmp_path / "a-file"
    blocked.write_text("x", encoding="utf-8")
    out = blocked / "findings.jsonl"  # inside a file: cannot be made
    result = runner.invoke(cli.app, ["--data-dir", str(data_dir), "export", "findings", "--out", str(out)])
    assert result.exit_code == 1
    assert str(blocked) in _one_error_line(result.output)


DAC_CAPS = "-dac_override,-dac_read_search"
"""What lets root read any file: without them, root meets permissions like any owner."""


def _as_a_user(args: list[str]) -> subprocess.CompletedProcess[str]:
    """`tisiwatch ARGS` as a user without special rights: as root, without the capabilities that pass
    over file permissions (so the checkout stays readable, being root's, and a folder of mode 0 is not)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TISIWATCH_")}
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0:
        prefix = []
    elif setpriv is not None:
        prefix = [setpriv, f"--bounding-set={DAC_CAPS}", f"--inh-caps={DAC_CAPS}"]
    else:
        pytest.skip("running as root without setpriv: permissions cannot make a folder unreadable")
    return subprocess.run([*prefix, sys.executable, "-m", "cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.mark.parametrize("what", ["folder", "database"])
def test_a_data_directory_without_permission_is_one_line(tmp_path: Path, what: str) -> None:
    data_dir = tmp_path / "data"
    assert runner.invoke(cli.app, ["--data-dir", str(data_dir), "init"]).exit_code == 0
    (data_dir if what == "folder" else data_dir / "tisiwatch.db").chmod(0)
    try:
        done = _as_a_user(["--data-dir", str(data_dir), "runs"])
        info = _as_a_user(["--data-dir", str(data_dir), "info"])
    finally:
        data_dir.chmod(0o755)  # so that pytest can remove it
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == ""
    line = _one_error_line(done.stderr)
    assert line.startswith(f"error: cannot read the database {data_dir / 'tisiwatch.db'}")
    assert info.returncode == 0
    assert "cannot read the database" in info.stdout


def test_the_real_command_prints_no_traceback(tmp_path: Path) -> None:
    """As a user runs it (not through the test runner): one line on standard error, exit code 1."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TISIWATCH_")}
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--data-dir", str(tmp_path / "nowhere"), "runs"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip() == (
        f"error: no database in {(tmp_path / 'nowhere').resolve()} (the folder does not exist): run `tisiwatch init`"
    )
