"""`tisiwatch demo`, end to end: shops, fresh database, registers, four crawls, match, report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from demo.run import MARKER, SHOP_PROFILES, fresh_workdir, run_demo
from store.db import Store
from store.models import Verdict


@pytest.mark.browser
@pytest.mark.slow
def test_the_demo_runs_every_stage_and_shows_every_verdict(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    result = run_demo(workdir, size=30, console=Console(quiet=True))
    assert [crawl.status for crawl in result.crawls] == ["finished"] * len(SHOP_PROFILES)
    assert {crawl.site for crawl in result.crawls} == set(SHOP_PROFILES.values())
    assert all(crawl.stats["items"] == 30 for crawl in result.crawls)
    assert result.matched.judged == 30 * len(SHOP_PROFILES)
    store = Store(f"sqlite:///{workdir / 'tisiwatch.db'}")
    with store.session() as session:
        verdicts = set(session.scalars(select(Verdict.verdict)))
    store.dispose()
    assert {"licensed", "no_licence_shown", "invalid_licence", "unsafe", "not_controlled"} <= verdicts
    assert result.report_html.read_text(encoding="utf-8").count("<script") == 0
    findings = json.loads(result.findings_json.read_text(encoding="utf-8"))
    assert findings["findings"], "the day's report lists violations"
    # a second run starts from a fresh database
    again = run_demo(workdir, size=30, console=Console(quiet=True))
    assert again.matched.judged == 30 * len(SHOP_PROFILES)


def test_the_demo_never_empties_a_directory_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError, match="not made by `tisiwatch demo`"):
        fresh_workdir(tmp_path)
    assert (tmp_path / "precious.txt").exists()
    made = fresh_workdir(tmp_path / "new")
    (made / "tisiwatch.db").write_text("old", encoding="utf-8")
    assert (fresh_workdir(made) / MARKER).exists()
    assert not (made / "tisiwatch.db").exists()
