"""Reliability drills: the scheduler killed mid-run, the demo shops misbehaving at high rates,
PostgreSQL restarted during a crawl, and the scheduler sharing its SQLite file with an analyst's crawl.

    python -m bench.drills [--size 2000] [--rate 0.3] [--only kill,faults,postgres,concurrent] [--no-write]

Each drill runs the real thing (the `tisiwatch` command in its own process group, the demo shops over
HTTP, a PostgreSQL server), prints its figures and checks its outcome; ``main`` writes them to the
"Reliability drills" section of docs/benchmarks.md. The tests in ``tests/scheduler/`` run the same
drills at CI size (30 to 400 listings a shop).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from bench.harness import DOC, POSTGRES, ROOT, machine, postgres_database, write_section
from config import Settings, load_settings
from crawler.profile import load_profile
from crawler.runner import CrawlResult, crawl
from demo.faults import FaultRates, fault_for
from demo.generator import generate
from demo.server import ShopsHandle, start_shops
from demo.writer import write_registers
from matchers.register import ensure_default_register, import_register
from store.db import Store
from store.models import CrawlFailure, CrawlRun, Listing, Observation, PipelineRun, Site, Verdict

SECTION = "## Reliability drills"
SEED = 7
PROFILES = {"html": "demo-html", "api": "demo-api"}
LOCKED = "database is locked"


# --- shared by the drills and their tests


def write_profiles(shops: ShopsHandle, directory: Path, kinds: Iterable[str], *, search: bool = True) -> Path:
    """The demo profiles pointed at the running shops, in ``directory`` (``crawl.profiles_dir``);
    ``search=False`` drops the HTML profile's search URL, so that it crawls by its sitemap."""
    directory.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        name = PROFILES[kind]
        profile = (ROOT / "crawler" / "sites" / f"{name}.toml").read_text(encoding="utf-8")
        profile = re.sub(r'^base_url = ".*"$', f'base_url = "{shops.urls[kind]}"', profile, flags=re.M)
        if not search and kind == "html":
            profile = re.sub(r"^search_url = .*\n", "", profile, flags=re.M)
        (directory / f"{name}.toml").write_text(profile, encoding="utf-8")
    return directory


def tisiwatch_env(data_dir: Path, profiles: Path, sites: Iterable[str], **extra: str) -> dict[str, str]:
    """The environment of a `tisiwatch` process of a drill: its data, the shops, the sites; no
    register job (nothing to watch); ``extra``: more ``TISIWATCH_*`` settings, named without it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TISIWATCH_")}
    env.update({"TISIWATCH_DATA_DIR": str(data_dir), "TISIWATCH_CRAWL_PROFILES_DIR": str(profiles),
                "TISIWATCH_SITES_ENABLED": ",".join(sites), "TISIWATCH_SCHEDULE_REGISTER_CHECK": "",
                "TISIWATCH_CRAWL_RETRIES": "2", "PYTHAINLP_READ_ONLY": "1",
                # the timetable never fires during a drill (29 February): only --now and catch-ups run
                "TISIWATCH_SCHEDULE_DAILY": "0 6 29 2 *", "TISIWATCH_SCHEDULE_RECHECK": "0 3 29 2 *"})  # fmt: skip
    env.update({f"TISIWATCH_{key.upper()}": value for key, value in extra.items()})
    return env


def initialised(env: dict[str, str], shops: ShopsHandle) -> Store:
    """The drill's database, as `tisiwatch init` and `register import` leave it: migrated, the default
    register loaded, and the licence register and unsafe list of the shops imported."""
    settings = load_settings(environ=env)
    store = Store.from_settings(settings)
    store.migrate()
    ensure_default_register(store)
    for kind, path in write_registers(settings.data_dir / "registers", shops.seed, shops.size).items():
        import_register(store, path, kind=kind)
    return store


def tisiwatch(env: dict[str, str], log: IO[bytes], *args: str) -> subprocess.Popen[bytes]:
    """`tisiwatch ARGS` in its own process group (as systemd runs a service), its output into ``log``."""
    return subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def signal_group(process: subprocess.Popen[bytes], number: int, timeout: float = 120.0) -> tuple[int, float]:
    """Send ``number`` to the process's whole group; its exit code and how long it took to exit."""
    started = time.monotonic()
    with suppress(ProcessLookupError):
        os.killpg(process.pid, number)
    try:
        code = process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        code = process.wait(10)
        raise AssertionError(
            f"did not exit within {timeout:.0f} s of {signal.Signals(number).name}"
        ) from None
    with_children_gone(process.pid)
    return code, time.monotonic() - started


def with_children_gone(group: int, timeout: float = 30.0) -> None:
    """Wait until no process of the group is left (crawl workers end after the scheduler)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(group, signal.SIGKILL)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> float:
    """Wait until ``condition()``; how long it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - started


def count(store: Store, model: Any) -> int:
    """Rows of ``model``; 0 while its table does not exist yet."""
    try:
        with store.session() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    except OperationalError:
        return 0


def live_ids(size: int, shop: str, seed: int = SEED) -> set[str]:
    """The demo's truth: the ids of a shop's listings on sale on day 1."""
    return {item.item_id for item in generate(seed, size, 1) if item.shop == shop and item.active_on(1)}


def duplicates(session: Any) -> dict[str, int]:
    """Listings stored twice, and listings observed twice in one crawl run (both must be 0)."""
    keys = select(Listing.site_id, Listing.marketplace_id).group_by(Listing.site_id, Listing.marketplace_id)
    twice = select(Observation.run_id, Observation.listing_id).group_by(
        Observation.run_id, Observation.listing_id
    )
    return {
        "listings": (session.scalar(select(func.count()).select_from(Listing)) or 0)
        - (session.scalar(select(func.count()).select_from(keys.subquery())) or 0),
        "observations": session.scalar(select(func.count()).select_from(
            twice.having(func.count() > 1).subquery())) or 0,
    }  # fmt: skip


# --- a: the scheduler killed mid-run, started again, stopped, started again


def kill_drill(workdir: Path, size: int = 400, delay_s: float = 0.02) -> dict[str, Any]:
    """`schedule run --now daily`, SIGKILLed mid-crawl (its whole process group); started again (the
    run is found interrupted and caught up, continuing its crawl), SIGTERMed mid-crawl (a clean stop);
    started again: the run finishes. Returns what the database says."""
    data, log_path = workdir / "data", workdir / "scheduler.log"
    workdir.mkdir(parents=True, exist_ok=True)
    with start_shops(seed=SEED, size=size, day=1, faults=False) as shops, log_path.open("ab") as log:
        profiles = write_profiles(shops, workdir / "profiles", ["html"], search=False)
        env = tisiwatch_env(data, profiles, ["demo-html"], crawl_delay_s=str(delay_s))
        store = initialised(env, shops)
        step = max(size // 10, 10)
        first = tisiwatch(env, log, "schedule", "run", "--now", "daily")
        wait_for(lambda: count(store, Listing) >= step, "the first listings")
        signal_group(first, signal.SIGKILL)
        killed_at = count(store, Listing)
        second = tisiwatch(env, log, "schedule", "run")
        caught_up = wait_for(lambda: count(store, Listing) >= killed_at + step, "the catch-up run's crawl")
        term_code, term_s = signal_group(second, signal.SIGTERM)
        stopped_at = count(store, Listing)
        third = tisiwatch(env, log, "schedule", "run")
        wait_for(lambda: _run_status(store, 3) in {"finished", "failed"}, "the second catch-up to end", 300)
        idle_code, idle_s = signal_group(third, signal.SIGTERM)
    with store.session() as session:
        runs = session.scalars(select(PipelineRun).order_by(PipelineRun.id)).all()
        crawl_runs = session.scalars(select(CrawlRun)).all()
        stored = set(session.scalars(select(Listing.marketplace_id)))
        result = {
            "size": len(live_ids(size, "html")), "killed_at": killed_at, "stopped_at": stopped_at,
            "caught_up_s": caught_up, "sigterm_exit": term_code, "sigterm_s": term_s,
            "idle_exit": idle_code, "idle_s": idle_s,
            "runs": [(r.id, r.trigger, r.status, [(s.name, s.status) for s in r.steps], r.error) for r in runs],
            "crawl_runs": [(c.id, c.status, (c.stats or {}).get("resumes", 0), (c.stats or {}).get("items"))
                           for c in crawl_runs],
            "missing": len(live_ids(size, "html") - stored), "duplicates": duplicates(session),
            "verdicts": session.scalar(select(func.count()).select_from(Verdict)),
            "cases": runs[-1].steps[-1].stats.get("cases"),
            "locked": LOCKED in log_path.read_text(encoding="utf-8", errors="replace"),
        }  # fmt: skip
    store.dispose()
    return result


def _run_status(store: Store, run_id: int) -> str | None:
    try:
        with store.session() as session:
            run = session.get(PipelineRun, run_id)
            return None if run is None else run.status
    except OperationalError:
        return None


# --- b: the shops' fault modes at high rates


def fault_drill(workdir: Path, size: int = 30, rate: float = 0.3, timeout_s: float = 1.0) -> dict[str, Any]:
    """Crawl the HTML shop (by its categories, whose last pages lead into endless calendars) and the
    API shop while a share ``rate`` of their pages fails once (503, 429 with Retry-After, slower than
    the crawl's timeout, truncated) or loops its redirects for ever. Per site: the reachable listings
    stored, the failures recorded and why, and failures nobody recorded."""
    rates = FaultRates(rate=rate, slow_s=timeout_s * 2, calendar=True)
    with start_shops(seed=SEED, size=size, day=1, rates=rates) as shops:
        settings = load_settings(
            overrides={"data_dir": str(workdir), "crawl": {"timeout_s": timeout_s}}, environ={}
        )
        store = Store.from_settings(settings)
        store.migrate()
        html = load_profile("demo-html").with_base_url(shops.urls["html"])
        categories = sorted(
            {f"/category/{item.category}" for item in generate(SEED, size, 1) if item.shop == "html"}
        )
        discovery = {"categories": categories, "sitemap": "", "search_url": "", "max_result_pages": 20}
        html = html.model_copy(update={"discovery": html.discovery.model_copy(update=discovery)})
        api = load_profile("demo-api").with_base_url(shops.urls["api"])
        started = time.perf_counter()
        results = crawl(settings, [html, api], queries=[], store=store)
        seconds = time.perf_counter() - started
        ghosts = {shop: shops.faults[shop].get("missing") for shop in PROFILES}
    report: dict[str, Any] = {"size": size, "rate": rate, "seconds": seconds, "sites": {}}
    with store.session() as session:
        for result, (shop, path) in zip(
            results, (("html", "/product/{}"), ("api", "/api/items/{}")), strict=True
        ):
            report["sites"][result.site] = _fault_outcome(
                session, result, shop, path, size, rates, ghosts[shop]
            )
        report["duplicates"] = duplicates(session)
    store.dispose()
    return report


def _fault_outcome(session: Any, result: CrawlResult, shop: str, path: str, size: int, rates: FaultRates,
                   ghost: str | None) -> dict[str, Any]:  # fmt: skip
    live = live_ids(size, shop)
    loops = {
        i
        for i in live | {ghost or ""}
        if fault_for(rates, SEED, shop, path.format(i), True) == "redirect_loop"
    }
    reachable = live - loops
    stored = set(session.scalars(select(Listing.marketplace_id).join(Site).where(Site.name == result.site)))
    failures = session.execute(
        select(CrawlFailure.url, CrawlFailure.reason).where(CrawlFailure.run_id == result.run_id)
    ).all()
    failed_ids = {url.split("?", 1)[0].rsplit("/", 1)[-1] for url, _ in failures}
    reasons = Counter(
        "redirect loop" if "redirect loop" in reason else reason.split(":")[0] for _, reason in failures
    )
    explained = loops | {ghost}
    stats = result.stats
    return {
        "status": result.status, "reachable": len(reachable), "stored": len(stored & reachable),
        "share": len(stored & reachable) / len(reachable) if reachable else 1.0,
        "unreachable": len(loops & live), "failures": dict(reasons),
        "unrecorded": sorted((loops | ({ghost} if ghost else set())) - failed_ids),
        "unexplained": sorted(failed_ids - explained), "pages": stats.get("pages", 0),
        "retries": stats.get("retries", 0), "errors": stats.get("errors", {}),
        "status_counts": stats.get("status_counts", {}), "trap_drops": stats.get("trap_drops", {}),
    }  # fmt: skip


# --- c: PostgreSQL restarted (or its connections cut) during a crawl


def terminate_backends(database_url: str) -> Callable[[], str]:
    """A disruption: cut every connection to the crawl's database (pg_terminate_backend), the closest
    a test can come to a server restart without restarting the server that other work shares."""
    name = database_url.rsplit("/", 1)[-1]

    def cut() -> str:
        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with admin.connect() as connection:
                killed = connection.execute(
                    text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                         "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name}
                ).scalar()  # fmt: skip
        finally:
            admin.dispose()
        return f"{killed} connections cut"

    return cut


def postgres_drill(workdir: Path, database_url: str, disrupt: Callable[[], str], size: int = 400,
                   every_s: float = 1.0, delay_s: float = 0.01) -> dict[str, Any]:  # fmt: skip
    """Crawl the HTML shop into PostgreSQL while ``disrupt()`` hits the database every ``every_s``
    seconds; resume the crawl if it stopped; then check that nothing is half-written."""
    with start_shops(seed=SEED, size=size, day=1, faults=False) as shops:
        overrides = {"data_dir": str(workdir), "database": {"url": database_url},
                     "crawl": {"delay_s": delay_s, "retries": 2}}  # fmt: skip
        settings = load_settings(overrides=overrides, environ={})
        store = Store.from_settings(settings)
        store.migrate()
        profile = load_profile("demo-html").with_base_url(shops.urls["html"])
        outcome: dict[str, Any] = {}
        worker = threading.Thread(target=_crawl_into, args=(settings, profile, store, outcome, False))
        started = time.perf_counter()
        worker.start()
        disruptions = []
        while worker.is_alive():
            worker.join(every_s)
            if worker.is_alive() and count(store, Listing):
                disruptions.append(disrupt())
        first = dict(outcome)
        resumes = 0
        while outcome.get("status") != "finished" and resumes < 3:
            resumes += 1
            _crawl_into(settings, profile, store, outcome, True)
        seconds = time.perf_counter() - started
    with store.session() as session:
        run_ids = set(session.scalars(select(CrawlRun.id)))
        observed = {
            rid: session.scalar(select(func.count()).where(Observation.run_id == rid)) for rid in run_ids
        }
        items = {run.id: (run.stats or {}).get("items") for run in session.scalars(select(CrawlRun))}
        bare = session.scalar(select(func.count()).select_from(Listing).where(
            ~select(Observation.id).where(Observation.listing_id == Listing.id).exists()))  # fmt: skip
        stored = set(session.scalars(select(Listing.marketplace_id)))
        result = {
            "size": len(live_ids(size, "html")), "seconds": seconds, "disruptions": disruptions,
            "first": first, "resumes": resumes, "final": outcome.get("status"),
            "missing": len(live_ids(size, "html") - stored), "duplicates": duplicates(session),
            "listings_without_observation": bare, "items_vs_observations": {r: (items[r], observed[r]) for r in run_ids},
        }  # fmt: skip
    store.dispose()
    return result


def _crawl_into(
    settings: Settings, profile: Any, store: Store, outcome: dict[str, Any], resume: bool
) -> None:
    try:
        [result] = crawl(settings, [profile], queries=[], store=store, resume=resume)
        outcome.update(status=result.status, run=result.run_id, error=result.stats.get("error"))
    except Exception as exc:  # the drill records how the crawl ended, whatever it was
        outcome.update(status="raised", error=f"{type(exc).__name__}: {str(exc).splitlines()[0]}")


@contextmanager
def private_cluster() -> Iterator[tuple[str, Callable[[], str]]]:
    """A PostgreSQL server of our own (initdb in a temporary directory, run as the postgres user):
    its URL and a disruption that restarts it. Raises RuntimeError where that cannot be done."""
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not binaries or os.geteuid() != 0:
        raise RuntimeError("needs root and Debian's PostgreSQL binaries to run a private server")
    pg_ctl, bin_dir = str(binaries[-1]), str(binaries[-1].parent)
    with tempfile.TemporaryDirectory(prefix="tisiwatch-pg-") as tmp:
        shutil.chown(tmp, "postgres", "postgres")
        data = Path(tmp) / "data"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]

        def as_postgres(*command: str) -> None:
            # pg_ctl's server keeps its standard streams: they go to the log file (-l), never to a pipe
            subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, timeout=120,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

        as_postgres(f"{bin_dir}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres")
        options = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1"
        log = f"{tmp}/log"
        as_postgres(pg_ctl, "-D", str(data), "-o", options, "-l", log, "-w", "start")
        try:
            url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

            def restart() -> str:
                started = time.monotonic()
                as_postgres(pg_ctl, "-D", str(data), "-m", "fast", "-w", "restart", "-o", options, "-l", log)
                return f"restarted in {time.monotonic() - started:.1f} s"

            yield url, restart
        finally:
            as_postgres(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")


# --- 4: the scheduler and an analyst's crawl on one SQLite file


def concurrent_drill(workdir: Path, size: int = 200, delay_s: float = 0.01) -> dict[str, Any]:
    """`schedule run --now daily` and an ad-hoc `tisiwatch crawl` of the same site, at once, on one
    SQLite file: both must end well, with no "database is locked" anywhere."""
    data, log_path, crawl_log = workdir / "data", workdir / "scheduler.log", workdir / "crawl.log"
    workdir.mkdir(parents=True, exist_ok=True)
    with start_shops(seed=SEED, size=size, day=1, faults=False) as shops, log_path.open("ab") as log, \
            crawl_log.open("ab") as analyst_log:  # fmt: skip
        profiles = write_profiles(shops, workdir / "profiles", ["html", "api"], search=False)
        env = tisiwatch_env(data, profiles, ["demo-html", "demo-api"], crawl_delay_s=str(delay_s))
        store = initialised(env, shops)
        scheduler = tisiwatch(env, log, "schedule", "run", "--now", "daily")
        wait_for(lambda: count(store, Listing) > 0, "the scheduler's crawl to store listings")
        analyst = tisiwatch(env, analyst_log, "crawl", "demo-html", "demo-api", "--query", "ปลั๊ก")
        analyst_code = analyst.wait(600)
        wait_for(lambda: _run_status(store, 1) in {"finished", "failed"}, "the scheduled run to end", 600)
        stop_code, _ = signal_group(scheduler, signal.SIGTERM)
    logs = log_path.read_text(encoding="utf-8", errors="replace") + crawl_log.read_text(
        encoding="utf-8", errors="replace"
    )
    with store.session() as session:
        run = session.get_one(PipelineRun, 1)
        ours = {entry["run"] for entry in run.steps[0].stats.get("runs", {}).values()}
        crawls = session.execute(select(CrawlRun.id, Site.name, CrawlRun.status, CrawlRun.started_at,
                                        CrawlRun.finished_at).join(Site).order_by(CrawlRun.id)).all()  # fmt: skip
        spans = {
            "scheduler": [c for c in crawls if c.id in ours],
            "analyst": [c for c in crawls if c.id not in ours],
        }
        start, end = ({who: f([getattr(c, key) for c in spans[who]]) for who in spans}
                      for f, key in ((min, "started_at"), (max, "finished_at")))  # fmt: skip
        overlap = (min(end.values()) - max(start.values())).total_seconds()
        stored = set(session.scalars(select(Listing.marketplace_id)))
        result = {
            "analyst_exit": analyst_code, "stop_exit": stop_code, "overlap_s": overlap,
            "crawl_s": {who: (end[who] - start[who]).total_seconds() for who in spans},
            "pipeline_s": (run.finished_at - run.started_at).total_seconds() if run.finished_at else None,
            "run": (run.status, [(s.name, s.status) for s in run.steps], run.error),
            "crawl_runs": [(c.name, "scheduler" if c.id in ours else "analyst", c.status) for c in crawls],
            "locked": logs.count(LOCKED),
            "missing": len(live_ids(size, "html") - stored),  # the API shop is searched, not enumerated
            "duplicates": duplicates(session),
        }  # fmt: skip
    store.dispose()
    return result


# --- the benchmark: run the drills, write docs/benchmarks.md


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=2000, help="listings a shop")
    parser.add_argument("--rate", type=float, default=0.3, help="share of pages that misbehave")
    parser.add_argument("--only", default="kill,faults,postgres,concurrent")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    chosen = set(args.only.split(","))
    lines = [SECTION, "", f"`python -m bench.drills --size {args.size} --rate {args.rate}` — "
             f"{date.today().isoformat()}, {machine()}.", ""]  # fmt: skip
    ok = True
    with tempfile.TemporaryDirectory(prefix="tisiwatch-drills-") as tmp:
        root = Path(tmp)
        if "kill" in chosen:
            kill = kill_drill(root / "kill", size=args.size, delay_s=0.005)
            print("kill:", kill)
            passed = (
                kill["missing"] == 0
                and not any(kill["duplicates"].values())
                and kill["runs"][-1][2] == "finished"
            )
            ok &= passed
            lines += _kill_lines(kill, passed)
        if "faults" in chosen:
            faults = fault_drill(root / "faults", size=args.size, rate=args.rate)
            print("faults:", faults)
            passed = all(site["share"] >= 0.99 and not site["unrecorded"] and not site["unexplained"]
                         and site["status"] == "finished" for site in faults["sites"].values())  # fmt: skip
            ok &= passed
            lines += _fault_lines(faults, passed)
        if "postgres" in chosen:
            lines += _postgres(root / "postgres", args.size)
        if "concurrent" in chosen:
            together = concurrent_drill(root / "concurrent", size=args.size)
            print("concurrent:", together)
            passed = (
                together["analyst_exit"] == 0 and together["locked"] == 0 and together["run"][0] == "finished"
            )
            ok &= passed
            lines += _concurrent_lines(together, passed)
    if not args.no_write:
        write_section(SECTION, "\n".join(lines) + "\n")
        print(f"updated {DOC.relative_to(ROOT)}")
    return 0 if ok else 1


def _kill_lines(kill: dict[str, Any], passed: bool) -> list[str]:
    runs = "; ".join(f"run {rid} ({trigger}) {status}: " + ", ".join(f"{n} {s}" for n, s in steps)
                     for rid, trigger, status, steps, _ in kill["runs"])  # fmt: skip
    crawl_run = kill["crawl_runs"]
    return [
        "### a. The scheduler killed mid-run", "",
        f"`tisiwatch schedule run --now daily` crawling the demo HTML shop ({kill['size']:,} listings, by its",
        "sitemap) is SIGKILLed with its whole process group once some listings are stored; started again, it",
        "marks the run interrupted, closes the crawl run it left open, and catches up at once, continuing",
        "that crawl run; SIGTERMed mid-crawl, it stops cleanly; started again, it catches up and finishes.", "",
        f"- killed after {kill['killed_at']:,} listings; the catch-up had stored {kill['stopped_at'] - kill['killed_at']:,} more "
        f"when SIGTERM came; exit code {kill['sigterm_exit']} after {kill['sigterm_s']:.1f} s (an idle stop: "
        f"{kill['idle_exit']}, {kill['idle_s']:.1f} s)",
        f"- runs: {runs}",
        f"- crawl runs: {len(crawl_run)} (id, status, resumptions, listings: {crawl_run}); listings missing: "
        f"{kill['missing']}; duplicated: {kill['duplicates']['listings']} listings, "
        f"{kill['duplicates']['observations']} observations in a run; verdicts {kill['verdicts']:,}, cases "
        f"{kill['cases']:,}; \"database is locked\": {'yes' if kill['locked'] else 'never'}",
        f"- **{'passed' if passed else 'FAILED'}**", "",
    ]  # fmt: skip


def _fault_lines(faults: dict[str, Any], passed: bool) -> list[str]:
    rows = [
        f"| {site} | {o['stored']:,} / {o['reachable']:,} ({o['share']:.2%}) | {o['unreachable']} | "
        f"{', '.join(f'{k} {v}' for k, v in sorted(o['failures'].items())) or '-'} | {len(o['unrecorded'])} | "
        f"{o['pages']:,} | {o['retries']:,} | {_errors(o['errors'])} | "
        f"{sum(o['trap_drops'].values())} |"
        for site, o in faults["sites"].items()
    ]  # fmt: skip
    return [
        "### b. The shops' fault modes at high rates", "",
        f"{faults['rate']:.0%} of the demo shops' pages ({faults['size']:,} listings a shop) misbehave: each gets",
        "one of 503, 429 with `Retry-After: 1`, an answer slower than the crawl's 1 s timeout or a truncated",
        "body (each on its first request only), or — product pages only — a redirect loop for ever. The",
        "HTML shop is crawled by its categories, whose last result pages lead into endless calendars; a",
        "listing whose page loops is unreachable, every other one is reachable by retrying.",
        f"The crawl took {faults['seconds']:.0f} s.", "",
        "| site | reachable listings stored | unreachable (loops) | failures recorded | unrecorded | pages | retries | errors met | trap drops |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows, "",
        f"Listings duplicated: {faults['duplicates']['listings']}; **{'passed' if passed else 'FAILED'}** "
        "(≥ 99 % of reachable listings stored, every failure recorded with its reason).", "",
    ]  # fmt: skip


def _errors(errors: dict[str, int]) -> str:
    return ", ".join(f"{name.rsplit('.', 1)[-1]} {n}" for name, n in sorted(errors.items())) or "-"


def _postgres(workdir: Path, size: int) -> list[str]:
    lines = [
        "### c. PostgreSQL restarted during a crawl", "",
        "Connections come from pools that test them before use (`pool_pre_ping`); the crawl process stores",
        "a batch per transaction, and a batch whose write fails (the server went away mid-transaction) stays",
        "pending and is written with the next one; a crawl that stopped anyway would be resumed.", "",
    ]  # fmt: skip
    try:
        with private_cluster() as (url, restart):
            real = postgres_drill(workdir / "restart", url, restart, size=size, every_s=3.0)
        print("postgres restart:", real)
        lines += _postgres_lines("a PostgreSQL server of its own, restarted (`pg_ctl restart -m fast`)", real)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        lines += [
            f"A private server could not be run here ({exc}); only the connection cut below was run.",
            "",
        ]
    with postgres_database() as url:
        cut = postgres_drill(workdir / "cut", url, terminate_backends(url), size=size, every_s=1.0)
    print("postgres cut:", cut)
    lines += _postgres_lines("the shared test server, every connection to the crawl's database cut "
                             "(`pg_terminate_backend`)", cut)  # fmt: skip
    return lines


def _postgres_lines(how: str, drill: dict[str, Any]) -> list[str]:
    clean = (
        drill["missing"] == 0
        and not any(drill["duplicates"].values())
        and not drill["listings_without_observation"]
    )
    matched = all(items == observed for items, observed in drill["items_vs_observations"].values())
    return [
        f"The demo HTML shop ({drill['size']:,} listings, by its sitemap) crawled into {how}, "
        f"{len(drill['disruptions'])} times during the crawl ({'; '.join(drill['disruptions'][:3])}…). "
        f"The crawl first ended **{drill['first'].get('status')}**"
        + (f" ({drill['first'].get('error')})" if drill["first"].get("error") else "")
        + f"; resumed {drill['resumes']} times, it ended {drill['final']} after {drill['seconds']:.0f} s in all. "
        f"Listings missing: {drill['missing']}; duplicated: {drill['duplicates']['listings']} (observations "
        f"twice in a run: {drill['duplicates']['observations']}); listings without an "
        f"observation: {drill['listings_without_observation']}; run stats' items equal its stored observations: "
        f"{'yes' if matched else drill['items_vs_observations']}. **{'passed' if clean else 'FAILED'}**", "",
    ]  # fmt: skip


def _concurrent_lines(drill: dict[str, Any], passed: bool) -> list[str]:
    return [
        "### The scheduler and an analyst's crawl on one SQLite file", "",
        "`tisiwatch schedule run --now daily` (the HTML shop by its sitemap, the API shop by the register's",
        "search words) and, started as its first listings are stored, `tisiwatch crawl demo-html demo-api",
        "--query ปลั๊ก` in another process,",
        f"on the same SQLite file. The two crawls ran side by side for {drill['overlap_s']:.0f} s (the scheduler's "
        f"{drill['crawl_s']['scheduler']:.0f} s, the analyst's {drill['crawl_s']['analyst']:.0f} s); the analyst's exited "
        f"{drill['analyst_exit']}; the scheduled run ended {drill['run'][0]} after {drill['pipeline_s']:.0f} s "
        f"({', '.join(f'{n} {s}' for n, s in drill['run'][1])});",
        f"crawl runs: {drill['crawl_runs']}; \"database is locked\": {drill['locked']} times; HTML-shop listings",
        f"missing: {drill['missing']}; listings duplicated: {drill['duplicates']['listings']}. **{'passed' if passed else 'FAILED'}**", "",
    ]  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
