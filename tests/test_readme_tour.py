"""The README's tour works as written on the demo's data: `tisiwatch demo`, then every command of the
tour, in the demo's folder, through the installed `tisiwatch` command."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TISIWATCH = Path(sys.executable).parent / "tisiwatch"
SECOND_TERMINAL = "in a second terminal"


def tour() -> list[tuple[list[str], bool]]:
    """The tour's commands as (arguments, whether it runs in a second terminal), in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A tour of the commands", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            if line.startswith("tisiwatch "):
                commands.append((shlex.split(line, comments=True), SECOND_TERMINAL in line))
    return commands


def test_the_tour_is_found_and_starts_in_the_demo_folder() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "cd demo-run\ntisiwatch info" in text
    commands = [args for args, _ in tour()]
    assert ["tisiwatch", "info"] in commands
    assert ["tisiwatch", "demo", "serve"] in commands
    assert len(commands) >= 12


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A user's environment: no TISIWATCH_ settings, a home folder of its own (for ~/...)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TISIWATCH_")}
    return {**env, "HOME": str(home), "PYTHAINLP_READ_ONLY": "1", "COLUMNS": "120"}


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`tisiwatch ARGS` as a shell runs it: ``~`` is the home folder."""
    args = [env["HOME"] + arg[1:] if arg.startswith("~/") else arg for arg in args]
    return subprocess.run([str(TISIWATCH), *args[1:]], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=240)  # fmt: skip


@pytest.fixture
def demo_run(tmp_path: Path, env: dict[str, str]) -> Path:
    done = _run(["tisiwatch", "demo", "--workdir", "demo-run"], tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "elsewhere this time" not in done.stdout, (
        "the demo profiles' addresses were taken: cannot re-check"
    )
    return tmp_path / "demo-run"


def _wait_for_shops(process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "demo serve ended"
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                "http://127.0.0.1:8701/robots.txt", timeout=2
            ):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("the demo shops did not start")


@pytest.mark.slow
@pytest.mark.browser
def test_every_command_of_the_tour_works_as_written(demo_run: Path, env: dict[str, str]) -> None:
    background: list[subprocess.Popen[str]] = []
    outputs: dict[str, str] = {}
    try:
        for args, elsewhere in tour():
            if elsewhere:
                process = subprocess.Popen([str(TISIWATCH), *args[1:]], cwd=demo_run, env=env, text=True,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
                background.append(process)
                _wait_for_shops(process)
                continue
            done = _run(args, demo_run, env)
            said = " ".join(args)
            assert done.returncode == 0, f"{said}:\n{done.stdout}{done.stderr}"
            assert "Traceback" not in done.stderr, said
            outputs[" ".join(args[1:4])] = done.stdout
    finally:
        for process in background:
            process.terminate()
            process.wait(30)
    assert f"data directory  {demo_run.resolve()}" in outputs["info"]
    assert f"settings file   {demo_run / 'settings.toml'}" in outputs["info"]
    assert "unsafe list" in outputs["register show"]
    assert "demo-browser" in outputs["runs"]
    assert "demo-state" in outputs["runs"]
    home = Path(env["HOME"])
    assert (home / "tisiwatch-reports" / "today" / "report.html").stat().st_size > 0
    assert outputs["verify ~/tisiwatch-reports/cases.zip"].startswith("OK")
    assert outputs["crawl demo-html --query"].startswith("demo-html: run 6 finished")
    assert outputs["crawl demo-html --recheck"].startswith("demo-html: run 7 finished — 40 listings")
    assert not (demo_run.parent / "var").exists(), "nothing fell back to a var/ beside the demo's folder"
