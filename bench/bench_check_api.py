"""Benchmark: the check API's throughput through HTTP against the matcher called directly.

    python -m bench.bench_check_api [--listings 10000] [--batch 100] [--rounds 3] [--no-write]

Demo listings (titles, descriptions and spec tables as sellers write them; the demo's licence register
and unsafe list) are sent to ``POST /api/v1/check`` of a real server — ``tisiwatch serve``'s app in
uvicorn, in its own process, on a free loopback port — in batches of ``--batch``, one request after
another over one keep-alive connection (the request bodies encoded beforehand: encoding them is the
platform's work). In the same run the same listings go to the matcher directly
(``matchers.check.judge_all``, the judge the API and the match stage use) in this process. Listings
judged per second each way (batch by batch: each judged directly, then sent), best of ``--rounds`` rounds; goal: HTTP ÷ direct ≥ 0.7.
Replaces the "Check API" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx2 as httpx

from bench.harness import DOC, ROOT, machine, write_section
from config import Settings, load_settings
from demo.generator import generate
from demo.listing import SHOPS, DemoListing
from demo.writer import write_registers
from matchers.check import CheckItem, judge_all
from matchers.match import build_judge
from matchers.register import ensure_default_register, import_register, load_register
from store.db import Store
from store.tokens import add_token

SECTION = "## Check API"
GOAL_RATIO = 0.7
SEED = 11
FOLDER = "TISIWATCH_BENCH_FOLDER"
"""The environment variable that tells the server process where the bench's database is."""


def settings_in(folder: Path) -> Settings:
    return load_settings(
        overrides={"data_dir": str(folder), "web": {"api_requests_per_minute": 100_000}}, environ={}
    )


def store_in(folder: Path) -> Store:
    return Store(f"sqlite:///{folder / 'bench.db'}")


def server() -> Any:
    """The app the server process runs (``uvicorn --factory``), over the bench's database."""
    from web.app import create_app

    folder = Path(os.environ[FOLDER])
    return create_app(settings_in(folder), store_in(folder))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, *os.environ.get("BENCH_PROFILE", "").split(), "-m", "uvicorn", "bench.bench_check_api:server", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, FOLDER: str(folder)})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/api/v1/openapi.json", timeout=1)
            return process, url
        except httpx.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def prepare(folder: Path, size: int) -> tuple[str, list[DemoListing]]:
    """The database with the default standards and the demo's registers, a token; the listings."""
    store = store_in(folder)
    store.migrate()
    ensure_default_register(store)
    demo = write_registers(folder / "demo", seed=SEED, size=size, last_day=1)
    import_register(store, demo["licences"], kind="licences")
    import_register(store, demo["unsafe"], kind="unsafe")
    with store.session() as session:
        token = add_token(session, "bench")
    store.dispose()
    return token, generate(seed=SEED, size=size)


def as_sent(listing: DemoListing, n: int) -> dict[str, Any]:
    return {"id": str(n), "title": listing.title, "description": listing.description, "spec": listing.spec,
            "brand": listing.brand, "model": listing.model}  # fmt: skip


def one_round(
    client: httpx.Client, judge: Any, bodies: list[bytes], batches: list[list[CheckItem]]
) -> tuple[float, float]:
    """Listings per second directly and through HTTP: batch by batch, each batch judged directly and
    then sent, so that a change in the machine's load falls on both alike."""
    direct_s = http_s = 0.0
    gc.collect()
    for body, items in zip(bodies, batches, strict=True):
        started = time.perf_counter()
        judge_all(judge, items)
        middle = time.perf_counter()
        answer = client.post("/api/v1/check", content=body)
        answer.raise_for_status()
        answer.json()
        ended = time.perf_counter()
        direct_s += middle - started
        http_s += ended - middle
    count = sum(map(len, batches))
    return count / direct_s, count / http_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        token, listings = prepare(folder, max(1, args.listings // len(SHOPS)))
        sent = [as_sent(listing, n) for n, listing in enumerate(listings)]
        items = [
            CheckItem(x["id"], x["title"], x["description"], x["spec"], x["brand"], x["model"]) for x in sent
        ]
        bodies = [
            json.dumps({"listings": sent[start : start + args.batch]}, ensure_ascii=False).encode()
            for start in range(0, len(sent), args.batch)
        ]
        batches = [items[start : start + args.batch] for start in range(0, len(items), args.batch)]
        size_kb = sum(map(len, bodies)) / len(bodies) / 1024
        store = store_in(folder)
        with store.session() as session:
            judge = build_judge(load_register(session), settings_in(folder))
        store.dispose()
        process, url = start_server(folder)
        try:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
                one_round(client, judge, bodies[:20], batches[:20])  # warm-up: the server builds its judge
                rounds = [one_round(client, judge, bodies, batches) for _ in range(args.rounds)]
        finally:
            process.terminate()
            process.wait(timeout=30)
    best_direct, best_http = (max(column) for column in zip(*rounds, strict=True))
    ratio = best_http / best_direct
    print(f"{len(items):,} listings in batches of {args.batch} ({size_kb:.0f} kB a request)")
    print(f"matcher directly: {best_direct:,.0f} listings/s; through HTTP: {best_http:,.0f} listings/s; "
          f"ratio {ratio:.2f} (goal ≥ {GOAL_RATIO})")  # fmt: skip
    if not args.no_write:
        lines = [
            SECTION, "",
            f"`python -m bench.bench_check_api --listings {args.listings}` — {date.today().isoformat()}, {machine()}.", "",
            f"{len(items):,} demo listings (title, description, spec table, brand, model) under the default "
            "standards and the demo's licence register and unsafe list. Through HTTP: `POST /api/v1/check` "
            f"of the app `tisiwatch serve` runs, in uvicorn in its own process on a loopback port, in "
            f"batches of {args.batch} ({size_kb:.0f} kB a request), one request after another on one "
            "keep-alive connection, bodies encoded beforehand, answers decoded. Directly: the same "
            "listings through `matchers.check.judge_all` (the judge the API and `match` use) in the "
            f"benchmark's process: each batch judged directly, then sent, so that a change in the machine's "
            f"load falls on both alike. Best of {args.rounds} rounds; the machine's load average (1 min) "
            f"was {load[0]:.1f} before and {os.getloadavg()[0]:.1f} after.", "",
            "| how | listings/s |", "|---|---|",
            f"| matcher called directly | {best_direct:,.0f} |",
            f"| through HTTP (check API) | {best_http:,.0f} |", "",
            f"HTTP ÷ direct: **{ratio:.2f}** (goal ≥ {GOAL_RATIO}: {'met' if ratio >= GOAL_RATIO else 'missed'}).",
            "",
        ]  # fmt: skip
        write_section(SECTION, "\n".join(lines))
        print(f"updated {DOC.relative_to(ROOT)}")
    return 0 if ratio >= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
