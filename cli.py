"""The ``tisiwatch`` command: a thin layer that parses options, calls a stage function and prints."""

from __future__ import annotations

import logging
import os
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup
from typer.exceptions import TyperException

from config import ConfigError, Settings, load_settings
from core.runstats import COVERAGE_FIELDS, RunStats
from store.clock import as_utc
from store.db import Store
from store.status import DatabaseNotReady, database_problem, location_problem, safe_url

if TYPE_CHECKING:
    from scheduler.steps import Step, StepContext, StepResult

os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
T = TypeVar("T")


class Commands(TyperGroup):
    """The command tree. An expected mistake — a database that is not there or not reachable, a file
    that cannot be read or written — ends in one line on standard error and exit code 1, never in a
    traceback (``--verbose`` shows the traceback too). A bug still shows its traceback. Help shows no
    type placeholder for a flag (Typer would write ``--recheck <bool>``): a flag takes no value."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_placeholders(super().get_params(ctx))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None and not isinstance(command, TyperGroup):
            _flags_without_placeholders(command.get_params(ctx))
        return command

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except Exception as exc:
            message = expected_error(exc)
            if message is None:
                raise
            if state.verbose:
                errors.print_exception()
            fail(message)


def _flags_without_placeholders(params: list[Any]) -> list[Any]:
    """Flags show no ``<bool>``; an argument shows its name (its metavar), not ``<path>`` beside it."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif param.param_type_name == "argument" and param.metavar:
            setattr(param, "display_type_rich", lambda ctx: None)  # noqa: B010  (this parameter only)
    return params


def expected_error(exc: Exception) -> str | None:
    """The one line that says what went wrong, for an error a user can meet and fix; None for a bug."""
    from sqlalchemy.exc import OperationalError

    from scheduler.steps import StepError

    if isinstance(exc, DatabaseNotReady | StepError):
        return str(exc)
    if isinstance(exc, OperationalError):  # the server went away, the disk is full, the file is locked
        cause = str(exc.orig or exc).strip().splitlines()
        return f"database error: {cause[0] if cause else type(exc).__name__} (try again; -v shows more)"
    if isinstance(exc, OSError) and exc.strerror:
        where = f" {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}:{where}" if where else exc.strerror
    return None


app = typer.Typer(
    cls=Commands,
    help="tisiwatch — find goods sold online in Thailand without the TISI licence the law requires.",
    no_args_is_help=True,
    add_completion=False,
)
register_app = typer.Typer(
    cls=Commands,
    help="Import and inspect the register (standards, licences, unsafe list).",
    no_args_is_help=True,
)
report_app = typer.Typer(cls=Commands, help="Write reports for enforcement officers.", no_args_is_help=True)
export_app = typer.Typer(
    cls=Commands, help="Export findings for analysts and case files for ETDA.", no_args_is_help=True
)
schedule_app = typer.Typer(
    cls=Commands, help="Run the daily pipeline on a timetable (APScheduler).", no_args_is_help=True
)
demo_app = typer.Typer(
    cls=Commands,
    help="Run tisiwatch end to end against local demo marketplaces.",
    invoke_without_command=True,
)
keys_app = typer.Typer(
    cls=Commands,
    help="Keys of ETDA case files: this installation's public key, and the keys verify trusts.",
    no_args_is_help=True,
)
app.add_typer(register_app, name="register")
app.add_typer(report_app, name="report")
app.add_typer(export_app, name="export")
app.add_typer(schedule_app, name="schedule")
app.add_typer(demo_app, name="demo")
users_app = typer.Typer(
    cls=Commands, help="People who sign in to the workspace (tisiwatch serve).", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
tokens_app = typer.Typer(
    cls=Commands, help="Platforms' tokens for the check API (POST /api/v1/check).", no_args_is_help=True
)
app.add_typer(tokens_app, name="tokens")

console = Console()
errors = Console(stderr=True)


class State:
    """Options of the whole command, turned into settings once."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the options of an earlier invocation (tests invoke many in one process)."""
        self.config: Path | None = None
        self.overrides: dict[str, Any] = {}
        self.verbose = False
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config, self.overrides)
            except ConfigError as exc:
                fail(f"configuration: {exc}")
        return self._settings

    def store(self, *, ready: bool = True) -> Store:
        """The database of the settings; unless ``ready`` is False (``init``), one that ``init`` made
        and that is at this tisiwatch's schema — otherwise the command stops with one line saying why."""
        settings = self.settings
        url = settings.database_url
        problem = database_problem(url) if ready else location_problem(url)
        if problem is not None:
            fail(problem)
        return Store.from_settings(settings)


state = State()


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` (plain text: nothing in it is markup) as one error line and exit."""
    errors.print(Text.assemble(("error: ", "bold red"), message), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def step_context() -> StepContext:
    """Where a command runs a stage's step: the settings and the database of the command's options."""
    from scheduler.steps import StepContext

    return StepContext(state.settings, state.store())


def run_step(step: Step[T], context: StepContext | None = None) -> StepResult[T]:
    """Run a stage's step as the scheduler and the demo do (``scheduler.steps``). A failure the stage
    expects, with nothing to show, ends the command in one line; any other error goes through to
    :class:`Commands` (one line for what a user can fix, a traceback for a bug)."""
    result = step.run(context or step_context())
    result.get()  # nothing to show: the StepError's one line (expected_error)
    return result


@app.callback()
def main_options(
    # readable=False: a file or folder that cannot be read is said in one line by the command itself
    config: Annotated[
        Path | None,
        typer.Option(metavar="FILE", readable=False, help="Settings file (default: ./settings.toml)."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(metavar="DIR", readable=False, help="Working data directory.")
    ] = None,
    database_url: Annotated[str | None, typer.Option(metavar="URL", help="SQLAlchemy database URL.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    """Global options; they override settings.toml and TISIWATCH_* variables."""
    state.reset()  # each invocation starts afresh
    state.config = config
    if data_dir is not None:
        state.overrides["data_dir"] = str(data_dir)
    if database_url is not None:
        state.overrides.setdefault("database", {})["url"] = database_url
    if verbose:
        state.overrides["log_level"] = "DEBUG"
        state.verbose = True
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@app.command()
def init() -> None:
    """Create or upgrade the database and load the default register of compulsory standards."""
    from matchers.register import ensure_default_register

    store = state.store(ready=False)
    store.migrate()
    version = ensure_default_register(store)
    console.print(f"database ready: {safe_url(store.url)}", markup=False, highlight=False, soft_wrap=True)
    if version is not None:
        console.print(f"default register loaded: version {version.id}, {version.row_count} standards")


@app.command()
def info() -> None:
    """Show which settings file, data directory and database are in use, and what the register holds."""
    from sqlalchemy import func, select

    from config import settings_file
    from reports.register import register_status
    from store.models import Listing, Site

    settings = state.settings
    source = settings_file(state.config)
    problem = database_problem(settings.database_url)
    redis = settings.crawl.redis_url
    facts = [
        ("settings file", str(source) if source else "none: built-in defaults (no settings.toml here)"),
        ("data directory", str(settings.data_dir)),
        ("database", f"{safe_url(settings.database_url)} — {problem or 'ready'}"),
        ("crawl frontier", f"Redis {safe_url(redis)}" if redis else "in each crawl process (no Redis)"),
        ("sites enabled", ", ".join(settings.sites.enabled) or "none"),
    ]
    register = None
    if problem is None:
        store = state.store(ready=False)  # its readiness was asked just above
        with store.session() as session:
            register = register_status(session, stale_days=settings.report.register_stale_days)
            sites = session.scalar(select(func.count()).select_from(Site)) or 0
            rows = session.execute(
                select(Listing.gone_at.is_(None), func.count()).group_by(Listing.gone_at.is_(None))
            )
            listings = {live: count for live, count in rows}
        store.dispose()
        live, gone = listings.get(True, 0), listings.get(False, 0)
        facts.append(
            ("listings", f"{live + gone:,} on {sites:,} site{'s' if sites != 1 else ''} ({gone:,} gone)")
        )
    for key, value in facts:  # whole lines, never wrapped: paths and URLs stay copyable
        console.print(plain(f"{key:<15} {value}", 2000), soft_wrap=True)
    if register is not None:
        console.print(register_table(register, ZoneInfo(settings.report.timezone)))


@register_app.command("import")
def register_import(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="CSV or XLSX file of standards, licences or the unsafe list."),
    ],
    kind: Annotated[
        str | None,
        typer.Option(metavar="KIND", help="standards | licences | unsafe (default: from the headers)."),
    ] = None,
) -> None:
    """Import a register file as a new register version (all or nothing)."""
    from core.text import escaped as shown
    from matchers.register import RegisterError, import_register
    from matchers.registercolumn import KINDS

    if kind is not None and kind not in KINDS:
        fail(f"--kind: {shown(repr(kind))} is not one of {', '.join(KINDS)}")
    if file.is_dir():
        fail(f"{shown(str(file))} is a directory, not a register file")
    if not file.exists():
        fail(f"{shown(str(file))}: no such file")
    store = state.store()
    name = shown(file.name)
    try:
        version = import_register(store, file, kind=kind)
    except RegisterError as exc:
        fail(f"{name} rejected, nothing imported:\n{exc}")
    console.print(
        f"imported {version.row_count} {version.kind} rows from {name}: register version {version.id}",
        markup=False,
        highlight=False,
    )


@register_app.command("show")
def register_show() -> None:
    """Show the register in force — each kind's version, file, rows and age — and the last imports."""
    from matchers.register import summary
    from reports.register import register_status

    settings = state.settings
    zone = ZoneInfo(settings.report.timezone)
    with state.store().session() as session:
        statuses = register_status(session, stale_days=settings.report.register_stale_days)
        info = summary(session)
    console.print(register_table(statuses, zone))
    imports = listing_table("version", "kind", "file", "rows", "imported", "SHA-256",
                            title=f"imports, newest first; times in {zone.key}")  # fmt: skip
    for item in info["imports"]:
        imports.add_row(str(item["version"]), KIND_NAMES[item["kind"]], plain(item["source_name"]),
                        f"{item['rows']:,}", local_time(item["imported_at"], zone), item["source_sha256"][:12])  # fmt: skip
    console.print(imports)


KIND_NAMES = {"standards": "standards", "licences": "licences", "unsafe": "unsafe list"}


def register_table(statuses: list[Any], zone: ZoneInfo) -> Table:
    """The register in force, a row per kind (``reports.register.register_status``), with what an
    officer must be told: never imported, empty, or older than ``report.register_stale_days``."""
    version = statuses[0].in_force if statuses else None
    title = f"register in force: version {version}" if version is not None else "no register imported yet"
    table = listing_table("kind", "rows", "version", "file", "imported", "age",
                          title=f"{title}; times in {zone.key}")  # fmt: skip
    for status in statuses:
        if status.version is None:
            missing = Text(
                f"not imported: tisiwatch register import FILE --kind {status.kind}", style="bold red"
            )
            table.add_row(KIND_NAMES[status.kind], "—", "—", missing, "", "")
            continue
        age = f"{status.age_days} day{'s' if status.age_days != 1 else ''}"
        shown_age = Text(f"{age}, stale", style="bold yellow") if status.problem == "stale" else Text(age)
        rows = Text("0, empty", style="bold red") if status.problem == "empty" else Text(f"{status.rows:,}")
        table.add_row(KIND_NAMES[status.kind], rows, str(status.version), plain(status.source_name),
                      local_time(status.imported_at, zone), shown_age)  # fmt: skip
    return table


def listing_table(*headers: str, title: str) -> Table:
    """A table of rows as the listing commands print them: light rules, narrow enough for 80 columns."""
    return Table(*headers, title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                 pad_edge=False, padding=(0, 1, 0, 0), header_style="bold")  # fmt: skip


def local_time(moment: datetime | None, zone: ZoneInfo, seconds: bool = False) -> str:
    """A stored time in the report's time zone (the zone is named in the column's header)."""
    if moment is None:
        return "—"
    return f"{as_utc(moment).astimezone(zone):%Y-%m-%d %H:%M{':%S' if seconds else ''}}"


def plain(text: str | None, limit: int = 120) -> Text:
    """Text from a file or a marketplace as a table cell: no markup, control characters escaped, cut."""
    from core.text import escaped

    shown = escaped(text or "")
    return Text(shown if len(shown) <= limit else shown[: limit - 1] + "…")


@app.command()
def crawl(
    sites: Annotated[list[str], typer.Argument(metavar="SITE", help="Site profile names, e.g. demo-html.")],
    query: Annotated[
        list[str] | None,
        typer.Option(
            "--query", "-q", metavar="WORDS", help="Search words (default: the register's keywords)."
        ),
    ] = None,
    url: Annotated[
        list[str] | None, typer.Option("--url", metavar="URL", help="Crawl these listing URLs only.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(metavar="N", help="Stop after this many listings per site.")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(metavar="URL", help="Point the (single) profile at another address.")
    ] = None,
    recheck: Annotated[bool, typer.Option(help="Revisit the known listing URLs of the site.")] = False,
    no_evidence: Annotated[
        bool, typer.Option("--no-evidence", help="Do not keep WARC records or screenshots.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="N",
            help="Crawl processes per site (default crawl.workers); more than one needs Redis.",
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
    from scheduler.crawlstep import CrawlStep

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
    context = step_context()
    with CrawlProgress(console) as progress:
        step = CrawlStep(profiles, queries=query, urls=url or (), max_items=limit, recheck=recheck,
                         workers=workers, resume=resume, on_progress=progress.update)  # fmt: skip
        crawled = run_step(step, context)
    results = crawled.value or []
    for result in results:
        stats = RunStats.from_json(result.stats)
        failed = stats.failed_urls or 0
        console.print(
            f"{result.site}: run {result.run_id}{' (resumed)' if result.resumed else ''} {result.status} — "
            f"{stats.items or 0} listings, {stats.pages or 0} pages, {failed} failed URLs",
            markup=False,
            highlight=False,
        )
        if result.status in ("failed", "blocked") and stats.reason:
            console.print(f"  {stats.reason}", markup=False, highlight=False, soft_wrap=True)
        elif failed:
            asked = max(stats.requests or 0, failed)
            console.print(
                f"  {failed} of {asked} URLs failed — see `tisiwatch runs --run {result.run_id}`",
                markup=False,
                highlight=False,
            )
    if not crawled.ok:
        raise typer.Exit(1)


@app.command()
def runs(
    limit: Annotated[int, typer.Option(metavar="N", help="How many runs to show.")] = 20,
    run: Annotated[
        int | None, typer.Option("--run", metavar="N", help="Show one run in detail, with its failed URLs.")
    ] = None,
) -> None:
    """Show recent crawl runs (--run N: one run's health — pages, errors, coverage — and failed URLs)."""
    from sqlalchemy import select

    from crawler.budget import summary as budget_summary
    from store.models import CrawlRun

    zone = ZoneInfo(state.settings.report.timezone)
    with state.store().session() as session:
        if run is not None:
            crawl_run = session.get(CrawlRun, run)
            if crawl_run is None:
                fail(f"no crawl run {run}")
            show_run(session, crawl_run, zone)
            return
        title = f"crawl runs, newest first; times in {zone.key} (--run N: one run in detail)"
        table = listing_table("run", "site", "mode", "started", "status", "listings", "failed", title=title)
        plans = []
        for crawl_run in session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)):
            stats = RunStats.from_json(crawl_run.stats)
            table.add_row(str(crawl_run.id), plain(crawl_run.site.name, 24), crawl_run.mode,
                          local_time(crawl_run.started_at, zone), crawl_run.status,
                          f"{stats.items or 0:,}", f"{stats.failed_urls or 0:,}")  # fmt: skip
            if said := budget_summary((crawl_run.stats or {}).get("budget") or {}):
                plans.append(f"run {crawl_run.id}: {said}")
        console.print(table)
        for line in plans:  # what each planned run did of its daily budget, and left for the next
            console.print(plain(line, 400), soft_wrap=True)


def show_run(session: Any, crawl_run: Any, zone: ZoneInfo) -> None:
    """One crawl run in detail: when, how it ended, its health figures and its failed URLs."""
    from sqlalchemy import func, select

    from crawler.budget import summary as budget_summary
    from crawler.outcome import run_notes
    from store.models import CrawlFailure

    stored = crawl_run.stats or {}
    stats = RunStats.from_json(stored)
    took = ""
    if crawl_run.finished_at is not None:
        took = (
            f", took {(as_utc(crawl_run.finished_at) - as_utc(crawl_run.started_at)).total_seconds():.0f} s"
        )
    coverage = stats.coverage
    lines = [
        f"run {crawl_run.id} · {crawl_run.site.name} · {crawl_run.mode} · {crawl_run.status}",
        f"started   {local_time(crawl_run.started_at, zone, True)} ({zone.key})",
        f"ended     {local_time(crawl_run.finished_at, zone, True)}{took}",
        f"pages {stats.pages or 0:,} · listings {stats.items or 0:,} · gone {stats.gone or 0:,}"
        f" · failed URLs {stats.failed_urls or 0:,} · retries {stored.get('retries', 0):,}",
        "errors    "
        + (", ".join(f"{name} {count:,}" for name, count in sorted(stats.errors.items())) or "none"),
        "coverage  "
        + " · ".join(f"{name.replace('_', ' ')} {coverage[name] or 0:.0%}" for name in COVERAGE_FIELDS),
    ]
    if said := budget_summary(stored.get("budget") or {}):
        lines.append(f"plan      {said}")
    for line in lines:
        console.print(plain(line, 400), soft_wrap=True)
    for note in run_notes(stored, state.settings.data_dir):  # why it failed, failures by kind, its logs
        console.print(plain(note, 2000), soft_wrap=True)
    total = session.scalar(
        select(func.count()).select_from(CrawlFailure).where(CrawlFailure.run_id == crawl_run.id)
    )
    if not total:
        return
    title = f"failed URLs: {total:,}" + (" (the first 500)" if total > 500 else "")
    failures = listing_table("URL", "HTTP", "reason", title=title)
    query = (
        select(CrawlFailure).where(CrawlFailure.run_id == crawl_run.id).order_by(CrawlFailure.id).limit(500)
    )
    for failure in session.scalars(query):
        failures.add_row(plain(failure.url, 300), str(failure.http_status or ""), plain(failure.reason, 300))
    console.print(failures)


@app.command()
def match(
    allow_missing_registers: Annotated[
        bool,
        typer.Option(
            "--allow-missing-registers",
            help="Judge although no licence register or unsafe list was imported (licences shown go to "
            "officer review; each verdict says what it was made without).",
        ),
    ] = False,
) -> None:
    """Judge every listing not yet judged under the current register (and re-judge after an import)."""
    from matchers.match import missing_message
    from scheduler.steps import MatchStep

    matched = run_step(MatchStep(allow_missing_registers=allow_missing_registers or None))
    summary = matched.get()
    if summary.missing:
        errors.print(
            f"warning: {missing_message(summary.missing)}", markup=False, highlight=False, soft_wrap=True
        )
    console.print(matched.summary)
    for verdict, count in sorted(summary.by_verdict.items()):
        console.print(f"  {verdict}: {count}")


@report_app.command("daily")
def report_daily(
    out: Annotated[
        Path,
        typer.Option(
            metavar="DIR",
            help="Directory for report.html, report.xlsx, findings.csv/json, e.g. ~/tisiwatch-reports/today (made if missing).",
        ),
    ],
    day: Annotated[
        str | None,
        typer.Option("--date", metavar="YYYY-MM-DD", help="Asia/Bangkok day, YYYY-MM-DD (default: today)."),
    ] = None,
) -> None:
    """Write the daily violation report for one Asia/Bangkok day."""
    from scheduler.reportstep import ReportStep

    reported = run_step(ReportStep(out, _parse_day(day)))
    report = reported.get()
    console.print(reported.summary, markup=False, highlight=False, soft_wrap=True)
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
    out: Annotated[Path, typer.Option(metavar="FILE", help="Output file.")],
    fmt: Annotated[
        str, typer.Option("--format", metavar="jsonl|csv|parquet", help="jsonl | csv | parquet")
    ] = "jsonl",
    all_: Annotated[bool, typer.Option("--all", help="Every listing, not only violations.")] = False,
    site: Annotated[str | None, typer.Option(metavar="SITE", help="Only this site.")] = None,
    standard: Annotated[
        str | None,
        typer.Option(metavar="TIS", help="Only this TIS number, as written (2879-2560) or its base (2879)."),
    ] = None,
    verdict: Annotated[
        list[str] | None, typer.Option(metavar="VERDICT", help="Only this verdict (repeat for several).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD", help="Only listings seen since this Asia/Bangkok day (YYYY-MM-DD)."
        ),
    ] = None,
) -> None:
    """Export findings (the latest observation of each listing with its verdict)."""
    from core.verdicts import VERDICTS
    from reports.export import FORMATS
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
    out: Annotated[Path, typer.Option(metavar="FILE", help="The case file to write (cases.zip).")],
    since: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", help="Only cases seen since this Asia/Bangkok day (YYYY-MM-DD)."),
    ] = None,
    all_violations: Annotated[
        bool,
        typer.Option(
            "--all-violations",
            help="Every violating listing, decided by an officer or not (nothing is recorded as sent). "
            "Default: only confirmed cases (QC-passed with [review] qc = true), recorded as sent to ETDA.",
        ),
    ] = False,
) -> None:
    """Export the signed ETDA case file of the confirmed cases (and record them as sent)."""
    from reports.trust import own_key_path
    from scheduler.steps import CasesStep

    try:
        day = None if since is None else date.fromisoformat(since)
    except ValueError:
        fail(f"--since: {since!r} is not a date like 2026-11-25")
    exported = run_step(CasesStep(out, since=day, all_violations=all_violations))
    summary = exported.get()
    for problem in summary.problems[:20]:
        errors.print(f"warning: {problem}", markup=False, highlight=False, soft_wrap=True)
    if len(summary.problems) > 20:
        errors.print(f"warning: … and {len(summary.problems) - 20} more, all listed in manifest.json")
    console.print(exported.summary, markup=False, highlight=False, soft_wrap=True)
    console.print(f"signing key fingerprint (SHA-256): {summary.key_fingerprint}", highlight=False)
    console.print(
        f"public key to hand to ETDA: {own_key_path(state.settings)} (see tisiwatch keys show)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def takedowns() -> None:
    """Update the cases sent to ETDA (taken down, or still online after [review] takedown_days) and
    show the time to takedown per site."""
    from reports.takedowns import site_takedowns
    from scheduler.steps import TakedownsStep

    updated = run_step(TakedownsStep())
    console.print(updated.summary, markup=False, highlight=False, soft_wrap=True)
    with state.store().sessions() as session:
        sites = site_takedowns(session)
    for site in sites:
        median = "—" if site.median_days is None else f"{site.median_days:.1f} days"
        share = "—" if site.within_share is None else f"{site.within_share:.0%}"
        console.print(
            f"{site.site}: sent {site.sent}, taken down {site.taken_down}, still online "
            f"{site.still_online}; median {median}; within 2 working days {share}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


TRUSTED_KEYS_HELP = (
    "Trusted-keys file (default: verify.trusted_keys, keys/trusted-keys.pem in the data directory)."
)


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A cases-*.zip file.")],
    key: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="The sender's public key (PEM) that the file must be signed with; only this key.",
        ),
    ] = None,
    trusted_keys: Annotated[Path | None, typer.Option(metavar="FILE", help=TRUSTED_KEYS_HELP)] = None,
) -> None:
    """Verify an ETDA case file: every hash, the signature, and that a trusted key signed it.

    The signer must be a trusted key (tisiwatch keys list) or, with --key, that one key.

    Exit status:
    0 OK: every hash and the signature hold, and a trusted key signed it;
    1 FAILED: a file, the signature or the signer does not hold (one line each);
    2 the check could not start: the --key or trusted-keys file cannot be read;
    3 SIGNER NOT CHECKED: every hash and the signature hold, but no key is trusted to check who signed it.
    """

    from core.text import escaped
    from reports.trust import TrustedKey, TrustError, key_file
    from reports.trust import trusted_keys as keys_trusted
    from reports.verify import summary, verify_casefile

    try:
        if key is not None:
            trusted = [TrustedKey(f"the key in {escaped(key.name, 64)}", key_file(key))]
        else:
            trusted = keys_trusted(state.settings, trusted_keys)
    except TrustError as exc:
        fail(f"{'--key' if key is not None else 'trusted keys'}: {exc}", code=2)
    result = verify_casefile(file, trusted=trusted)
    for line in summary(result):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(result.exit_code)


@keys_app.command("show")
def keys_show(
    create: Annotated[
        bool, typer.Option("--create", help="Create the key pair first if there is none, as an export would.")
    ] = False,
) -> None:
    """This installation's case-file public key and its fingerprint, to hand to ETDA."""

    from reports.signing import SigningKeyError, public_pem, signing_key
    from reports.trust import TrustError, own_key, own_key_path

    try:
        if create:
            signing_key(state.settings.data_dir)
        mine = own_key(state.settings)
    except (SigningKeyError, TrustError) as exc:
        fail(str(exc))
    if mine is None:
        fail(
            "this installation has no case-file key yet; tisiwatch export cases or keys show --create makes it"
        )
    console.print(
        f"this installation's case-file public key: {own_key_path(state.settings)}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"fingerprint (SHA-256): {mine.fingerprint}", highlight=False, soft_wrap=True)
    console.print(
        "Hand ETDA this file, and tell them the fingerprint by another channel (telephone, letter); "
        "they trust it once with: tisiwatch keys trust FILE --name TISI",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        public_pem(mine.key).decode("ascii").rstrip(), markup=False, highlight=False, soft_wrap=True
    )


@keys_app.command("list")
def keys_list(
    trusted_keys: Annotated[Path | None, typer.Option(metavar="FILE", help=TRUSTED_KEYS_HELP)] = None,
) -> None:
    """The keys verify trusts to sign case files: the trusted-keys file's and this installation's."""
    from rich.text import Text

    from reports.trust import TrustError, trusted_keys_path
    from reports.trust import trusted_keys as keys_trusted

    path = trusted_keys_path(state.settings, trusted_keys)
    try:
        keys = keys_trusted(state.settings, trusted_keys)
    except TrustError as exc:
        fail(f"trusted keys: {exc}", code=2)
    console.print(f"trusted-keys file: {path}", markup=False, highlight=False, soft_wrap=True)
    if not keys:
        console.print(
            "no trusted keys: verify cannot check who signed a case file (exit code 3); "
            "trust the sender's public key with: tisiwatch keys trust FILE --name NAME",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    table = Table("name", "fingerprint (SHA-256)")
    for known in keys:
        table.add_row(Text(known.name), known.fingerprint)
    console.print(table)


@keys_app.command("trust")
def keys_trust(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="The sender's Ed25519 public key (PEM), received from them."),
    ],
    name: Annotated[str, typer.Option(metavar="NAME", help="Whose key it is, as verify will say it: TISI.")],
    fingerprint: Annotated[
        str | None,
        typer.Option(
            metavar="HEX", help="The fingerprint the sender gave you; the key is trusted only if it is this."
        ),
    ] = None,
    trusted_keys: Annotated[Path | None, typer.Option(metavar="FILE", help=TRUSTED_KEYS_HELP)] = None,
) -> None:
    """Trust a sender's public key: case files it signs then verify as signed by NAME."""

    from reports.trust import TrustError, key_file, trust, trusted_keys_path

    path = trusted_keys_path(state.settings, trusted_keys)
    try:
        known, added = trust(path, key_file(file), name, expected_fingerprint=fingerprint)
    except TrustError as exc:
        fail(str(exc))
    if not added:
        console.print(
            f"already trusted as {known.name}: fingerprint {known.fingerprint}", markup=False, highlight=False
        )
        return
    console.print(
        f"trusted {known.name}: fingerprint {known.fingerprint}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"written to {path}", markup=False, highlight=False, soft_wrap=True)
    if fingerprint is None:
        console.print(
            "Compare this fingerprint with the one the sender gave you by another channel; if it differs, "
            f"delete its block from {path.name}.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@schedule_app.command("run")
def schedule_run(
    now: Annotated[
        list[str] | None,
        typer.Option(
            "--now",
            metavar="JOB",
            help="Also run this job right away (daily, recheck, register); repeatable.",
        ),
    ] = None,
) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C (under systemd: docs/operations.md)."""
    from scheduler import JOBS, SchedulerFailed, run_forever
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

    def started() -> None:
        console.print(f"scheduler started ({settings.schedule.timezone}); stop it with Ctrl-C or SIGTERM")

    try:
        run_forever(settings, store, now or (), started=started)
    except (LockHeld, SchedulerFailed) as error:
        fail(f"{error}: one scheduler runs per database" if isinstance(error, LockHeld) else str(error))
    console.print("scheduler stopped")


@schedule_app.command("list")
def schedule_list() -> None:
    """List the scheduled jobs, their timetable, next run and latest run."""
    from zoneinfo import ZoneInfo

    from scheduler import timetable

    settings = state.settings
    store = state.store()
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
    job: Annotated[str, typer.Argument(metavar="JOB", help="Job id: daily, recheck or register.")],
) -> None:
    """Run one job now, in this process, recorded like a scheduled run (exit 1 if a step failed)."""
    from rich.markup import escape

    from scheduler import JOBS, Pipeline, recover
    from store import journal

    if job not in JOBS:
        fail(f"no job {job!r}; the jobs are {', '.join(JOBS)}", code=2)
    settings = state.settings
    store = state.store()
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
    limit: Annotated[int, typer.Option(metavar="N", help="How many runs to show.")] = 20,
    job: Annotated[str | None, typer.Option(metavar="JOB", help="Only this job.")] = None,
    run: Annotated[
        int | None, typer.Option("--run", metavar="N", help="Show one run's steps in detail.")
    ] = None,
) -> None:
    """Show recent pipeline runs and the outcome of each step."""
    import json
    from zoneinfo import ZoneInfo

    from rich.markup import escape

    from store import journal
    from store.models import PipelineRun

    zone = ZoneInfo(state.settings.schedule.timezone)
    store = state.store()

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
    from crawler.profile import STARTERS, ProfileError, available_profiles, load_profile

    table = Table("name", "kind", "base URL", "note")
    enabled = set(state.settings.sites.enabled)
    for name in available_profiles(state.settings.crawl.profiles_dir):
        note = ", ".join(
            [
                *(["starter, not verified"] if name in STARTERS else []),
                *(["enabled"] if name in enabled else []),
            ]
        )
        try:
            profile = load_profile(name, state.settings.crawl.profiles_dir)
            table.add_row(name, profile.kind, profile.base_url, note)
        except ProfileError as exc:
            table.add_row(name, "[red]invalid[/]", str(exc), note)
    console.print(table)


@app.command()
def login(
    site: Annotated[
        str, typer.Argument(metavar="SITE", help="A browser profile with [session] browser_profile.")
    ],
) -> None:
    """Sign in to a marketplace once, by hand, in a Chromium window on the profile's browser directory;
    close the window when done. Later crawls of the site use that session."""
    from crawler.login import sign_in
    from crawler.profile import ProfileError, load_profile
    from crawler.session import SessionError

    try:
        profile = load_profile(site, state.settings.crawl.profiles_dir)
        console.print(f"opening {profile.base_url}: sign in, then close the browser window", markup=False)
        kept = sign_in(profile, state.settings.data_dir)
    except (ProfileError, SessionError) as exc:
        fail(str(exc))
    console.print(f"the session is kept in {kept} (a secret: do not share it)", markup=False, highlight=False)


def _new_password(password_stdin: bool) -> str:
    """A new password: the first line of standard input, or typed twice at a hidden prompt."""
    import sys

    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return password


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
]


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(metavar="USERNAME", help="Lower-case sign-in name.")],
    role: Annotated[
        str, typer.Option(metavar="ROLE", help="officer, supervisor, viewer or admin.")
    ] = "officer",
    name: Annotated[str, typer.Option(metavar="TEXT", help="The person's name as shown.")] = "",
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a person who signs in to the workspace, with a role and a password (Argon2-hashed)."""
    from store.people import PeopleError, add_user

    password = _new_password(password_stdin)
    try:
        with state.store().session() as session:
            add_user(session, username, role, password, display_name=name)
    except PeopleError as exc:
        fail(str(exc))
    console.print(f"added {username} ({role})", markup=False, highlight=False)


@users_app.command("list")
def users_list() -> None:
    """List the people who sign in to the workspace."""
    from store.people import list_users

    zone = ZoneInfo(state.settings.report.timezone)
    table = listing_table("username", "name", "role", "state", "created", title="people")
    with state.store().session() as session:
        for user in list_users(session):
            locked = user.locked_until is not None and as_utc(user.locked_until) > datetime.now(zone)
            status = "disabled" if user.disabled else "locked" if locked else "active"
            table.add_row(user.username, plain(user.display_name), user.role, status,
                          local_time(user.created_at, zone))  # fmt: skip
    console.print(table)


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(metavar="USERNAME", help="Who.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable the person again instead.")] = False,
) -> None:
    """Disable a person (their sessions end at once), or enable them again."""
    from store.people import PeopleError, set_disabled

    try:
        with state.store().session() as session:
            set_disabled(session, username, disabled=not enable)
    except PeopleError as exc:
        fail(str(exc))
    console.print(f"{username} is {'enabled' if enable else 'disabled'}", markup=False, highlight=False)


@users_app.command("password")
def users_password(
    username: Annotated[str, typer.Argument(metavar="USERNAME", help="Whose password.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a person's password; their sessions end and a lock-out is lifted."""
    from store.people import PeopleError, set_password

    password = _new_password(password_stdin)
    try:
        with state.store().session() as session:
            set_password(session, username, password)
    except PeopleError as exc:
        fail(str(exc))
    console.print(f"the password of {username} is set", markup=False, highlight=False)


@tokens_app.command("add")
def tokens_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Whose token: the platform, lower case.")],
    may_store: Annotated[
        bool,
        typer.Option(
            "--may-store",
            help="Requests with this token may ask to store their listings (under the site api-NAME).",
        ),
    ] = False,
) -> None:
    """Make a check-API token for a platform and print it, once: only its SHA-256 is kept."""
    from store.tokens import TokenError, add_token

    try:
        with state.store().session() as session:
            secret = add_token(session, name, may_store=may_store)
    except TokenError as exc:
        fail(str(exc))
    console.print(f"token {name}:", markup=False, highlight=False)
    print(secret)
    errors.print(
        "this token is shown only now: give it to the platform over a safe channel; "
        "it cannot be shown again (revoke it and add another if it is lost)",
        markup=False, highlight=False,
    )  # fmt: skip


@tokens_app.command("list")
def tokens_list() -> None:
    """List the check-API tokens: name, first characters, when made and last used, revoked (never the token)."""
    from store.tokens import list_tokens

    zone = ZoneInfo(state.settings.report.timezone)
    table = listing_table("name", "prefix", "may store", f"created ({zone.key})", "last used", "revoked",
                          title="check-API tokens")  # fmt: skip
    with state.store().session() as session:
        for token in list_tokens(session):
            table.add_row(token.name, token.prefix + "…", "yes" if token.may_store else "no",
                          local_time(token.created_at, zone), local_time(token.last_used_at, zone),
                          local_time(token.revoked_at, zone))  # fmt: skip
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(name: Annotated[str, typer.Argument(metavar="NAME", help="The token's name.")]) -> None:
    """Revoke a check-API token: requests with it are refused from now on."""
    from store.tokens import TokenError, revoke_token

    try:
        with state.store().session() as session:
            revoke_token(session, name)
    except TokenError as exc:
        fail(str(exc))
    console.print(f"token {name} is revoked", markup=False, highlight=False)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(metavar="HOST", help="Listen here (default: web.host).")] = None,
    port: Annotated[int | None, typer.Option(metavar="PORT", help="Port (default: web.port).")] = None,
) -> None:
    """Serve the officers' workspace and the check API (uvicorn, one process) until interrupted; put
    it behind a TLS reverse proxy (docs/operations.md)."""
    import uvicorn

    from web.app import create_app

    settings = state.settings
    application = create_app(settings, state.store())
    where = f"{host or settings.web.host}:{port or settings.web.port}"
    console.print(f"serving the workspace at http://{where} (Ctrl+C stops)", markup=False, highlight=False)
    uvicorn.run(
        application,
        host=host or settings.web.host,
        port=port or settings.web.port,
        proxy_headers=True,
        forwarded_allow_ips=",".join(settings.web.trusted_proxies),
        server_header=False,
        log_level="warning" if not state.verbose else "info",
    )


@demo_app.callback()
def demo(
    ctx: typer.Context,
    workdir: Annotated[
        Path, typer.Option(metavar="DIR", help="Working directory (a fresh database each time).")
    ] = Path("demo-run"),
    size: Annotated[int, typer.Option(metavar="N", help="Listings per demo shop.")] = 40,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the generated listings.")] = 7,
) -> None:
    """Start the demo shops, crawl them, match, write the daily report, stop the shops."""
    if ctx.invoked_subcommand is not None:
        return
    from demo.run import run_demo

    result = run_demo(workdir, size=size, seed=seed, console=console, settings=state.settings)
    console.print(f"\n[bold green]done.[/] report: {result.report_html}\nfindings: {result.findings_json}")
    console.print(
        f"the demo's data is in {result.workdir}: every tisiwatch command run there uses it "
        "(try `tisiwatch info`; the README's tour goes on from there)",
        markup=False,
        highlight=False,
    )
    console.print(
        "to review the findings in the officers' workspace, there: `tisiwatch users add NAME --role "
        "supervisor`, then `tisiwatch serve`",
        markup=False,
        highlight=False,
    )


@demo_app.command("serve")
def demo_serve(
    size: Annotated[int, typer.Option(metavar="N", help="Listings per demo shop.")] = 40,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the generated listings.")] = 7,
    day: Annotated[
        int, typer.Option(metavar="YYYY-MM-DD", help="Which day of the shops to serve (1 or 2).")
    ] = 1,
    any_port: Annotated[
        bool,
        typer.Option("--any-port", help="Serve on free ports, not at the addresses of the demo profiles."),
    ] = False,
) -> None:
    """Serve the demo shops in the foreground, at the addresses of the demo profiles, until
    interrupted: `tisiwatch crawl demo-html` and the rest then find them."""
    from demo.run import profile_ports
    from demo.server import serve_forever

    ports = None if any_port else profile_ports(state.settings)
    try:
        serve_forever(seed=seed, size=size, day=day, ports=ports)
    except OSError as exc:
        fail(f"cannot serve the demo shops at ports {', '.join(map(str, (ports or {}).values()))} ({exc.strerror}): "
             "is `tisiwatch demo serve` running already? (--any-port serves them elsewhere)")  # fmt: skip


def main() -> None:
    app()


if __name__ == "__main__":
    main()
