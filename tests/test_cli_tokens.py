"""``tisiwatch tokens add|list|revoke``: what each leaves in the database, and what it shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import cli
from store.db import Store
from store.models import ApiToken
from store.people import token_hash
from store.tokens import add_token, find_token, list_tokens, revoke_token

runner = CliRunner()


@pytest.fixture
def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[str], Store]]:
    monkeypatch.setattr(cli, "state", cli.State())
    monkeypatch.setenv("COLUMNS", "250")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(url)
    given = ["--data-dir", str(tmp_path), "--database-url", url]
    assert runner.invoke(cli.app, [*given, "init"]).exit_code == 0
    yield given, store
    store.dispose()


def _secret(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("tw_"))


def test_add_prints_the_token_once_and_keeps_its_hash(options: tuple[list[str], Store]) -> None:
    given, store = options
    added = runner.invoke(cli.app, [*given, "tokens", "add", "shopee", "--may-store"])
    assert added.exit_code == 0, added.output
    secret = _secret(added.output)
    assert "shown only now" in added.output
    with store.session() as session:
        row = session.scalars(select(ApiToken)).one()
        assert (row.name, row.may_store, row.revoked_at) == ("shopee", True, None)
        assert row.token_hash == token_hash(secret)
        assert row.prefix == secret[:10]
        assert find_token(session, secret) is not None
    listed = runner.invoke(cli.app, [*given, "tokens", "list"])
    assert listed.exit_code == 0
    assert "shopee" in listed.output
    assert secret[:10] in listed.output
    assert secret not in listed.output


def test_add_refuses_a_taken_or_bad_name(options: tuple[list[str], Store]) -> None:
    given, store = options
    assert runner.invoke(cli.app, [*given, "tokens", "add", "shopee"]).exit_code == 0
    again = runner.invoke(cli.app, [*given, "tokens", "add", "shopee"])
    assert again.exit_code == 1
    assert "exists already" in again.output
    bad = runner.invoke(cli.app, [*given, "tokens", "add", "Shop Ee"])
    assert bad.exit_code == 1
    assert "lower-case" in bad.output
    with store.session() as session:
        assert [row.name for row in session.scalars(select(ApiToken))] == ["shopee"]
        assert not session.scalars(select(ApiToken)).one().may_store


def test_revoke_makes_the_token_useless(options: tuple[list[str], Store]) -> None:
    given, store = options
    secret = _secret(runner.invoke(cli.app, [*given, "tokens", "add", "lazada"]).output)
    revoked = runner.invoke(cli.app, [*given, "tokens", "revoke", "lazada"])
    assert revoked.exit_code == 0, revoked.output
    with store.session() as session:
        row = session.scalars(select(ApiToken)).one()
        assert row.revoked_at is not None
        assert find_token(session, secret) is None
    unknown = runner.invoke(cli.app, [*given, "tokens", "revoke", "nobody"])
    assert unknown.exit_code == 1
    assert "no token named 'nobody'" in unknown.output


def test_tokens_on_each_database(any_store: Store) -> None:
    with any_store.session() as session:
        secret = add_token(session, "shopee")
        other = add_token(session, "lazada", may_store=True)
    with any_store.session() as session:
        found = find_token(session, secret)
        assert found is not None
        assert (found.name, found.may_store) == ("shopee", False)
        assert find_token(session, other) is not None
        assert find_token(session, secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    with any_store.session() as session:
        assert [token.name for token in list_tokens(session)] == ["lazada", "shopee"]
        assert all(token.last_used_at is not None for token in list_tokens(session))
        revoke_token(session, "shopee")
    with any_store.session() as session:
        assert find_token(session, secret) is None
        assert find_token(session, other) is not None
