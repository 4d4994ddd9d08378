"""Running the demo shops: in the foreground (`python -m demo.server`), and errors when they cannot start."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

import pytest

from demo.listing import SHOPS
from demo.server import ShopsHandle, start_shops

Get = Callable[[str], Any]


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("number", "sigint_ignored"),
    [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c", "ctrl-c-from-a-background-job", "sigterm"],
)
def test_python_m_demo_server_serves_until_interrupted(get: Get, number: int, sigint_ignored: bool) -> None:
    """A shell script's background job starts its commands with SIGINT ignored: the server still stops."""
    command = [sys.executable, "-m", "demo.server", "--size", "30", "--day", "2", "--no-faults"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        preexec_fn=_ignore_sigint if sigint_ignored else None,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2 + len(SHOPS))]
        urls = dict(re.findall(r"^\s+(\w+)\s+(http://\S+)$", "".join(lines), re.MULTILINE))
        assert set(urls) == set(SHOPS)
        assert "day 2" in lines[0]
        assert get(f"{urls['api']}/api/search?q=&limit=1").json()["total"] > 0
    finally:
        process.send_signal(number)
        try:
            code = process.wait(60)  # generous: a loaded CI machine is slow to stop four servers
        except subprocess.TimeoutExpired:
            process.kill()  # leave no process behind to warn in a later test
            process.wait(10)
            raise
        finally:
            if process.stdout is not None:
                process.stdout.close()
    assert code == 0
    with pytest.raises(URLError, match="refused"):
        get(f"{urls['html']}/robots.txt")


def test_a_port_in_use_is_an_error_that_names_it(shops: ShopsHandle) -> None:
    port = int(shops.urls["html"].rsplit(":", 1)[1])
    with pytest.raises(RuntimeError, match="could not start"):
        start_shops(size=30, ports={"html": port}, timeout=30)


def test_stop_is_idempotent(get: Get) -> None:
    handle = start_shops(size=30, faults=False)
    url = handle.urls["html"]
    assert get(f"{url}/robots.txt").status == 200
    handle.stop()
    handle.stop()
    with pytest.raises(URLError, match="refused"):
        get(f"{url}/robots.txt")
