"""`tisiwatch users`: add, list, disable and set passwords; what the database holds afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from store.db import Store
from store.models import User

runner = CliRunner()


@pytest.fixture
def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[str], Store]]:
    monkeypatch.setattr(cli, "state", cli.State())
    monkeypatch.setenv("COLUMNS", "200")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(url)
    store.migrate()
    yield ["--data-dir", str(tmp_path), "--database-url", url], store
    store.dispose()


def test_users_add_list_disable_and_password(options: tuple[list[str], Store]) -> None:
    args, store = options
    added = runner.invoke(
        cli.app, [*args, "users", "add", "malee", "--role", "supervisor", "--name", "มาลี", "--password-stdin"],
        input="twelve chars or more\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "twelve chars" not in added.output
    listed = runner.invoke(cli.app, [*args, "users", "list"])
    assert "malee" in listed.output
    assert "supervisor" in listed.output
    assert "active" in listed.output
    with store.session() as session:
        first_hash = session.query(User).one().password_hash
    changed = runner.invoke(
        cli.app, [*args, "users", "password", "malee", "--password-stdin"], input="a different long one\n"
    )
    assert changed.exit_code == 0, changed.output
    disabled = runner.invoke(cli.app, [*args, "users", "disable", "malee"])
    assert disabled.exit_code == 0, disabled.output
    with store.session() as session:
        user = session.query(User).one()
        assert user.disabled
        assert user.password_hash != first_hash
    assert "disabled" in runner.invoke(cli.app, [*args, "users", "list"]).output


def test_a_short_password_or_a_bad_role_is_refused_in_one_line(options: tuple[list[str], Store]) -> None:
    args, store = options
    short = runner.invoke(cli.app, [*args, "users", "add", "a1", "--password-stdin"], input="short\n")
    assert short.exit_code == 1
    assert "at least 12" in short.output
    role = runner.invoke(
        cli.app,
        [*args, "users", "add", "a1", "--role", "root", "--password-stdin"],
        input="long enough pass\n",
    )
    assert role.exit_code == 1
    assert "role 'root'" in role.output
    with store.session() as session:
        assert session.query(User).count() == 0


def test_an_unknown_person_is_named(options: tuple[list[str], Store]) -> None:
    args, _ = options
    result = runner.invoke(cli.app, [*args, "users", "disable", "ghost"])
    assert result.exit_code == 1
    assert "no user 'ghost'" in result.output
