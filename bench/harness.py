"""What every benchmark shares: the machine line, a throwaway PostgreSQL database, a run on each
database, and writing one section of docs/benchmarks.md without touching the others."""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from store.db import Store

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
POSTGRES = os.environ.get("TISIWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def postgres_database(admin_url: str = POSTGRES) -> Iterator[str]:
    """A throwaway PostgreSQL database, dropped afterwards."""
    name = f"tisiwatch_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


Result = TypeVar("Result")


def on_each_database(run: Callable[[Store], Result], admin_url: str = POSTGRES) -> dict[str, Result | str]:
    """``run`` on a new SQLite file (WAL) and on a throwaway PostgreSQL database, each through a
    Store disposed of afterwards. PostgreSQL is skipped when its server cannot be reached, and the
    result says why."""
    results: dict[str, Result | str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            results["SQLite (file, WAL)"] = run(store)
        finally:
            store.dispose()
    with ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_database(admin_url))
        except OperationalError as exc:
            results["PostgreSQL"] = f"server not reachable ({type(exc).__name__})"
            print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
            return results
        store = Store(url)
        stack.callback(store.dispose)
        results["PostgreSQL"] = run(store)
    return results


def table_rows(
    results: Mapping[str, Result | str], cells: Callable[[Result], Sequence[str]], columns: int
) -> list[str]:
    """Rows of a Markdown table of ``columns`` columns, a database each: its cells, or why it was skipped."""
    return [
        f"| {name} | skipped: {result} |" + " |" * (columns - 2)
        if isinstance(result, str)
        else "| " + " | ".join([name, *cells(result)]) + " |"
        for name, result in results.items()
    ]


def machine() -> str:
    """CPU count and model, RAM: from /proc on Linux, else what platform says."""
    model, memory = platform.processor() or platform.machine(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}){memory}, Python {platform.python_version()}"


NOTES = "<!-- notes: written by hand, kept when the figures above are written again -->"
"""A line after which a section's hand-written notes (comparisons, trials) survive a new run."""


def write_section(heading: str, text_: str, doc: Path = DOC) -> None:
    """Replace the section under ``heading`` (or append it), keeping its notes (from a ``NOTES`` line
    on); other sections stay as they are."""
    current = (
        doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n\nFigures written by `bench/`.\n"
    )
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        updated = current.rstrip("\n") + "\n\n" + text_
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        notes = next((i for i in range(start + 1, end) if lines[i].rstrip() == NOTES), end)
        kept = "".join(lines[notes:end]).rstrip("\n")
        text_ = text_.rstrip("\n") + "\n\n" + kept + "\n" if kept else text_
        tail = "".join(lines[end:])
        updated = "".join(lines[:start]) + text_ + ("\n" + tail if tail else "")
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(updated, encoding="utf-8")
