"""The ``tisiwatch`` command: a thin layer that parses options, calls a stage function and prints."""

from __future__ import annotations

import logging
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from config import ConfigError, Settings, load_settings
from store.db import Store

os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

app = typer.Typer(
    help="tisiwatch — find goods sold online in Thailand without the TISI licence the law requires.",
    no_args_is_help=True,
    add_completion=False,
)
register_app = typer.Typer(
    help="Import and inspect the register (standards, licences, unsafe list).", no_args_is_help=True
)
report_app = typer.Typer(help="Write reports for enforcement officers.", no_args_is_help=True)
export_app = typer.Typer(help="Export findings for analysts and case files for ETDA.", no_args_is_help=True)
schedule_app = typer.Typer(help="Run the daily pipeline on a timetable (APScheduler).", no_args_is_help=True)
demo_app = typer.Typer(
    help="Run tisiwatch end to end against local demo marketplaces.", invoke_without_command=True
)
app.add_typer(register_app, name="register")
app.add_typer(report_app, name="report")
app.add_typer(export_app, name="export")
app.add_typer(schedule_app, name="schedule")
app.add_typer(demo_app, name="demo")

console = Console()
errors = Console(stderr=True)


class State:
    """Options of the whole command, turned into settings once."""

    def __init__(self) -> None:
        self.config: Path | None = None
        self.overrides: dict[str, Any] = {}
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config, self.overrides)
            except ConfigError as exc:
                fail(f"configuration: {exc}")
        return self._settings

    def store(self) -> Store:
        settings = self.settings
        return Store(settings.database_url, settings.database.busy_timeout_ms, settings.database.echo)


state = State()


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@app.callback()
def main_options(
    config: Annotated[Path | None, typer.Option(help="Settings file (default: ./settings.toml).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Working data directory.")] = None,
    database_url: Annotated[str | None, typer.Option(help="SQLAlchemy database URL.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    """Global options; they override settings.toml and TISIWATCH_* variables."""
    state.config = config
    if data_dir is not None:
        state.overrides["data_dir"] = str(data_dir)
    if database_url is not None:
        state.overrides.setdefault("database", {})["url"] = database_url
    if verbose:
        state.overrides["log_level"] = "DEBUG"
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@app.command()
def init() -> None:
    """Create or upgrade the database and load the default register of compulsory standards."""
    from matchers.register import ensure_default_register

    store = state.store()
    store.migrate()
    version = ensure_default_register(store)
    console.print(f"database ready: [bold]{_safe_url(store.url)}[/]")
    if version is not None:
        console.print(f"default register loaded: version {version.id}, {version.row_count} standards")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@register_app.command("import")
def register_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX file of standards, licences or the unsafe list.")],
    kind: Annotated[
        str | None, typer.Option(help="standards | licences | unsafe (default: from the headers).")
    ] = None,
) -> None:
    """Import a register file as a new register version (all or nothing)."""
    from matchers.register import RegisterError, import_register

    store = state.store()
    store.migrate()
    try:
        version = import_register(store, file, kind=kind)
    except RegisterError as exc:
        fail(f"{file.name} rejected, nothing imported:\n{exc}")
    console.print(
        f"imported {version.row_count} {version.kind} rows from {file.name}: register version {version.id}"
    )


@register_app.command("show")
def register_show() -> None:
    """Show the current register version and what it holds."""
    from matchers.register import summary

    with state.store().session() as session:
        info = summary(session)
    table = Table("key", "value", title="register")
    for key, value in info.items():
        table.add_row(str(key), str(value))
    console.print(table)


@app.command()
def crawl(
    sites: Annotated[list[str], typer.Argument(help="Site profile names, e.g. demo-html.")],
    query: Annotated[
        list[str] | None,
        typer.Option("--query", "-q", help="Search words (default: the register's keywords)."),
    ] = None,
    url: Annotated[list[str] | None, typer.Option("--url", help="Crawl these listing URLs only.")] = None,
    limit: Annotated[int | None, typer.Option(help="Stop after this many listings per site.")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Point the (single) profile at another address.")
    ] = None,
    recheck: Annotated[bool, typer.Option(help="Revisit the known listing URLs of the site.")] = False,
    no_evidence: Annotated[
        bool, typer.Option("--no-evidence", help="Do not keep WARC records or screenshots.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="Crawl processes per site (default crawl.workers); more than one needs Redis."
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Continue a site's crawl that was killed or stopped, with its own plan."
        ),
    ] = False,
) -> None:
    """Crawl marketplaces and store every listing found."""
    from crawler.profile import ProfileError, load_profile
    from crawler.progress import CrawlProgress
    from crawler.runner import CrawlRequestError
    from crawler.runner import crawl as run_crawl

    if no_evidence:
        state.overrides.setdefault("crawl", {})["evidence"] = False
    settings = state.settings
    try:
        profiles = [load_profile(name, settings.crawl.profiles_dir) for name in sites]
    except ProfileError as exc:
        fail(str(exc))
    if base_url:
        if len(profiles) != 1:
            fail("--base-url needs exactly one site")
        profiles = [profiles[0].with_base_url(base_url)]
    store = state.store()
    store.migrate()
    try:
        with CrawlProgress(console) as progress:
            results = run_crawl(
                settings,
                profiles,
                queries=query,
                urls=url or (),
                max_items=limit,
                recheck=recheck,
                store=store,
                on_progress=progress.update,
                workers=workers,
                resume=resume,
            )
    except CrawlRequestError as exc:
        fail(str(exc))
    for result in results:
        stats = result.stats
        console.print(
            f"{result.site}: run {result.run_id}{' (resumed)' if result.resumed else ''} {result.status} — "
            f"{stats.get('items', 0)} listings, {stats.get('pages', 0)} pages, "
            f"{stats.get('failed_urls', 0)} failed URLs",
            markup=False,
            highlight=False,
        )
        failed = int(stats.get("failed_urls") or 0)
        if result.status == "failed" and stats.get("reason"):
            console.print(f"  {stats['reason']}", markup=False, highlight=False, soft_wrap=True)
        elif failed:
            asked = max(int(stats.get("requests") or 0), failed)
            console.print(
                f"  {failed} of {asked} URLs failed — see `tisiwatch runs --run {result.run_id}`",
                markup=False,
                highlight=False,
            )
    if any(result.status != "finished" for result in results):
        raise typer.Exit(1)


@app.command()
def runs(
    limit: Annotated[int, typer.Option(help="How many runs to show.")] = 20,
    run: Annotated[
        int | None, typer.Option("--run", help="Show one run in detail, with its failed URLs.")
    ] = None,
) -> None:
    """Show recent crawl runs and their health: pages, listings, errors, field coverage."""
    from sqlalchemy import select

    from crawler.outcome import run_notes
    from store.models import CrawlFailure, CrawlRun

    table = Table("run", "site", "mode", "started (UTC)", "status", "pages", "listings", "gone", "failed URLs",
                  "errors", "coverage title/price/seller/licence")  # fmt: skip
    with state.store().session() as session:
        query = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)
        for crawl_run in session.scalars(
            query if run is None else select(CrawlRun).where(CrawlRun.id == run)
        ):
            stats = crawl_run.stats or {}
            cov = stats.get("coverage", {})
            table.add_row(
                str(crawl_run.id), crawl_run.site.name, crawl_run.mode, f"{crawl_run.started_at:%Y-%m-%d %H:%M}",
                crawl_run.status, str(stats.get("pages", "")), str(stats.get("items", "")), str(stats.get("gone", "")),
                str(stats.get("failed_urls", "")), str(sum((stats.get("errors") or {}).values())),
                " / ".join(f"{cov.get(k, 0):.0%}" for k in ("title", "price", "seller", "licence_text")),
            )  # fmt: skip
        console.print(table)
        if run is not None:
            shown = session.get(CrawlRun, run)
            for note in run_notes(shown.stats or {}, state.settings.data_dir) if shown else []:
                console.print(note, markup=False, highlight=False, soft_wrap=True)
            failures = Table("URL", "HTTP", "reason", title=f"failed URLs of run {run}")
            for failure in session.scalars(select(CrawlFailure).where(CrawlFailure.run_id == run).limit(500)):
                failures.add_row(failure.url, str(failure.http_status or ""), failure.reason)
            console.print(failures)


@app.command()
def match() -> None:
    """Judge every listing not yet judged under the current register (and re-judge after an import)."""
    from matchers.match import match_pending

    store = state.store()
    summary = match_pending(store, state.settings)
    console.print(f"judged {summary.judged} listings under register version {summary.register_version}")
    for verdict, count in sorted(summary.by_verdict.items()):
        console.print(f"  {verdict}: {count}")


@report_app.command("daily")
def report_daily(
    out: Annotated[Path, typer.Option(help="Directory for report.html, report.xlsx, findings.csv/json.")],
    day: Annotated[
        str | None, typer.Option("--date", help="Asia/Bangkok day, YYYY-MM-DD (default: today).")
    ] = None,
) -> None:
    """Write the daily violation report for one Asia/Bangkok day."""
    from reports.daily import build_daily_report

    settings = state.settings
    report = build_daily_report(
        state.store(),
        out,
        _parse_day(day),
        timezone=settings.report.timezone,
        evidence_root=settings.data_dir,
        settings=settings,
    )
    console.print(
        f"report for {report.day}: {out / 'report.html'} — {report.new} new, {report.continuing} continuing, "
        f"{report.resolved} resolved, {report.needs_review} to review",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for alert in report.alerts:
        errors.print(f"alert {alert.kind}: {alert.message}", markup=False, highlight=False, soft_wrap=True)


def _parse_day(text: str | None, option: str = "--date") -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: {text!r} is not a date like 2026-11-25")


@export_app.command("findings")
def export_findings(
    out: Annotated[Path, typer.Option(help="Output file.")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl | csv | parquet")] = "jsonl",
    all_: Annotated[bool, typer.Option("--all", help="Every listing, not only violations.")] = False,
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    standard: Annotated[
        str | None, typer.Option(help="Only this TIS number, as written (2879-2560) or its base (2879).")
    ] = None,
    verdict: Annotated[list[str] | None, typer.Option(help="Only this verdict (repeat for several).")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only listings seen since this Asia/Bangkok day (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Export findings (the latest observation of each listing with its verdict)."""
    from reports.export import FORMATS, VERDICTS
    from reports.export import export_findings as run_export

    if fmt not in FORMATS:
        fail(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    unknown = sorted(set(verdict or ()) - set(VERDICTS))
    if unknown:
        fail(f"--verdict: {', '.join(map(repr, unknown))} is not one of {', '.join(VERDICTS)}")
    count = run_export(
        state.store(),
        out,
        fmt,
        all_=all_,
        site=site,
        standard=standard,
        verdicts=verdict,
        since=_parse_day(since, "--since"),
        timezone=state.settings.report.timezone,
    )
    console.print(f"wrote {count} findings to {out}", markup=False, highlight=False, soft_wrap=True)


@export_app.command("cases")
def export_cases(
    out: Annotated[Path, typer.Option(help="The case file to write (cases.zip).")],
    since: Annotated[
        str | None, typer.Option(help="Only cases seen since this Asia/Bangkok day (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Export signed ETDA case files for violating listings."""
    from reports.casefile import export_cases as run_export
    from reports.signing import SigningKeyError

    try:
        day = None if since is None else date.fromisoformat(since)
    except ValueError:
        fail(f"--since: {since!r} is not a date like 2026-11-25")
    try:
        summary = run_export(state.store(), state.settings, since=day, out=out)
    except SigningKeyError as exc:
        fail(str(exc))
    for problem in summary.problems[:20]:
        errors.print(f"warning: {problem}", markup=False, highlight=False, soft_wrap=True)
    if len(summary.problems) > 20:
        errors.print(f"warning: … and {len(summary.problems) - 20} more, all listed in manifest.json")
    console.print(f"wrote {summary.cases} cases to {out}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"signing key fingerprint (SHA-256): {summary.key_fingerprint}", highlight=False)


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="A cases-*.zip file.")],
    key: Annotated[
        Path | None, typer.Option(help="The sender's public key (PEM) that the file must be signed with.")
    ] = None,
) -> None:
    """Verify an ETDA case file: every hash and the signature."""
    from reports.verify import verify_casefile

    try:
        expected = None if key is None else key.read_bytes()
    except OSError as exc:
        fail(f"--key: {exc.strerror}")
    result = verify_casefile(file, public_key=expected)
    if not result.ok:
        for problem in result.problems:
            console.print(f"FAILED {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(
        f"OK {file.name}: {result.cases} cases, {result.files} files; every hash and the signature hold "
        f"(key fingerprint {result.key_fingerprint})",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@schedule_app.command("run")
def schedule_run(
    now: Annotated[
        list[str] | None,
        typer.Option("--now", help="Also run this job right away (daily, recheck, register); repeatable."),
    ] = None,
) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C (under systemd: docs/operations.md)."""
    from rich.markup import escape

    from scheduler import JOBS, run_forever
    from store.lock import LockHeld

    unknown = [job for job in now or [] if job not in JOBS]
    if unknown:
        fail(f"--now: no job {unknown[0]!r}; the jobs are {', '.join(JOBS)}", code=2)
    settings = state.settings
    for name in ("tisiwatch", "apscheduler"):  # what the scheduler does, at log_level (INFO) or -v
        logging.getLogger(name).setLevel(
            min(logging.getLogger().level, logging.getLevelName(settings.log_level))
        )
    store = state.store()
    store.migrate()

    def started() -> None:
        console.print(f"scheduler started ({settings.schedule.timezone}); stop it with Ctrl-C or SIGTERM")

    try:
        run_forever(settings, store, now or (), started=started)
    except LockHeld as error:
        fail(escape(f"{error}: one scheduler runs per database"))
    console.print("scheduler stopped")


@schedule_app.command("list")
def schedule_list() -> None:
    """List the scheduled jobs, their timetable, next run and latest run."""
    from zoneinfo import ZoneInfo

    from scheduler import timetable

    settings = state.settings
    store = state.store()
    store.migrate()
    zone = ZoneInfo(settings.schedule.timezone)
    table = Table("job", "steps", "cron", f"next run ({zone.key})", "latest run", title="timetable")
    entries = timetable(settings, store)
    for entry in entries:
        last = entry.last
        table.add_row(
            entry.plan.id,
            " → ".join(entry.plan.steps),
            entry.cron or "off",
            f"{entry.next_run.astimezone(zone):%Y-%m-%d %H:%M}" if entry.next_run else "-",
            f"{last.id}: {last.status}, {last.started_at.astimezone(zone):%Y-%m-%d %H:%M}" if last else "-",
        )
    console.print(table)
    if not any(entry.stored for entry in entries):
        console.print("the scheduler has not stored its jobs yet: next runs as settings.toml gives them")


@schedule_app.command("trigger")
def schedule_trigger(
    job: Annotated[str, typer.Argument(help="Job id: daily, recheck or register.")],
) -> None:
    """Run one job now, in this process, recorded like a scheduled run (exit 1 if a step failed)."""
    from rich.markup import escape

    from scheduler import JOBS, Pipeline, recover
    from store import journal

    if job not in JOBS:
        fail(f"no job {job!r}; the jobs are {', '.join(JOBS)}", code=2)
    settings = state.settings
    store = state.store()
    store.migrate()
    recover(store)
    with store.session() as session:
        running = journal.unfinished(session, job)
    if running:
        other = running[0]
        fail(f"job {job} is already running: run {other.id}, started {other.started_at:%Y-%m-%d %H:%M} UTC "
             f"on {other.host} (pid {other.pid})")  # fmt: skip
    with console.status(f"running {job}: {' → '.join(JOBS[job].steps)}"):
        outcome = Pipeline(settings, store).run(job, "manual")
    for name, status, error in outcome.steps:
        console.print(f"  {name}: {status}" + (f" — {escape(error)}" if error else ""), highlight=False)
    console.print(f"run {outcome.run_id} {outcome.status}", highlight=False)
    if outcome.status != "finished":
        raise typer.Exit(1)


@schedule_app.command("history")
def schedule_history(
    limit: Annotated[int, typer.Option(help="How many runs to show.")] = 20,
    job: Annotated[str | None, typer.Option(help="Only this job.")] = None,
    run: Annotated[int | None, typer.Option("--run", help="Show one run's steps in detail.")] = None,
) -> None:
    """Show recent pipeline runs and the outcome of each step."""
    import json
    from zoneinfo import ZoneInfo

    from rich.markup import escape

    from store import journal
    from store.models import PipelineRun

    zone = ZoneInfo(state.settings.schedule.timezone)
    store = state.store()
    store.migrate()

    def when(moment: Any) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M:%S}" if moment else "-"

    def took(start: Any, end: Any) -> str:
        return f"{(end - start).total_seconds():.0f} s" if start and end else "-"

    with store.session() as session:
        runs = journal.recent(session, limit, job) if run is None else [session.get(PipelineRun, run)]
        if run is not None and runs[0] is None:
            fail(f"no pipeline run {run}")
        table = Table("run", "job", "trigger", f"started ({zone.key})", "took", "status", "steps", "error")
        for item in runs:
            assert item is not None
            steps = " · ".join(f"{step.name} {step.status}" for step in item.steps)
            table.add_row(str(item.id), item.job, item.trigger, when(item.started_at),
                          took(item.started_at, item.finished_at), item.status, steps, escape(item.error or ""))  # fmt: skip
        console.print(table)
        if run is not None and runs[0] is not None:
            console.print(f"steps of run {run}:")
            for step in runs[0].steps:
                console.print(f"  {step.name}: {step.status}, started {when(step.started_at)}, took "
                              f"{took(step.started_at, step.finished_at)}", highlight=False)  # fmt: skip
                for key, value in (step.stats or {}).items():
                    said = json.dumps(value, ensure_ascii=False, default=str)
                    console.print(f"    {key}: {said}", markup=False, highlight=False, soft_wrap=True)
                if step.error:
                    console.print(f"    error: {step.error}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def sites() -> None:
    """List the site profiles that can be crawled."""
    from crawler.profile import ProfileError, available_profiles, load_profile

    table = Table("name", "kind", "base URL")
    for name in available_profiles(state.settings.crawl.profiles_dir):
        try:
            profile = load_profile(name, state.settings.crawl.profiles_dir)
            table.add_row(name, profile.kind, profile.base_url)
        except ProfileError as exc:
            table.add_row(name, "[red]invalid[/]", str(exc))
    console.print(table)


@demo_app.callback()
def demo(
    ctx: typer.Context,
    workdir: Annotated[Path, typer.Option(help="Working directory (a fresh database each time).")] = Path(
        "demo-run"
    ),
    size: Annotated[int, typer.Option(help="Listings per demo shop.")] = 40,
    seed: Annotated[int, typer.Option(help="Seed of the generated listings.")] = 7,
) -> None:
    """Start the demo shops, crawl them, match, write the daily report, stop the shops."""
    if ctx.invoked_subcommand is not None:
        return
    from demo.run import run_demo

    result = run_demo(workdir, size=size, seed=seed, console=console)
    console.print(f"\n[bold green]done.[/] report: {result.report_html}\nfindings: {result.findings_json}")


@demo_app.command("serve")
def demo_serve(
    size: Annotated[int, typer.Option(help="Listings per demo shop.")] = 40,
    seed: Annotated[int, typer.Option(help="Seed of the generated listings.")] = 7,
    day: Annotated[int, typer.Option(help="Which day of the shops to serve (1 or 2).")] = 1,
) -> None:
    """Serve the three demo shops in the foreground until interrupted."""
    from demo.server import serve_forever

    serve_forever(seed=seed, size=size, day=day)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
