"""The jobs' runs through `tisiwatch schedule trigger|history`: every step recorded, a failed step
recorded with its reason while the later steps and later runs still happen; register files
re-imported when their content changes; runs whose process died marked interrupted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from typer.testing import CliRunner

import cli
from bench.drills import live_ids, write_profiles
from demo.server import ShopsHandle, start_shops
from reports.verify import verify_casefile
from scheduler import JOBS, Pipeline, recover
from store import journal
from store.db import Store
from store.models import CrawlRun, Licence, Listing, Observation, PipelineRun, RegisterVersion, Verdict
from store.writer import ensure_site, start_run
from tests.scheduler.conftest import Make, dead_pid

runner = CliRunner()
SIZE = 30


def _config(tmp_path: Path, text: str) -> list[str]:
    """Global options for a settings file with ``text`` and the data directory beside it."""
    (tmp_path / "settings.toml").write_text(f'data_dir = "data"\n{text}', encoding="utf-8")
    return ["--config", str(tmp_path / "settings.toml")]


def _runs(session: Session) -> list[PipelineRun]:
    return list(
        session.scalars(select(PipelineRun).order_by(PipelineRun.id).options(selectinload(PipelineRun.steps)))
    )


def _steps(run: PipelineRun) -> list[tuple[str, str]]:
    return [(step.name, step.status) for step in run.steps]


@pytest.fixture
def shops() -> Iterator[ShopsHandle]:
    with start_shops(seed=7, size=SIZE, day=1, faults=False) as handle:
        yield handle


def test_trigger_daily_runs_every_step_against_the_demo_shop(
    shops: ShopsHandle, tmp_path: Path, store: Store, cli_state: None
) -> None:
    profiles = write_profiles(shops, tmp_path / "profiles", ["html"], search=False)
    options = _config(
        tmp_path, f'[crawl]\nprofiles_dir = "{profiles}"\nretries = 2\n[sites]\nenabled = ["demo-html"]\n'
    )
    result = runner.invoke(cli.app, [*options, "schedule", "trigger", "daily"])
    assert result.exit_code == 0, result.output
    assert "run 1 finished" in result.output
    data = tmp_path / "data"
    with store.session() as session:
        [run] = _runs(session)
        assert (run.job, run.trigger, run.status, run.error) == ("daily", "manual", "finished", None)
        assert _steps(run) == [("crawl", "ok"), ("match", "ok"), ("takedowns", "ok"), ("report", "ok"),
                               ("cases", "ok")]  # fmt: skip
        crawl, match, takedowns, report, cases = (step.stats for step in run.steps)
        assert takedowns == {"open": 0, "taken_down": 0, "still_online": 0}
        [crawl_run] = session.scalars(select(CrawlRun))
        assert crawl["runs"]["demo-html"] == {"run": crawl_run.id, "status": "finished", "resumed": False,
                                              "items": SIZE, "pages": crawl_run.stats["pages"], "failed_urls": 0}  # fmt: skip
        assert set(session.scalars(select(Listing.marketplace_id))) == live_ids(SIZE, "html")
        assert match["judged"] == SIZE == session.scalar(select(func.count()).select_from(Verdict))
        assert report["counts"]["listings"] == SIZE
        assert report["alerts"] == []
        assert all(step.started_at and step.finished_at for step in run.steps)
    day = report["day"]
    assert (data / "reports" / day / "report.html").stat().st_size > 0
    casefile = data / "cases" / f"cases-{day}.zip"
    assert cases["out"] == f"cases/cases-{day}.zip"
    assert report["counts"]["violations"] > 0
    assert (cases["cases"], cases["sent"]) == (0, 0)  # no officer has confirmed a case yet
    assert verify_casefile(casefile).ok
    history = runner.invoke(cli.app, [*options, "schedule", "history"])
    assert history.exit_code == 0, history.output
    assert "crawl ok · match ok · takedowns ok · report ok · cases ok" in history.output
    detail = runner.invoke(cli.app, [*options, "schedule", "history", "--run", "1"])
    assert detail.exit_code == 0, detail.output
    assert "  match: ok" in detail.output
    assert "    judged: 30" in detail.output


def test_a_failed_step_is_recorded_and_the_later_steps_and_runs_still_happen(
    tmp_path: Path, store: Store, cli_state: None
) -> None:
    options = _config(tmp_path, '[sites]\nenabled = ["no-such-shop"]\n')
    key = tmp_path / "data" / "keys" / "casefile-ed25519.pem"
    key.parent.mkdir(parents=True)
    key.write_text("not a key")
    key.chmod(0o644)  # a signing key others can read is refused: the case export fails
    first = runner.invoke(cli.app, [*options, "schedule", "trigger", "daily"])
    assert first.exit_code == 1, first.output
    key.unlink()  # the operator fixes the key; the next run goes on
    second = runner.invoke(cli.app, [*options, "schedule", "trigger", "daily"])
    assert second.exit_code == 1, second.output
    with store.session() as session:
        one, two = _runs(session)
    assert (one.status, two.status) == ("failed", "failed")
    assert _steps(one) == [("crawl", "failed"), ("match", "ok"), ("takedowns", "ok"), ("report", "ok"),
                           ("cases", "failed")]  # fmt: skip
    assert _steps(two) == [("crawl", "failed"), ("match", "ok"), ("takedowns", "ok"), ("report", "ok"),
                           ("cases", "ok")]  # fmt: skip
    crawl_step, cases_step = one.steps[0], one.steps[4]
    assert crawl_step.error is not None
    assert crawl_step.error.startswith("no-such-shop: no such site profile (known: demo-api")
    assert list(crawl_step.stats["problems"]) == ["no-such-shop"]
    assert cases_step.error is not None
    assert "chmod 600" in cases_step.error
    assert one.error is not None
    assert one.error.startswith("crawl: ")
    assert "cases: keys/casefile-ed25519.pem: the signing key can be read or written by others" in one.error
    history = runner.invoke(cli.app, [*options, "schedule", "history", "--job", "daily"])
    assert "crawl failed · match ok · takedowns ok · report ok · cases failed" in history.output
    assert "chmod 600" in history.output


LICENCES = (
    "licence_no,tis_number,licensee,brands,status\nท1234-56/2879,2879-2560,บริษัท พลังดี จำกัด,Eloop,{status}\n"
)


def test_register_files_are_imported_when_their_content_changes(make_settings: Make, store: Store) -> None:
    settings = make_settings(schedule={"register_files": ["registers/licences.csv"]})
    path = settings.data_dir / "registers" / "licences.csv"
    path.parent.mkdir(parents=True)
    pipeline = Pipeline(settings, store)

    def run() -> tuple[str, list[tuple[str, str]], dict[str, object]]:
        outcome = pipeline.run("register", "schedule")
        with store.session() as session:
            step = session.get_one(PipelineRun, outcome.run_id).steps[0]
            entry = step.stats.get("files", {}).get("registers/licences.csv", {})
        return outcome.status, [(name, status) for name, status, _ in outcome.steps], entry

    def licences() -> list[str]:
        with store.session() as session:
            query = select(Licence.status).where(Licence.licence_no == "ท1234-56/2879").order_by(Licence.id)
            return list(session.scalars(query))

    path.write_text(LICENCES.format(status="active"), encoding="utf-8")
    status, steps, entry = run()
    assert (status, steps, entry["result"]) == ("finished", [("register", "ok"), ("match", "ok")], "imported")
    status, steps, entry = run()  # the same content: nothing to do
    assert (status, steps, entry["result"]) == (
        "finished",
        [("register", "ok"), ("match", "skipped")],
        "unchanged",
    )
    path.write_text(LICENCES.format(status="revoked"), encoding="utf-8")
    status, steps, entry = run()
    assert entry["result"] == "imported"
    assert licences() == ["active", "revoked"]  # a new register version
    path.write_text(LICENCES.format(status="bogus"), encoding="utf-8")
    status, steps, entry = run()
    assert (status, steps, entry["result"]) == (
        "failed",
        [("register", "failed"), ("match", "skipped")],
        "rejected",
    )
    assert "licences.csv:2:status" in str(entry["reason"])
    assert licences() == ["active", "revoked"]  # all or nothing: the database is unchanged
    status, steps, entry = run()  # a rejected file is not tried again until it changes
    assert (status, entry["result"]) == ("finished", "rejected before")
    path.write_text(LICENCES.format(status="active"), encoding="utf-8")  # back to content imported before
    status, steps, entry = run()
    assert entry["result"] == "imported"  # it is not in force any more: the revoked version is
    with store.session() as session:
        versions = session.scalar(select(func.count()).select_from(RegisterVersion))
    assert versions == 3 + 3  # the fixture's three, and three of the four files


def test_trigger_refuses_an_unknown_job_and_one_that_is_running(
    make_settings: Make, store: Store, cli_state: None
) -> None:
    options = ["--data-dir", str(make_settings().data_dir)]
    unknown = runner.invoke(cli.app, [*options, "schedule", "trigger", "weekly"])
    assert unknown.exit_code == 2
    assert "no job 'weekly'; the jobs are daily, recheck, register" in unknown.output
    with store.session() as session:
        running = journal.open_run(session, "register", "schedule", JOBS["register"].steps)
        running.pid = 1  # alive on this host: init
    busy = runner.invoke(cli.app, [*options, "schedule", "trigger", "register"])
    assert busy.exit_code == 1
    assert f"job register is already running: run {running.id}" in busy.output


def test_a_run_whose_process_died_is_interrupted_and_its_crawls_are_continued_next_time(
    store: Store, make_settings: Make
) -> None:
    with store.session() as session:
        run = journal.open_run(session, "daily", "schedule", JOBS["daily"].steps)
        run.pid = dead_pid()
        crawl_step = run.steps[0]
        journal.start_step(session, crawl_step.id, {"sites": ["demo-html"], "after_crawl_run": 0})
        site = ensure_site(session, "demo-html", "html")
        left = start_run(session, site)  # what the killed crawl left running
        other = start_run(session, ensure_site(session, "demo-api", "api"))  # not this run's site
        run_id, left_id, other_id = run.id, left.id, other.id
    assert recover(store) == [run_id]
    assert recover(store) == []
    with store.session() as session:
        [found] = _runs(session)
        assert found.status == "interrupted"
        assert "ended before the run did" in (found.error or "")
        assert _steps(found) == [("crawl", "interrupted"), ("match", "skipped"), ("takedowns", "skipped"),
                                 ("report", "skipped"), ("cases", "skipped")]  # fmt: skip
        assert found.steps[0].stats["left_runs"] == [left_id]
        assert session.get_one(CrawlRun, left_id).status == "interrupted"  # closed: resumable
        assert session.get_one(CrawlRun, other_id).status == "running"  # someone else's
        assert journal.resumable_sites(session, "daily", ["demo-html", "demo-api"], 3600) == {"demo-html"}
        assert journal.resumable_sites(session, "recheck", ["demo-html"], 3600) == set()


def test_a_crawl_that_reached_no_page_fails_its_step_saying_why(
    make_settings: Make, store: Store, tmp_path: Path
) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    shipped = (Path(__file__).resolve().parents[2] / "crawler" / "sites" / "demo-html.toml").read_text(
        "utf-8"
    )
    down = shipped.replace('base_url = "http://127.0.0.1:8701"', 'base_url = "http://127.0.0.1:1"')
    down = re.sub(r"^search_url = .*\n", "", down, flags=re.M)  # by its sitemap: one request, refused
    (profiles / "down-shop.toml").write_text(down, encoding="utf-8")
    settings = make_settings(
        crawl={"profiles_dir": str(profiles), "retries": 0}, sites={"enabled": ["down-shop"]}
    )
    outcome = Pipeline(settings, store).run("daily", "manual")
    name, status, error = outcome.steps[0]
    assert (name, status) == ("crawl", "failed")
    assert error is not None
    assert error.startswith("down-shop: run 1 failed: connection refused at http://127.0.0.1:1")


def test_the_daily_job_spends_the_budget_on_open_violations_first(
    shops: ShopsHandle, tmp_path: Path, store: Store, cli_state: None
) -> None:
    profiles = write_profiles(shops, tmp_path / "profiles", ["html"], search=False)
    options = _config(
        tmp_path,
        f'[crawl]\nprofiles_dir = "{profiles}"\nretries = 2\nconcurrency = 2\ndaily_requests = 12\n'
        '[sites]\nenabled = ["demo-html"]\n',
    )
    first = runner.invoke(cli.app, [*options, "schedule", "trigger", "daily"])
    assert first.exit_code == 0, first.output
    with store.session() as session:
        [run] = session.scalars(select(CrawlRun))
        assert run.mode == "budget"
        assert run.stats["requests"] <= 12 + 2  # what was in flight when the budget was spent
        opened = run.stats["budget"]
        assert opened["open"]["of"] == 0  # nothing known yet: the budget went to discovery
    listed = runner.invoke(cli.app, [*options, "runs"])
    assert "run 1: budget 12: 0 open-violation re-checks" in listed.output
    with store.session() as session:
        violating = set(
            session.scalars(
                select(Listing.marketplace_id)
                .join(Verdict, Verdict.listing_id == Listing.id)
                .where(Verdict.verdict.in_(["no_licence_shown", "invalid_licence", "unsafe"]))
            )
        )
    assert violating, "the demo shop's first listings include violations"
    second = runner.invoke(cli.app, [*options, "schedule", "trigger", "daily"])
    assert second.exit_code == 0, second.output
    with store.session() as session:
        runs = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
        assert [r.mode for r in runs] == ["budget", "budget"]
        again = runs[1]
        seen = set(
            session.scalars(
                select(Listing.marketplace_id)
                .join(Observation, Observation.listing_id == Listing.id)
                .where(Observation.run_id == again.id)
            )
        )
        [pipeline_run] = _runs(session)[1:]
        crawl_stats = pipeline_run.steps[0].stats
    assert violating <= seen
    assert again.stats["budget"]["open"]["done"] == len(violating)
    assert crawl_stats["runs"]["demo-html"]["budget"]["requests"] == 12
