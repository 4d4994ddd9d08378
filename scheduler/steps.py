"""The step contract: how every stage is run, by a command, by ``tisiwatch demo`` and by the scheduler.

A step is a small object that holds what to do (its options: which sites, which day, where to write)
and runs one stage function with them: ``step.run(context)`` returns a :class:`StepResult` — its status
(``ok``, ``failed``, ``skipped``, ``interrupted``), a one-line summary for people, the counts that the
scheduler's journal records, the error (or the reason it was skipped) and the stage function's own
result. A failure the stage expects (a register missing, a signing key that cannot be read, a site
whose crawl failed) is always a ``failed`` result with its reason. Anything else — a bug, the database
gone — is a ``failed`` result too when the context *contains* errors (a scheduled run, so that one
failing step never takes the run down); a command lets it through, to be shown as it shows any error.

:class:`MatchStep`, :class:`CasesStep` and :class:`TakedownsStep` are here; the larger steps have their own modules
(``crawlstep``, ``reportstep``, ``registerstep``).
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from config import Settings
from store.db import Store

if TYPE_CHECKING:
    from matchers.match import MatchSummary
    from reports.casefile import CaseFileSummary
    from store.takedowns import SendUpdate

log = logging.getLogger("tisiwatch.scheduler")
T = TypeVar("T")

StepStatus = Literal["ok", "failed", "skipped", "interrupted"]


@dataclass(frozen=True)
class StepResult(Generic[T]):
    """What one step did."""

    name: str
    status: StepStatus
    summary: str = ""
    """One line for people: what was done (empty when the step did not get that far)."""
    counts: Mapping[str, Any] = field(default_factory=dict)
    """What the step did, as data (the scheduler's journal records it as the step's stats)."""
    error: str | None = None
    """Why it failed or was interrupted; for a skipped step, why it had nothing to do."""
    value: T | None = None
    """The stage function's own result (also of a failed step, where the stage got as far as one)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def get(self) -> T:
        """The stage's result; :class:`StepError` (its reason) when the step ended without one."""
        if self.value is None:
            raise StepError(self.error or f"{self.name}: {self.status}")
        return self.value


class StepError(RuntimeError):
    """A step ended without a result for its caller to show (its message: why)."""


def _no_note(stats: Mapping[str, Any]) -> None:
    """Where nothing records a step while it runs (a command, the demo)."""


@dataclass
class StepContext:
    """Where a step runs: the settings and database, and what the run around it provides."""

    settings: Settings
    store: Store
    job: str | None = None
    """The scheduler's job that runs the step (None: a command or the demo)."""
    contain: bool = False
    """Whether an unexpected error becomes a failed result (a scheduled run goes on to its next step)
    or propagates to the caller (a command shows it as it shows any error)."""
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set when the run is to stop (the scheduler got SIGTERM): a step's work so far is ``interrupted``."""
    note: Callable[[Mapping[str, Any]], None] = _no_note
    """Records counts while the step runs (before a crawl: after a kill, recovery finds its crawl runs)."""
    results: dict[str, StepResult[Any]] = field(default_factory=dict)
    """The results of the run's earlier steps, by name."""

    @property
    def who(self) -> str:
        """The run as log lines name it."""
        return self.job or "tisiwatch"


class StepFailed(Exception):
    """A failure the stage expects, or part of the work failed: the message says what failed."""

    def __init__(self, message: str, counts: Mapping[str, Any] | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.counts = dict(counts or {})
        self.value = value


class StepSkipped(Exception):
    """A step had nothing to do (the message says why)."""


class StepInterrupted(StepFailed):
    """A step was stopped by the run's stop (:attr:`StepContext.stopping`); its work can be continued."""


class Step(ABC, Generic[T]):
    """One stage, with its options. Subclasses name themselves and implement :meth:`perform`."""

    name: ClassVar[str]

    def run(self, context: StepContext) -> StepResult[T]:
        """Run the step; every way it can end is a :class:`StepResult` (see the module)."""
        try:
            return self.perform(context)
        except StepSkipped as skipped:
            return StepResult(self.name, "skipped", counts={"reason": str(skipped)}, error=str(skipped))
        except StepInterrupted as stopped:
            return StepResult(self.name, "interrupted", "", stopped.counts, str(stopped), stopped.value)
        except StepFailed as failed:
            return StepResult(self.name, "failed", "", failed.counts, str(failed), failed.value)
        except Exception as exc:
            if not context.contain:
                raise
            log.exception("%s: step %s failed", context.who, self.name)
            return StepResult(self.name, "failed", error=f"{type(exc).__name__}: {exc}")

    @abstractmethod
    def perform(self, context: StepContext) -> StepResult[T]:
        """Do the work and return an ``ok`` result, or raise :class:`StepFailed`, :class:`StepSkipped`
        or :class:`StepInterrupted`."""

    def done(self, summary: str, counts: Mapping[str, Any], value: T) -> StepResult[T]:
        return StepResult(self.name, "ok", summary, dict(counts), None, value)


def shown_path(path: Path, settings: Settings) -> str:
    """A path as a run records it: relative to the data directory when it is inside it."""
    return str(path.relative_to(settings.data_dir)) if path.is_relative_to(settings.data_dir) else str(path)


@dataclass
class MatchStep(Step["MatchSummary"]):
    """Judge every listing not yet judged under the current register (``matchers.match_pending``)."""

    name: ClassVar[str] = "match"
    allow_missing_registers: bool | None = None
    """None: as ``match.allow_missing_registers`` says."""
    after_import: bool = False
    """Skipped unless the run's ``register`` step imported a file (the register job)."""

    def perform(self, context: StepContext) -> StepResult[MatchSummary]:
        from matchers.match import MatchError, RegisterMissing, match_pending

        if self.after_import:
            earlier = context.results.get("register")
            if earlier is None or not earlier.counts.get("imported"):
                raise StepSkipped("no register file was imported")
        try:
            summary = match_pending(
                context.store, context.settings, allow_missing_registers=self.allow_missing_registers
            )
        except (RegisterMissing, MatchError) as exc:
            raise StepFailed(str(exc)) from None
        counts = {
            "judged": summary.judged,
            "register_version": summary.register_version,
            "by_verdict": dict(summary.by_verdict),
            **({"made_without": summary.missing} if summary.missing else {}),
        }
        said = f"judged {summary.judged} listings under register version {summary.register_version}"
        return self.done(said, counts, summary)


@dataclass
class CasesStep(Step["CaseFileSummary"]):
    """The signed ETDA case file of the confirmed cases seen since a day, recorded as sent
    (``reports.casefile.export_cases``)."""

    name: ClassVar[str] = "cases"
    out: Path
    since: date | None = None
    """Only cases seen since this local day; None: every case."""
    make_folder: bool = False
    """Make the folder of ``out`` when it is missing (the scheduler's; a command's must exist)."""
    all_violations: bool = False
    """Every violating listing, decided or not (nothing is recorded as sent); False: confirmed cases."""

    def perform(self, context: StepContext) -> StepResult[CaseFileSummary]:
        from reports.casefile import export_cases
        from reports.signing import SigningKeyError

        if self.make_folder:
            self.out.parent.mkdir(parents=True, exist_ok=True)
        try:
            summary = export_cases(
                context.store,
                context.settings,
                since=self.since,
                out=self.out,
                all_violations=self.all_violations,
            )
        except SigningKeyError as exc:
            raise StepFailed(str(exc)) from None
        counts = {
            "out": shown_path(self.out, context.settings),
            "cases": summary.cases,
            "size": summary.size,
            "evidence_problems": len(summary.problems),
            "sent": summary.sent,
        }
        said = f"wrote {summary.cases} cases to {self.out}"
        if not self.all_violations:
            said += f" ({summary.sent} newly sent to ETDA)"
        return self.done(said, counts, summary)


@dataclass
class TakedownsStep(Step["SendUpdate"]):
    """Bring the cases sent to ETDA up to date: ``taken_down`` or ``still_online``
    (``store.takedowns.update_sends``)."""

    name: ClassVar[str] = "takedowns"

    def perform(self, context: StepContext) -> StepResult[SendUpdate]:
        from store.takedowns import update_sends

        with context.store.session() as session:
            update = update_sends(session, context.settings.review.takedown_days)
        counts = {
            "open": update.checked,
            "taken_down": update.taken_down,
            "still_online": update.still_online,
        }
        said = (
            f"checked {update.checked} open cases: {update.taken_down} taken down, "
            f"{update.still_online} still online after {context.settings.review.takedown_days} days"
        )
        return self.done(said, counts, update)
