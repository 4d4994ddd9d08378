"""`tisiwatch serve` starts the workspace with one command, on the settings' database, and stops on a
signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from store.db import Store
from tests.web.conftest import free_port

TISIWATCH = Path(sys.executable).parent / "tisiwatch"


def test_serve_answers_and_stops(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tisiwatch.db'}")
    store.migrate()
    store.dispose()
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TISIWATCH_")}
    process = subprocess.Popen(
        [str(TISIWATCH), "--data-dir", str(tmp_path), "serve", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as answer:
                    assert answer.status == 200
                    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
                    assert "เข้าสู่ระบบ" in answer.read().decode()
                    break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                assert time.monotonic() < deadline, "the workspace did not start"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/queue", timeout=5) as answer:
            assert "/login?next=/queue" in answer.geturl(), (
                "the queue sends whoever is not signed in to sign in"
            )
    finally:
        process.send_signal(signal.SIGINT)
        _, problems = process.communicate(timeout=30)
    assert process.returncode == 0, problems.decode()


def test_serve_refuses_a_database_that_was_never_made(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TISIWATCH_")}
    result = subprocess.run(
        [str(TISIWATCH), "--data-dir", str(tmp_path / "nothing"), "serve", "--port", str(free_port())],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "tisiwatch init" in result.stderr
