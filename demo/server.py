"""Runs the demo shops: in one child process (`start_shops`) or in the foreground (`serve_forever`).

Each shop has its own loopback address, so a crawler sees five different hosts: html on 127.0.0.1,
api on 127.0.0.2, browser on 127.0.0.3, token on 127.0.0.4, state on 127.0.0.5 (where the system
cannot bind those, all share the given host).
Ports come from the operating system unless given. The child process is `python -m demo.server --control`;
it prints one JSON line when it serves and takes `day N` / `stop` lines on its standard input.
Fault modes at a rate (`demo.faults.FaultRates`, for drills) are passed as `--fault-rates JSON`.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from demo.apishop import ApiShop
from demo.browsershop import BrowserShop
from demo.faults import FaultRates
from demo.handler import Shop, ShopServer
from demo.htmlshop import HtmlShop
from demo.listing import SHOPS, api_item_path, product_path
from demo.stateshop import StateShop
from demo.tokenshop import TokenShop
from demo.world import DemoState

SPREAD_HOSTS = {
    "html": "127.0.0.1",
    "api": "127.0.0.2",
    "browser": "127.0.0.3",
    "token": "127.0.0.4",
    "state": "127.0.0.5",
}
SHOP_TYPES: dict[str, type[Shop]] = {
    "html": HtmlShop,
    "api": ApiShop,
    "browser": BrowserShop,
    "token": TokenShop,
    "state": StateShop,
}
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _bind(state: DemoState, host: str, ports: dict[str, int] | None) -> dict[str, ShopServer]:
    servers: dict[str, ShopServer] = {}
    try:
        for shop in SHOPS:
            address = SPREAD_HOSTS[shop] if host == "127.0.0.1" else host
            port, app = (ports or {}).get(shop, 0), SHOP_TYPES[shop](state)
            try:
                servers[shop] = ShopServer((address, port), app)
            except OSError:
                if address == host:
                    raise
                servers[shop] = ShopServer((host, port), app)  # no 127.0.0.2/3/5 here (not Linux)
    except BaseException:
        for server in servers.values():
            server.server_close()
        raise
    for shop, server in servers.items():
        threading.Thread(target=server.serve_forever, args=(0.05,), name=f"demo-{shop}", daemon=True).start()
    return servers


def _close(servers: dict[str, ShopServer]) -> None:
    for server in servers.values():
        server.shutdown()
        server.server_close()


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _controlled(
    seed: int, size: int, day: int, faults: bool, host: str, ports: dict[str, int], rates: FaultRates | None
) -> None:
    """The child's side: serve, report, and obey `day N` lines until `stop` or the end of input."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which then stops us
    try:
        state = DemoState(seed, size, day, faults, rates)
        servers = _bind(state, host, ports)
    except Exception as exc:
        _say({"error": f"{type(exc).__name__}: {exc}"})
        raise SystemExit(1) from exc
    _say({"urls": {shop: server.base_url for shop, server in servers.items()}, "faults": state.fault_ids()})
    try:
        for line in sys.stdin:
            words = line.split()
            if len(words) != 2 or words[0] != "day" or not words[1].isdigit():
                break
            try:
                state.set_day(int(words[1]))
                _say({"faults": state.fault_ids()})
            except Exception as exc:
                _say({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        _close(servers)


def _answers(url: str, timeout: float) -> None:
    """Wait until `url` answers; the opener ignores any proxy settings (the shops are on loopback)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while True:
        try:
            with opener.open(url, timeout=5) as response:
                response.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class ShopsHandle:
    """The running demo shops: their URLs, the ids of their faulty pages, and control over the day."""

    def __init__(
        self, process: subprocess.Popen[str], timeout: float, seed: int, size: int, day: int
    ) -> None:
        self._process = process
        self._lock = threading.Lock()
        self.seed, self.size, self.day = seed, size, day
        first = self._answer(timeout, "start")
        self.urls: dict[str, str] = first["urls"]
        self.faults: dict[str, dict[str, str]] = first["faults"]

    def _answer(self, timeout: float, doing: str) -> dict[str, Any]:
        stdout = self._process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], timeout)
        line = stdout.readline() if ready else None
        if line is None:
            raise TimeoutError(f"demo shops did not {doing} within {timeout:.0f} s")
        if not line:
            raise RuntimeError(f"demo shops exited (code {self._process.wait(5)}) instead of: {doing}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"demo shops could not {doing}: {answer['error']}")
        return answer

    def product_url(self, shop: str, item_id: str) -> str:
        """The page a person would open for an item (``demo.listing.product_path``)."""
        return self.urls[shop] + product_path(shop, item_id)

    def api_item_url(self, item_id: str) -> str:
        """The api shop's JSON detail URL for an item."""
        return self.urls["api"] + api_item_path(item_id)

    def set_day(self, day: int, timeout: float = 600.0) -> None:
        """Serve `day` from now on, on the same ports; returns when the new day is being served."""
        if day < 1:
            raise ValueError(f"day must be 1 or later, not {day}")
        with self._lock:
            stdin = self._process.stdin
            assert stdin is not None
            stdin.write(f"day {day}\n")
            stdin.flush()
            self.faults = self._answer(timeout, f"switch to day {day}")["faults"]
            self.day = day

    def stop(self) -> None:
        """Stop the shops and their process (safe to call twice)."""
        with self._lock:
            process = self._process
            if process.returncode is None:
                try:
                    assert process.stdin is not None
                    process.stdin.write("stop\n")
                    process.stdin.close()
                    process.wait(15)
                except (OSError, subprocess.TimeoutExpired):
                    process.kill()
                    process.wait(5)
            for stream in (process.stdin, process.stdout):
                if stream is not None and not stream.closed:
                    stream.close()

    def __enter__(self) -> ShopsHandle:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def start_shops(
    seed: int = 7,
    size: int = 40,
    day: int = 1,
    faults: bool = True,
    host: str = "127.0.0.1",
    ports: dict[str, int] | None = None,
    timeout: float | None = None,
    rates: FaultRates | None = None,
) -> ShopsHandle:
    """Start the shops in one child process; returns once every shop serves. ``rates``: fault
    modes at a rate (``demo.faults``), for drills."""
    command = [sys.executable, "-m", "demo.server", "--control", "--seed", str(seed), "--size", str(size)]
    command += ["--day", str(day), "--host", host] + ([] if faults else ["--no-faults"])
    if rates is not None:
        command += ["--fault-rates", json.dumps(rates.as_json())]
    for shop, port in (ports or {}).items():
        command += [f"--{shop}-port", str(port)]
    env = dict(os.environ)
    root = Path(__file__).resolve().parent.parent  # the folder this `demo` package was imported from
    if root != Path(sysconfig.get_path("purelib")).resolve():  # a source tree: the child imports it too
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8", env=env
    )
    try:
        handle = ShopsHandle(process, timeout if timeout is not None else 60.0 + size / 1000, seed, size, day)
        for url in handle.urls.values():
            _answers(f"{url}/robots.txt", 10.0)
        return handle
    except BaseException:
        process.kill()
        process.wait(5)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        raise


def serve_forever(
    seed: int = 7,
    size: int = 40,
    day: int = 1,
    ports: dict[str, int] | None = None,
    host: str = "127.0.0.1",
    faults: bool = True,
    rates: FaultRates | None = None,
) -> None:
    """Serve the shops in this process until interrupted (Ctrl-C or SIGTERM), printing their URLs.

    The handlers are installed here rather than relied on: a process started from a shell script's
    background job inherits SIGINT as ignored, and Python then installs no KeyboardInterrupt for it."""
    stop = threading.Event()
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in STOP_SIGNALS}
    servers: dict[str, ShopServer] = {}
    try:
        servers = _bind(DemoState(seed, size, day, faults, rates), host, ports)
        print(f"demo shops, seed {seed}, {size} listings a shop, day {day}:", flush=True)
        for shop, server in servers.items():
            print(f"  {shop:<8} {server.base_url}", flush=True)
        print("press Ctrl-C to stop", flush=True)
        stop.wait()
    finally:
        _close(servers)
        for number, handler in previous.items():
            signal.signal(number, handler)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the demo shops in the foreground (python -m demo.server --size N --day D)."""
    parser = argparse.ArgumentParser(prog="python -m demo.server", description=main.__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", type=int, default=40, help="listings per shop on day 1")
    parser.add_argument("--day", type=int, default=1)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--no-faults", action="store_true", help="no 503/429/404 fault pages")
    parser.add_argument("--fault-rates", help='fault modes at a rate, JSON: {"rate": 0.3, "calendar": true}')
    parser.add_argument("--control", action="store_true", help=argparse.SUPPRESS)
    for shop in SHOPS:
        parser.add_argument(f"--{shop}-port", type=int, default=0, help=f"port of the {shop} shop (0: any)")
    args = parser.parse_args(argv)
    ports = {shop: getattr(args, f"{shop}_port") for shop in SHOPS}
    rates = FaultRates.from_json(json.loads(args.fault_rates)) if args.fault_rates else None
    if args.control:
        _controlled(args.seed, args.size, args.day, not args.no_faults, args.host, ports, rates)
    else:
        serve_forever(args.seed, args.size, args.day, ports, args.host, not args.no_faults, rates)


if __name__ == "__main__":
    main()
