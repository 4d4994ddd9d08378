"""Benchmark: export and verify an ETDA case file of 10,000 violating listings with WARC evidence.

    python -m bench.bench_cases [--cases 10000] [--page-kb 40] [--screenshots 0.1] [--no-write]

Builds a temporary SQLite store and data directory: ``--cases`` listing pages of about ``--page-kb`` kB
each written as WARC captures (response + request records) by the crawler's own writer
(``crawler.warc``), a share of them rendered pages with a screenshot of 100 kB, one observation and one
violating verdict each. Then times ``reports.casefile.export_cases`` for all of them (goal: ≤ 30 s),
the case query alone, and ``reports.verify.verify_casefile`` of the file written; samples the process's
resident memory during the export. Replaces the "Case files" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bench.harness import DOC, ROOT, machine, write_section
from config import load_settings
from crawler.evidence import RENDERED_BY
from crawler.warc import Exchange, WarcFile, http_capture, rendered_capture, run_directory, sha256_hex
from reports.casefile import export_cases, select_cases
from reports.verify import verify_casefile
from store.db import Store
from store.models import Listing, Observation, RegisterVersion, Verdict
from store.writer import Sighting, ensure_site, start_run, store_sightings

SECTION = "## Case files"
GOAL_S = 30.0
VERDICTS = ["no_licence_shown"] * 6 + ["invalid_licence"] * 3 + ["unsafe"]
WORDS = ["พาวเวอร์แบงค์", "ปลั๊กพ่วง", "หมวกกันน็อค", "เตารีด", "หม้อหุงข้าว", "ชาร์จเร็ว", "ของแท้", "ส่งฟรี",
         "รับประกัน", "ราคาถูก"]  # fmt: skip


def page(rng: random.Random, n: int, size: int) -> bytes:
    """A listing page of about ``size`` bytes: a product, its description and shop boilerplate."""
    title = f"{' '.join(rng.sample(WORDS, 4))} รุ่น {n}"
    parts = [f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"]
    while sum(map(len, parts)) * 2 < size:  # Thai letters are 3 bytes in UTF-8; markup is 1
        words = " ".join(rng.choice(WORDS) for _ in range(12))
        parts.append(f"<p class='d{rng.randint(0, 999)}'>{words} {rng.randint(0, 10**9)}</p>")
    parts.append("</body></html>")
    return "".join(parts).encode("utf-8")


def build(data_dir: Path, store: Store, count: int, page_kb: int, shot_share: float) -> None:
    """``count`` listings of one site, each with a WARC capture and a violating verdict."""
    rng = random.Random(2879)
    store.migrate()
    with store.session() as session:
        site = ensure_site(session, "bench-shop", "html", "https://bench-shop.test")
        run_id = start_run(session, site).id
        version = RegisterVersion(kind="standards", source_name="bench", source_sha256="0" * 64, row_count=0)
        session.add(version)
        session.flush()
        version_id = version.id
    info = {"software": "tisiwatch bench_cases", "format": "WARC File Format 1.1"}
    warc = WarcFile.create(data_dir, run_id, "w0", info)
    shots = data_dir / run_directory(run_id) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    sightings = []
    try:
        for n in range(count):
            url = f"https://bench-shop.test/product/{n:07d}"
            body = page(rng, n, page_kb * 1000)
            exchange = Exchange(
                url=url,
                status=200,
                response_headers=[("Content-Type", "text/html; charset=utf-8"), ("Server", "bench")],
                body=body,
                request_headers=[("User-Agent", "tisiwatch/0.1"), ("Accept", "text/html")],
                fetched_at=start + timedelta(seconds=n),
            )
            evidence: dict[str, Any] = {}
            if rng.random() < shot_share:
                png = b"\x89PNG\r\n\x1a\n" + rng.randbytes(100_000)
                digest = sha256_hex(png)
                (shots / f"{digest}.png").write_bytes(png)
                evidence = {"screenshot_file": f"{run_directory(run_id)}/screenshots/{digest}.png",
                            "screenshot_sha256": digest}  # fmt: skip
                records = rendered_capture(exchange, "text/html; charset=utf-8", RENDERED_BY)
            else:
                records = http_capture(exchange)
            offset = warc.write(records)[0]
            sightings.append(
                Sighting(
                    marketplace_id=f"{n:07d}",
                    url=url,
                    title=f"สินค้า {n}",
                    description="ไม่มีเลข มอก.",
                    price=Decimal("299.00"),
                    currency="THB",
                    seller_name=f"ร้าน {n % 300}",
                    observed_at=exchange.fetched_at,
                    warc_file=warc.relative,
                    warc_offset=offset,
                    payload_sha256=sha256_hex(body),
                    **evidence,
                )
            )
    finally:
        warc.close()
    with store.session() as session:
        for first in range(0, count, 1000):
            store_sightings(session, site, run_id, sightings[first : first + 1000])
        observations = session.execute(
            select(Observation.id, Observation.listing_id).order_by(Observation.id)
        )
        verdicts = [
            {"listing_id": listing_id, "observation_id": observation_id, "register_version_id": version_id,
             "matcher_version": "bench", "verdict": rng.choice(VERDICTS), "tis_number": "2879-2560",
             "score": 0.9, "reasons": [{"feature": "keyword_in_title", "score": 0.9, "detail": "พาวเวอร์แบงค์"}]}
            for observation_id, listing_id in observations
        ]  # fmt: skip
        session.execute(insert(Verdict), verdicts)
        assert session.query(Listing).count() == count


class MemorySampler:
    """The process's resident memory (MB = 10⁶ bytes), sampled every 20 ms from /proc while it runs."""

    def __init__(self) -> None:
        self.peak = self.start = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _rss() -> float:
        try:
            pages = int(Path("/proc/self/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            return 0.0
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def run(count: int, page_kb: int, shot_share: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        settings = load_settings(overrides={"data_dir": str(data_dir)}, environ={})
        store = Store.from_settings(settings)
        started = time.perf_counter()
        build(data_dir, store, count, page_kb, shot_share)
        built = time.perf_counter() - started
        warc_bytes = sum(path.stat().st_size for path in data_dir.rglob("*.warc.gz"))
        shots = list(data_dir.rglob("*.png"))
        export_cases(
            store, settings, out=Path(tmp) / "warm-up.zip", all_violations=True
        )  # the signing key, caches
        started = time.perf_counter()
        with store.sessions() as session:
            selected = len(select_cases(session, all_violations=True))
        query = time.perf_counter() - started
        out = Path(tmp) / "cases.zip"
        with MemorySampler() as memory:
            started = time.perf_counter()
            summary = export_cases(store, settings, out=out, all_violations=True)  # no decisions here
            exported = time.perf_counter() - started
        started = time.perf_counter()
        result = verify_casefile(out)
        verified = time.perf_counter() - started
        store.dispose()
        assert summary.cases == selected == count, (summary.cases, selected)
        assert result.ok, result.problems[:5]
        assert not summary.problems, summary.problems[:5]
        return {
            "build": built, "warc_mb": warc_bytes / 1e6, "screenshots": len(shots),
            "screenshot_mb": sum(path.stat().st_size for path in shots) / 1e6, "query": query,
            "export": exported, "verify": verified, "zip_mb": summary.size / 1e6, "files": summary.files,
            "rss_start": memory.start, "rss_peak": memory.peak,
        }  # fmt: skip


def section(count: int, page_kb: int, shot_share: float, figures: dict[str, Any]) -> str:
    lines = [
        SECTION,
        "",
        f"`python -m bench.bench_cases` — {date.today().isoformat()}, {machine()}.",
        "",
        f"{count:,} violating listings in a SQLite store, each with a WARC capture of a page of about "
        f"{page_kb} kB written",
        "by the crawler's writer (`crawler.warc`: response + request records, one gzip member each); "
        f"{figures['screenshots']:,} of them",
        f"({shot_share:.0%}) rendered pages with a 100 kB screenshot. Evidence on disk: "
        f"{figures['warc_mb']:,.0f} MB of WARC, {figures['screenshot_mb']:,.0f} MB of screenshots.",
        "`export_cases` writes all of them into one signed case file; `verify_casefile` checks every hash and",
        f"the signature. Goal: export ≤ {GOAL_S:.0f} s.",
        "",
        "| step | seconds | per case |",
        "|---|---|---|",
        f"| case query (`select_cases`: findings + evidence references) | {figures['query']:.2f} | "
        f"{figures['query'] / count * 1e3:.2f} ms |",
        f"| export (`export_cases`, query included) | {figures['export']:.2f} | "
        f"{figures['export'] / count * 1e3:.2f} ms |",
        f"| verify (`verify_casefile`) | {figures['verify']:.2f} | {figures['verify'] / count * 1e3:.2f} ms |",
        "",
        f"Case file: {figures['zip_mb']:,.1f} MB, {figures['files']:,} files in the manifest. Resident memory "
        f"during the export: {figures['rss_start']:,.0f} MB at the start,",
        f"{figures['rss_peak']:,.0f} MB at the peak (evidence is read and written one case at a time).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--page-kb", type=int, default=40)
    parser.add_argument("--screenshots", type=float, default=0.1, help="share of rendered pages")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    figures = run(args.cases, args.page_kb, args.screenshots)
    for name, value in figures.items():
        print(f"{name}: {value:,.2f}" if isinstance(value, float) else f"{name}: {value:,}")
    if not args.no_write:
        write_section(SECTION, section(args.cases, args.page_kb, args.screenshots, figures))
        print(f"updated {DOC.relative_to(ROOT)}")
    return 0 if figures["export"] <= GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
