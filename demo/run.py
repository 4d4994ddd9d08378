"""``tisiwatch demo``: the whole pipeline, end to end, against the local demo marketplaces.

Starts the demo shops, creates a fresh database in the working directory, loads the default register
and the demo licences and unsafe list, crawls the shops, matches, writes the daily report, and stops
the shops. It runs the same steps as the CLI and the scheduler (``scheduler.steps``), with the user's
settings (``--config``, ``TISIWATCH_CONFIG`` or ./settings.toml: alert thresholds, match weights …)
except for the data directory and the database, which are the demo's own.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console

from config import Settings, load_settings
from core.runstats import RunStats
from crawler.profile import load_profile
from crawler.progress import CrawlProgress
from crawler.runner import CrawlResult
from demo.server import ShopsHandle, start_shops
from demo.writer import write_registers
from matchers.match import MatchSummary
from matchers.register import ensure_default_register, import_register
from reports.daily import DailyReport
from scheduler.crawlstep import CrawlStep
from scheduler.reportstep import ReportStep
from scheduler.steps import MatchStep, StepContext
from store.db import Store

MARKER = ".tisiwatch-demo"
SHOP_PROFILES = {
    "html": "demo-html",
    "api": "demo-api",
    "browser": "demo-browser",
    "token": "demo-token",
    "state": "demo-state",
}
SETTINGS = """\
# Made by `tisiwatch demo`: run tisiwatch in this folder and it uses the demo's data (the README's tour).
# Emptied, with everything else here, by the next `tisiwatch demo`.
data_dir = "."

[sites]
enabled = ["demo-html", "demo-api", "demo-browser", "demo-token", "demo-state"]
"""


@dataclass(frozen=True)
class DemoResult:
    workdir: Path
    crawls: list[CrawlResult]
    matched: MatchSummary
    report: DailyReport
    report_html: Path
    findings_json: Path


def fresh_workdir(workdir: Path) -> Path:
    """Empty the working directory of an earlier demo; refuse to empty any other directory."""
    workdir = workdir.resolve()
    if workdir.exists() and any(workdir.iterdir()):
        if not (workdir / MARKER).exists():
            raise FileExistsError(
                f"{workdir} is not empty and was not made by `tisiwatch demo`; choose another --workdir"
            )
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("made by tisiwatch demo; emptied by the next demo run\n", encoding="utf-8")
    (workdir / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    return workdir


def profile_ports(settings: Settings) -> dict[str, int]:
    """The ports the demo profiles name (``base_url``), so that what the demo stores can be crawled
    again later with the profiles as they are, against `tisiwatch demo serve`."""
    ports = {}
    for shop, name in SHOP_PROFILES.items():
        port = urlsplit(load_profile(name, settings.crawl.profiles_dir).base_url).port
        if port is not None:
            ports[shop] = port
    return ports


def _start_shops(settings: Settings, seed: int, size: int, console: Console) -> ShopsHandle:
    """The shops at the profiles' addresses, or anywhere when those are taken (then said so)."""
    try:
        return start_shops(seed=seed, size=size, day=1, ports=profile_ports(settings))
    except RuntimeError as exc:
        console.print(
            f"the demo profiles' addresses are taken ({exc}); the shops listen elsewhere this time, and "
            "what the demo stores cannot be re-checked by `tisiwatch demo serve` later",
            markup=False,
            highlight=False,
        )
        return start_shops(seed=seed, size=size, day=1)


def demo_settings(workdir: Path, user: Settings | None = None) -> Settings:
    """The user's settings (default: as ``load_settings`` finds them), with the data directory and a
    fresh SQLite database in ``workdir``."""
    user = user or load_settings()
    database = user.database.model_copy(update={"url": f"sqlite:///{workdir / 'tisiwatch.db'}"})
    return user.model_copy(update={"data_dir": workdir, "database": database})


def run_demo(
    workdir: Path,
    *,
    size: int = 40,
    seed: int = 7,
    console: Console | None = None,
    settings: Settings | None = None,
) -> DemoResult:
    """The demo in ``workdir``, with the user's ``settings`` (see :func:`demo_settings`)."""
    console = console or Console()
    workdir = fresh_workdir(workdir)
    settings = demo_settings(workdir, settings)
    store = Store.from_settings(settings)
    context = StepContext(settings, store)
    with console.status("preparing the database and the register"):
        store.migrate()
        ensure_default_register(store)
        registers = write_registers(workdir / "registers", seed=seed, size=size)
        for kind in ("licences", "unsafe"):
            version = import_register(store, registers[kind], kind=kind)
            console.print(f"register: {version.row_count} {kind} imported (version {version.id})")
    with _start_shops(settings, seed, size, console) as shops:
        console.print("demo shops: " + ", ".join(f"{kind} {url}" for kind, url in shops.urls.items()))
        profiles = [
            load_profile(SHOP_PROFILES[kind], settings.crawl.profiles_dir).with_base_url(url)
            for kind, url in shops.urls.items()
        ]
        # no search words: each shop is enumerated (sitemap, "all items", home page) so that the demo
        # shows every kind of verdict; `tisiwatch crawl` searches with the register's keywords
        with CrawlProgress(console) as progress:
            crawled = CrawlStep(profiles, queries=[], on_progress=progress.update).run(context)
    results = crawled.get()
    for result in results:
        stats = RunStats.from_json(result.stats)
        console.print(
            f"crawl {result.site}: {result.status}, {stats.items or 0} listings, "
            f"{stats.failed_urls or 0} failed URLs"
        )
    with console.status("matching listings against the register"):
        matched = MatchStep().run(context).get()
    console.print(
        f"matched {matched.judged} listings: "
        + ", ".join(f"{k} {v}" for k, v in sorted(matched.by_verdict.items()))
    )
    with console.status("writing the daily report"):
        report = ReportStep(workdir / "report").run(context).get()
    store.dispose()
    return DemoResult(workdir, results, matched, report, report.html, report.json)
