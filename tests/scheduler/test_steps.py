"""The step contract: a step ends the same way wherever it is started — a command, the demo, a
scheduled run — and only what is done with an unexpected error differs (a run contains it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import cli
import matchers.match
from config import Settings
from crawler.profile import parse_profile
from matchers.register import ensure_default_register
from scheduler import Pipeline
from scheduler.crawlstep import CrawlStep
from scheduler.steps import MatchStep, StepContext, StepError
from store.db import Store
from store.models import CrawlRun, PipelineRun
from tests.scheduler.conftest import Make

runner = CliRunner()


@pytest.fixture
def bare(make_settings: Make) -> tuple[Settings, Store]:
    """A database with the default standards only: no licence register, no unsafe list."""
    settings = make_settings(sites={"enabled": []})  # a daily run crawls nothing
    store = Store(settings.database_url)
    store.migrate()
    ensure_default_register(store)
    return settings, store


def test_a_failing_step_says_the_same_to_a_command_and_to_the_scheduler_journal(
    bare: tuple[Settings, Store], tmp_path: Path, cli_state: None
) -> None:
    settings, store = bare
    result = MatchStep().run(StepContext(settings, store))
    assert (result.status, result.value) == ("failed", None)
    assert result.error is not None
    assert "tisiwatch register import" in result.error
    with pytest.raises(StepError, match="tisiwatch register import"):
        result.get()
    config = tmp_path / "settings.toml"
    config.write_text(f'data_dir = "{settings.data_dir}"\n', encoding="utf-8")
    done = runner.invoke(cli.app, ["--config", str(config), "match"])
    assert done.exit_code == 1
    assert done.output.strip() == f"error: {result.error}".strip()
    Pipeline(settings, store).run("daily", "manual")
    with store.session() as session:
        run = session.scalars(select(PipelineRun)).one()
        match_step = next(step for step in run.steps if step.name == "match")
        assert (match_step.status, match_step.error) == ("failed", result.error)
    store.dispose()


def test_an_unexpected_error_fails_a_scheduled_step_but_reaches_a_command(
    bare: tuple[Settings, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store = bare

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(matchers.match, "match_pending", broken)
    contained = MatchStep().run(StepContext(settings, store, contain=True))
    assert (contained.status, contained.value) == ("failed", None)
    assert contained.error == "ZeroDivisionError: a bug"
    with pytest.raises(ZeroDivisionError):
        MatchStep().run(StepContext(settings, store))
    store.dispose()


def test_the_register_jobs_match_is_skipped_when_nothing_was_imported(bare: tuple[Settings, Store]) -> None:
    settings, store = bare
    skipped = MatchStep(after_import=True).run(StepContext(settings, store))
    assert (skipped.status, skipped.error) == ("skipped", "no register file was imported")
    assert skipped.counts == {"reason": "no register file was imported"}
    store.dispose()


def test_a_site_whose_cookie_file_is_not_one_fails_before_its_crawl(bare: tuple[Settings, Store]) -> None:
    """The session's problem is the site's, named by the step; no crawl run is started for it."""
    settings, store = bare
    secrets = settings.data_dir / "secrets"
    secrets.mkdir(mode=0o700)
    cookies = secrets / "shop.cookies.txt"
    cookies.write_text("this is not a cookies.txt\n", encoding="utf-8")
    cookies.chmod(0o644)
    profile = parse_profile(
        'kind = "html"\nbase_url = "http://127.0.0.1:9"\n[discovery]\nurls = ["/p/1"]\n'
        '[session]\ncookie_file = "secrets/shop.cookies.txt"\n',
        "cookieshop",
    )
    result = CrawlStep([profile], queries=[]).run(StepContext(settings, store))
    assert result.status == "failed"
    assert result.error is not None
    assert "cookieshop" in result.error
    assert "not a Netscape cookies.txt file" in result.error
    assert oct(cookies.stat().st_mode & 0o777) == oct(0o600)  # tightened on the way
    with store.session() as session:
        assert session.scalars(select(CrawlRun)).all() == []
    store.dispose()
