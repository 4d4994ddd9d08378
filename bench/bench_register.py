"""Benchmark: import a 100,000-row licence register, then load it for the matcher.

    python -m bench.bench_register [--rows 100000] [--postgres URL] [--no-write]

Generates a deterministic licence CSV, times ``import_register`` (check + insert, one transaction) and
``load_register`` on a SQLite file and on PostgreSQL (a throwaway database on the server, skipped with
a message when the server cannot be reached), prints rows/s, and replaces the "Register import"
section of docs/benchmarks.md. The target: 100,000 rows import in 10 s or less on SQLite.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.harness import DOC, POSTGRES, ROOT, machine, on_each_database, table_rows, write_section
from matchers.register import import_register, load_register
from store.db import Store

SECTION = "## Register import"
TARGET_S = 10.0
STANDARDS = ["2879-2560", "166-2549", "2432-2555", "685 เล่ม 1-2562", "369-2557", "1039-2547", "934-2558",
             "60335 เล่ม 2(23)-2564", "11 เล่ม 3-2553", "2780-2562", "62368 เล่ม 1-2563", "2718-2560"]  # fmt: skip
BRANDS = ["PowerD", "Anker", "Eloop", "ToyGood", "Plugo", "ช้างไทย", "Hata", "Sharp", "Index", "Bewell"]
STATUSES = ["active"] * 17 + ["suspended", "revoked", "expired"]


def write_licences(path: Path, rows: int, seed: int = 2560) -> None:
    """A licence register of ``rows`` rows; the same (rows, seed) always gives the same file."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["licence_no", "tis_number", "licensee", "brands", "status", "issued", "expires"])
        for serial in range(1, rows + 1):
            tis = rng.choice(STANDARDS)
            year = rng.randint(2555, 2568)
            issued = date(year - 543, rng.randint(1, 12), rng.randint(1, 28))
            expires = issued.replace(year=issued.year + rng.choice([3, 5]))
            kind = "ท" if rng.random() < 0.6 else "น"
            brands = "|".join(rng.sample(BRANDS, rng.randint(0, 2)))
            writer.writerow([
                f"{kind}{serial}-{year % 100}/{tis.split()[0].split('-')[0]}", tis,
                f"บริษัท ผู้ผลิตที่ {serial % 7919} จำกัด", brands, rng.choice(STATUSES),
                issued.isoformat(), expires.isoformat(),
            ])  # fmt: skip


def run(store: Store, path: Path, rows: int) -> dict[str, float]:
    """Seconds to import and to load the register, on a freshly migrated store."""
    store.migrate()
    started = time.perf_counter()
    version = import_register(store, path, kind="licences")
    imported = time.perf_counter() - started
    assert version.row_count == rows
    started = time.perf_counter()
    with store.session() as session:
        register = load_register(session)
    loaded = time.perf_counter() - started
    assert len(register.licences) == rows
    return {"import_s": imported, "load_s": loaded}


def section(rows: int, size: int, results: dict[str, dict[str, float] | str]) -> str:
    lines = [
        SECTION,
        "",
        f"`python -m bench.bench_register` — {date.today().isoformat()}, {machine()}.",
        "",
        f"A deterministic licence register of {rows:,} rows ({size / 1e6:.1f} MB CSV), imported with",
        "`import_register` (every row checked, then bulk inserts in one transaction) and loaded back with",
        f"`load_register` (plain dataclasses keyed by canonical licence number). Target: ≤ {TARGET_S:.0f} s import",
        "on SQLite.",
        "",
        "| database | import | rows/s | load_register |",
        "|---|---|---|---|",
    ]
    lines += table_rows(results, lambda r: [f"{r['import_s']:.2f} s", f"{rows / r['import_s']:,.0f}",
                                            f"{r['load_s']:.2f} s"], columns=4)  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", default=POSTGRES, help="admin URL of the PostgreSQL server")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "licences.csv"
        write_licences(path, args.rows)
        size = path.stat().st_size
        print(f"licence register: {args.rows:,} rows, {size / 1e6:.1f} MB")
        results = on_each_database(lambda store: run(store, path, args.rows), args.postgres)
    for name, result in results.items():
        if isinstance(result, str):
            print(f"{name}: {result}")
        else:
            rate = args.rows / result["import_s"]
            print(
                f"{name}: import {result['import_s']:.2f} s ({rate:,.0f} rows/s), load {result['load_s']:.2f} s"
            )
    if not args.no_write:
        write_section(SECTION, section(args.rows, size, results))
        print(f"updated {DOC.relative_to(ROOT)}")
    sqlite = results["SQLite (file, WAL)"]
    return 0 if isinstance(sqlite, dict) and sqlite["import_s"] <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
