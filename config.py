"""tisiwatch configuration: ``settings.toml`` loaded once into a typed model.

Precedence, lowest first: the defaults below < the settings file (``--config``, ``TISIWATCH_CONFIG``,
or ``settings.toml`` in the working directory) < ``TISIWATCH_*`` environment variables < CLI flags
(passed as ``overrides``). An unknown key or a bad value stops at start with a :class:`ConfigError`
that names the key.

Environment variables name a top-level key (``TISIWATCH_DATA_DIR``) or ``SECTION_KEY``
(``TISIWATCH_DATABASE_URL``, ``TISIWATCH_CRAWL_REDIS_URL``); list values are comma-separated.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PROJECT_ROOT = Path(__file__).resolve().parent
DEFAULT_SETTINGS_FILE = PROJECT_ROOT / "settings.toml"
"""The repository's settings file: every key with its default, as documentation. It is read only where
it is the working directory's ``settings.toml`` (or named), never as a fallback from elsewhere, and it
is not installed with the package: the defaults it documents are the models below, which are."""
ENV_PREFIX = "TISIWATCH_"


class ConfigError(ValueError):
    """A setting is unknown or has a bad value; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Section):
    url: str = ""
    """SQLAlchemy URL; empty means a SQLite file ``tisiwatch.db`` in the data directory."""
    busy_timeout_ms: int = Field(default=30_000, ge=0)
    echo: bool = False


class CrawlConfig(_Section):
    user_agent: str = "tisiwatch/0.1 (+compliance monitoring for TISI)"
    concurrency: int = Field(default=8, ge=1, le=256)
    concurrency_per_domain: int = Field(default=8, ge=1, le=256)
    delay_s: float = Field(default=0.0, ge=0)
    timeout_s: float = Field(default=30.0, gt=0)
    retries: int = Field(default=3, ge=0, le=20)
    retry_backoff_s: float = Field(default=0.5, ge=0, le=60)
    """First retry waits this long, then twice as long each time (capped at 60 s)."""
    retry_after_max_s: float = Field(default=120.0, ge=0, le=3600)
    """A ``Retry-After`` longer than this is capped to it."""
    block_max_delay_s: float = Field(default=60.0, gt=0, le=3600)
    """The longest delay between two requests to a site slowed down by 429/503 or block signals."""
    block_give_up_s: float = Field(default=600.0, gt=0, le=86400)
    """How long block signals may go on, with the delay at ``block_max_delay_s`` and no good answer
    between them, before the site's crawl stops for the run with status ``blocked``."""
    block_request_rounds: int = Field(default=30, ge=1, le=1000)
    """How many times one request is put back after a block signal before its URL counts as failed."""
    autothrottle: bool = True
    obey_robots: bool = True
    max_items: int = Field(default=0, ge=0)
    """0 means no limit."""
    max_pages: int = Field(default=0, ge=0)
    daily_requests: int = Field(default=0, ge=0)
    """The daily crawl budget: requests per run per site of the scheduler's daily job (0: no budget,
    every keyword is searched). A profile's ``[budget] requests`` overrides it (``crawler.budget``)."""
    evidence: bool = True
    images: bool = True
    """Fetch each listing's product images (up to ``max_images``) through the crawl, under the same
    politeness as its pages, and keep them as WARC evidence; only where ``evidence`` is on."""
    max_images: int = Field(default=3, ge=1, le=20)
    """Product images fetched per listing, in the order the listing shows them."""
    image_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    """A product image larger than this is not fetched (recorded as failed)."""
    redis_url: str = ""
    """A Redis server (``redis://host:6379/0``) through which crawl workers share one frontier."""
    redis_prefix: str = Field(default="tisiwatch", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    """First part of every Redis key (``<prefix>:run:<id>:requests``), so installations can share a server."""
    workers: int = Field(default=1, ge=1, le=64)
    """Crawl processes per run; more than one needs ``redis_url`` (one shared frontier)."""
    worker_idle_timeout_s: float = Field(default=120.0, gt=0, le=3600)
    """How long an idle worker waits for work while other workers are still busy, before it stops."""
    profiles_dir: str = ""
    """Extra directory of site profiles (TOML), searched before the shipped ones."""


class SitesConfig(_Section):
    enabled: list[str] = Field(
        default_factory=lambda: ["demo-html", "demo-api", "demo-browser", "demo-token", "demo-state"]
    )


class MatchConfig(_Section):
    min_category_score: float = Field(default=0.6, ge=0, le=1)
    review_band: float = Field(default=0.15, ge=0, le=1)
    keyword_weight: float = Field(default=0.8, ge=0, le=1)
    tis_agreement_weight: float = Field(default=0.15, ge=0, le=1)
    """A TIS number shown in the listing agrees with the standard. Kept below first_word_weight:
    sellers show a component's number (cable มอก. 11 on an extension cord)."""
    first_word_weight: float = Field(default=0.25, ge=0, le=1)
    """The standard's keyword is the first product word of the title."""
    exclusion_penalty: float = Field(default=1.0, ge=0, le=1)
    review_penalty: float = Field(default=0.3, ge=0, le=1)
    """Taken off a standard's score by a word at the edge of its scope (into the review band)."""
    description_factor: float = Field(default=0.75, ge=0, le=1)
    """A keyword only in the description or spec table counts this share of keyword_weight."""
    fuzzy_weight: float = Field(default=0.8, ge=0, le=1)
    """Weight of a near spelling of a keyword, times its similarity (0–1)."""
    fuzzy_min_ratio: float = Field(default=88.0, ge=50, le=100)
    fuzzy_min_length: int = Field(default=6, ge=3, le=40)
    """Keywords shorter than this are matched exactly only (``iron`` must not match ``irons``)."""
    brand_min_ratio: float = Field(default=90.0, ge=50, le=100)
    """Similarity a shown brand needs to one of the licensee's brands in the register."""
    allow_missing_registers: bool = False
    """Judge listings although no licence register or no unsafe list was ever imported (licences shown
    then go to officer review, and each verdict says what it was made without); off: match refuses."""
    read_images: bool = False
    """Read product images (OCR, TISI QR code) of controlled listings whose text shows no licence:
    the images the crawl kept as evidence (``crawl.images``), never fetched by the matcher."""
    max_images: int = Field(default=3, ge=1, le=20)
    """Product images read per listing (of those the crawl kept: ``crawl.max_images``)."""


class ReportConfig(_Section):
    timezone: str = "Asia/Bangkok"
    register_stale_days: int = Field(default=30, ge=1, le=3650)
    """A register (standards, licences, unsafe list) imported more than this many days ago is shown as
    stale in the daily report."""


class AlertsConfig(_Section):
    """Crawl-health alerts (``reports.alerts``): thresholds, and where alerts go besides the log."""

    coverage_drop_share: float = Field(default=0.2, gt=0, le=1)
    """Alert when a field's coverage falls below its 7-day median by more than this share of it."""
    error_spike_factor: float = Field(default=3.0, gt=1, le=1000)
    """Alert when the error rate is more than this many times its 7-day median."""
    min_error_rate: float = Field(default=0.02, ge=0, le=1)
    """An error rate at or below this never alerts (a quiet site's first timeout is no spike)."""
    webhook_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    """POST the alerts as JSON to this http(s) URL; empty: off."""
    smtp_host: str = ""
    """Send the alerts by e-mail through this SMTP server; empty: off."""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    mail_from: str = "tisiwatch@localhost"
    mail_to: list[str] = Field(default_factory=list)
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    """How long a webhook POST or an SMTP conversation may take before it is given up (and logged)."""

    @model_validator(mode="after")
    def _mail_needs_recipients(self) -> AlertsConfig:
        if self.smtp_host and not self.mail_to:
            raise ValueError("smtp_host is set but mail_to names no recipient")
        if any("@" not in address for address in [self.mail_from, *self.mail_to] if address):
            raise ValueError("mail_from and mail_to must be e-mail addresses (name@host)")
        return self


class WebConfig(_Section):
    """The officers' workspace and the check API (``tisiwatch serve``, ``web/``)."""

    host: str = "127.0.0.1"
    """Where ``tisiwatch serve`` listens; behind a TLS reverse proxy keep it on loopback."""
    port: int = Field(default=8800, ge=1, le=65535)
    public_url: str = Field(default="http://127.0.0.1:8800", pattern=r"^https?://[^\s/]+(/\S*)?$")
    """The address officers open (behind the proxy, ``https://…``): the daily report links its
    listings to their pages in the workspace here."""
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1"])
    """Proxies whose ``X-Forwarded-Proto``/``-For`` headers are believed (the TLS reverse proxy)."""
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    """How long a sign-in lasts."""
    login_max_failures: int = Field(default=5, ge=1, le=100)
    """Failed sign-ins in a row after which the account is locked for ``lockout_minutes``."""
    lockout_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    api_requests_per_minute: int = Field(default=120, ge=1, le=100_000)
    """Check-API requests one token may make per minute."""
    page_size: int = Field(default=100, ge=10, le=1000)
    """Listings per page of the review queue."""


class ReviewConfig(_Section):
    """Officers' decisions and the cases sent to ETDA."""

    qc: bool = False
    """A supervisor passes or returns each confirmation before its case is exported."""
    takedown_days: int = Field(default=7, ge=1, le=365)
    """A case sent to ETDA whose listing is still online this many days later is ``still_online``."""


class VerifyConfig(_Section):
    """``tisiwatch verify`` of ETDA case files (``reports.trust``)."""

    trusted_keys: str = Field(default="keys/trusted-keys.pem", min_length=1)
    """The trusted-keys file: the senders' Ed25519 public keys (PEM, each with a name); relative to the
    data directory. ``tisiwatch keys trust FILE --name NAME`` adds one."""


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekdays(text: str) -> str:
    """A crontab weekday field (0 or 7 = Sunday, sun-sat, ranges, steps, lists) as APScheduler day names:
    APScheduler 3 counts weekday numbers from Monday, so numbers are never handed to it."""
    if text == "*":
        return "*"
    days: set[int] = set()
    for part in text.lower().split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            raise ValueError(f"weekday step {step!r} is not a positive number")
        first, _, last = ("0-6" if base == "*" else base).partition("-")
        start = _weekday(first)
        end = _weekday(last) if last else (6 if step else start)
        if end < start:
            raise ValueError(f"weekday range {base!r} runs backwards")
        days.update(day % 7 for day in range(start, end + 1, int(step or 1)))
    return ",".join(_WEEKDAYS[day] for day in sorted(days))


def _weekday(text: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text in _WEEKDAYS:
        return _WEEKDAYS.index(text)
    raise ValueError(f"{text!r} is not a weekday (0-7 or sun-sat)")


class ScheduleConfig(_Section):
    """The scheduler's timetable (``scheduler/plan.py``, ``scheduler/service.py``): standard cron
    expressions (minute hour day month weekday, 0 or 7 = Sunday) in ``timezone``; "" switches a job off."""

    timezone: str = "Asia/Bangkok"
    daily: str = "0 6 * * *"
    """The daily pipeline: crawl the sites → match → report and alerts → ETDA case file."""
    recheck: str = "0 3 * * 0"
    """The weekly re-check of the known listings (what changed, what is gone), then match."""
    register_check: str = "*/30 * * * *"
    """How often the register files are looked at; one whose content changed is imported, then match."""
    register_files: list[str] = Field(default_factory=list)
    """Register files (CSV or XLSX) to re-import when their content changes; relative to the data directory."""
    sites: list[str] = Field(default_factory=list)
    """The sites the scheduled crawls visit; empty: ``sites.enabled``."""
    misfire_grace_s: int = Field(default=21_600, ge=1, le=7 * 86_400)
    """A run missed while the scheduler was down (or one it was interrupted in) is made up for if no
    more than this many seconds late; later ones wait for their next time."""
    lock_check_s: float = Field(default=5.0, gt=0, le=3600)
    """How often the scheduler checks that it still holds its database's lock (a PostgreSQL restart
    ends the session that holds it) and that its timetable thread runs; the lock is also checked
    before every job."""

    def trigger(self, key: str) -> Any:
        """The APScheduler ``CronTrigger`` of the cron expression at ``key`` (None when switched off)."""
        from zoneinfo import ZoneInfo

        from apscheduler.triggers.cron import CronTrigger

        expression = getattr(self, key)
        if not expression:
            return None
        fields = expression.split()
        if len(fields) != 5:
            raise ValueError(f"{len(fields)} fields, not 5 (minute hour day month weekday)")
        minute, hour, day, month, weekday = fields
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_weekdays(weekday),
                           timezone=ZoneInfo(self.timezone))  # fmt: skip

    @model_validator(mode="after")
    def _valid_timetable(self) -> ScheduleConfig:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: {self.timezone!r} is not a time zone like Asia/Bangkok") from None
        for key in ("daily", "recheck", "register_check"):
            try:
                self.trigger(key)
            except ValueError as exc:
                raise ValueError(f"{key}: {getattr(self, key)!r} is not a cron expression ({exc})") from None
        return self


class Settings(_Section):
    data_dir: Path = Path("var")
    """Working data: the SQLite database, WARC files, reports, keys. Relative paths are resolved
    against the directory of the settings file."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    database: DatabaseConfig = DatabaseConfig()
    crawl: CrawlConfig = CrawlConfig()
    sites: SitesConfig = SitesConfig()
    match: MatchConfig = MatchConfig()
    report: ReportConfig = ReportConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    alerts: AlertsConfig = AlertsConfig()
    verify: VerifyConfig = VerifyConfig()
    web: WebConfig = WebConfig()
    review: ReviewConfig = ReviewConfig()

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.data_dir / 'tisiwatch.db'}"


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    """Turn ``TISIWATCH_SECTION_KEY=value`` variables into a nested mapping."""
    sections = {name for name, f in Settings.model_fields.items() if isinstance(f.default, BaseModel)}
    layer: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name in {"TISIWATCH_CONFIG"}:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        section, _, rest = key.partition("_")
        if section in sections and rest:
            field = Settings.model_fields[section].annotation
            assert isinstance(field, type)
            assert issubclass(field, BaseModel)
            info = field.model_fields.get(rest)
            value: Any = raw.split(",") if info is not None and info.annotation == list[str] else raw
            layer.setdefault(section, {})[rest] = value
        else:
            layer[key] = raw
    return layer


def _describe(error: ValidationError, origin: str) -> str:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        problem = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        problems.append(f"{origin}: {key}: {problem}")
    return "; ".join(problems)


def settings_file(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The settings file a command reads: ``path`` (``--config``), else ``TISIWATCH_CONFIG``, else
    ``settings.toml`` in the working directory; None when there is none (the built-in defaults apply,
    and a relative ``data_dir`` is relative to the working directory — never to where tisiwatch is
    installed)."""
    environ = os.environ if environ is None else environ
    if path is None and environ.get("TISIWATCH_CONFIG"):
        path = Path(environ["TISIWATCH_CONFIG"])
    if path is None:
        local = Path.cwd() / "settings.toml"
        return local if local.is_file() else None
    return path


def load_settings(
    path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Load settings once: defaults < file < environment < overrides (CLI flags)."""
    environ = os.environ if environ is None else environ
    path = settings_file(path, environ)
    layers: list[tuple[str, dict[str, Any]]] = []
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: settings file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(f"{path}: cannot read the settings file ({why})") from None
        try:
            layers.append((str(path.name), tomllib.loads(text)))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path.name}: not valid TOML: {exc}") from exc
    # a relative data_dir from the environment or the command line is relative to the working directory
    for origin, layer in (("environment", _env_layer(environ)), ("command line", dict(overrides or {}))):
        if layer.get("data_dir"):
            layer["data_dir"] = Path(layer["data_dir"]).absolute()
        layers.append((origin, layer))

    merged: dict[str, Any] = {}
    for origin, layer in layers:
        merged = _merge(merged, layer)
        try:  # validate each layer as it is added, so an error names where the bad value came from
            Settings.model_validate(merged)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, origin)) from None
    settings = Settings.model_validate(merged)
    data_dir = settings.data_dir
    if not data_dir.is_absolute():
        data_dir = (path.parent if path is not None else Path.cwd()) / data_dir
    return settings.model_copy(update={"data_dir": data_dir.resolve()})
