"""The daily report (``tisiwatch report daily``): what an officer reads every morning.

For one Asia/Bangkok day it writes four files with fixed names into ``out_dir`` — ``report.html``
(self-contained, opens offline), ``report.xlsx``, ``findings.csv`` and ``findings.json`` — from the
store, which it only reads. The data files carry the day's new, continuing and resolved findings and
the needs-review queue; nothing from a marketplace is ever part of a file name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reports.export import replacing, write_csv
from reports.findings import findings, iso
from reports.health import crawl_health
from reports.page import PageContext, render_page
from reports.register import register_version, standard_names
from reports.summary import Summary, summarise
from reports.workbook import write_workbook
from store.clock import day_bounds, local_day, utcnow
from store.db import Store

HTML_NAME = "report.html"
XLSX_NAME = "report.xlsx"
CSV_NAME = "findings.csv"
JSON_NAME = "findings.json"


@dataclass(frozen=True, slots=True)
class DailyReport:
    """The files of one day's report and what they count."""

    day: date
    out_dir: Path
    html: Path
    xlsx: Path
    csv: Path
    json: Path
    register_version: int | None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def new(self) -> int:
        return self.counts.get("new", 0)

    @property
    def continuing(self) -> int:
        return self.counts.get("continuing", 0)

    @property
    def resolved(self) -> int:
        return self.counts.get("resolved", 0)

    @property
    def needs_review(self) -> int:
        return self.counts.get("needs_review", 0)


def build_daily_report(
    store: Store,
    out_dir: Path,
    day: date | None = None,
    timezone: str = "Asia/Bangkok",
    *,
    evidence_root: Path | None = None,
) -> DailyReport:
    """Write the report for ``day`` (default: today in ``timezone``) into ``out_dir``.

    ``evidence_root`` is the directory that relative evidence paths (WARC files, screenshots) are under —
    the data directory; links to evidence are made relative to ``out_dir`` so the folder can be copied.
    """
    zone = ZoneInfo(timezone)
    day = day if day is not None else local_day(utcnow(), zone)
    _, end = day_bounds(day, zone)
    generated_at = utcnow()
    with store.sessions() as session:
        rows = findings(session, day, tz=zone)
        version = register_version(session, end)
        context = PageContext(
            day=day,
            zone=zone,
            generated_at=generated_at,
            register_version=version,
            health=crawl_health(session, end),
            standard_names=standard_names(session, version),
            out_dir=out_dir,
            evidence_root=evidence_root,
        )
    summary = summarise(rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = DailyReport(
        day=day,
        out_dir=out_dir,
        html=out_dir / HTML_NAME,
        xlsx=out_dir / XLSX_NAME,
        csv=out_dir / CSV_NAME,
        json=out_dir / JSON_NAME,
        register_version=version,
        counts=dict(summary.counts),
    )
    records = [finding.record() for finding in summary.reported]
    _write_json(summary, context, records, report.json)
    write_csv(records, report.csv)
    write_workbook(summary, context, report.xlsx)
    with replacing(report.html, "w", encoding="utf-8") as stream:
        stream.write(render_page(summary, context))
    return report


def _write_json(summary: Summary, context: PageContext, records: list[dict[str, Any]], out: Path) -> None:
    document: dict[str, Any] = {
        "date": context.day.isoformat(),
        "timezone": context.zone.key,
        "generated_at": iso(context.generated_at),
        "register_version": context.register_version,
        "counts": summary.counts,
        "findings": records,
    }
    with replacing(out, "w", encoding="utf-8") as stream:
        stream.write(json.dumps(document, ensure_ascii=False) + "\n")  # the C encoder: much faster
