"""The report step: the daily violation report of one local day (``reports.daily.build_daily_report``),
with the crawl-health alerts judged by the thresholds of the settings it is given (``[alerts]``).

``tisiwatch report daily``, ``tisiwatch demo`` and the scheduler's daily job run it; only the scheduler's
also sends the alerts (webhook, e-mail) — even when the report itself could not be written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from scheduler.steps import Step, StepContext, StepFailed, StepResult, log, shown_path
from store.clock import local_day, utcnow

if TYPE_CHECKING:
    from reports.alerts import Alert
    from reports.daily import DailyReport


@dataclass
class ReportStep(Step["DailyReport"]):
    """Write the day's report files into ``out``."""

    name: ClassVar[str] = "report"
    out: Path
    day: date | None = None
    """A day in ``report.timezone``; None: today there."""
    send_alerts: bool = False
    """Send the crawl-health alerts where ``[alerts]`` says (the scheduler's daily job)."""

    def perform(self, context: StepContext) -> StepResult[DailyReport]:
        from reports.daily import build_daily_report

        settings = context.settings
        day = self.day or local_day(utcnow(), ZoneInfo(settings.report.timezone))
        counts: dict[str, Any] = {"day": day.isoformat(), "out": shown_path(self.out, settings)}
        build = partial(build_daily_report, context.store, self.out, day, timezone=settings.report.timezone,
                        evidence_root=settings.data_dir, settings=settings)  # fmt: skip
        if not self.send_alerts:
            report = build()
            return self.done(summary(report), {**counts, "counts": report.counts}, report)
        failure: Exception | None = None
        sent: DailyReport | None = None
        try:
            sent = build()
            counts["counts"] = sent.counts
        except Exception as exc:
            if not context.contain:
                raise
            log.exception("%s: the daily report failed", context.who)
            failure = exc
        try:
            counts["alerts"] = self._send(context, day, sent)
        except Exception as exc:
            if not context.contain:
                raise
            log.exception("%s: the crawl-health alerts failed", context.who)
            failure = failure or exc
        if failure is not None:
            raise StepFailed(f"{type(failure).__name__}: {failure}", counts, sent)
        assert sent is not None
        return self.done(summary(sent), counts, sent)

    @staticmethod
    def _send(context: StepContext, day: date, report: DailyReport | None) -> list[str]:
        """Send the report's alerts; when the report failed, the alerts are read on their own."""
        from reports.alerts import crawl_alerts, send_alerts

        alerts: list[Alert]
        if report is None:
            with context.store.session() as session:
                alerts = crawl_alerts(session, day, context.settings)
        else:
            alerts = list(report.alerts)
        send_alerts(alerts, context.settings)
        return [f"{alert.kind}: {alert.message}" for alert in alerts]


def summary(report: DailyReport) -> str:
    """The report in one line, as ``tisiwatch report daily`` prints it."""
    return (
        f"report for {report.day}: {report.html} — {report.new} new, {report.continuing} continuing, "
        f"{report.resolved} resolved, {report.needs_review} to review"
    )
