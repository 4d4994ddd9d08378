"""tisiwatch installs as a package: `pip install .` (not editable) into a fresh virtualenv, then, from
an empty folder elsewhere, `tisiwatch init` and `tisiwatch demo` work. Everything they read besides code
(the default register, site profiles, report templates, migrations, the demo catalogue) must come from
the installed package, never from the checkout."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def top_level() -> list[str]:
    """What pyproject.toml installs at the top: its modules, and the packages its patterns find here."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = (pattern.rstrip("*") for pattern in setuptools["packages"]["find"]["include"])
    return sorted(
        {*setuptools["py-modules"], *(name for name in found if (ROOT / name / "__init__.py").is_file())}
    )


PACKAGES = top_level()
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", "var", "demo-run"
)
# pip's words when the package index cannot be reached (then the test skips rather than fails)
UNREACHABLE = re.compile(
    r"NewConnectionError|Temporary failure in name resolution|Network is unreachable|Max retries exceeded"
    r"|ConnectTimeout|ReadTimeout|\(from versions: none\)"
)

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with `pip install .` done in it; its bin folder. The checkout is copied
    first (without its virtualenv and caches), so that pip's in-tree build writes its build/ folder
    there and a stale build/ of the checkout cannot add files to what is tested."""
    root = tmp_path_factory.mktemp("package")
    source, venv = root / "source", root / "venv"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)  # as checked out: symlinks stay
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--retries", "1", "--timeout", "20", "."]
    done = subprocess.run(install, cwd=source, env=env, capture_output=True, text=True, timeout=780)
    if done.returncode != 0:
        said = [line for line in (done.stdout + done.stderr).splitlines() if UNREACHABLE.search(line)]
        if said:
            pytest.skip(f"pip cannot reach the package index to install the dependencies: …{said[0][-120:]}")
        pytest.fail(f"pip install . failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return venv / "bin"


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A user's shell elsewhere: no PYTHON* variables (so nothing puts the checkout on sys.path), no
    TISIWATCH_ or PYTHAINLP_ settings, a home folder of its own (so PyThaiNLP finds no data but what
    its wheel bundles), PyThaiNLP read-only (it downloads nothing)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "TISIWATCH_", "PYTHAINLP_", "VIRTUAL_ENV"))
    }
    return {**env, "HOME": str(home), "PYTHAINLP_READ_ONLY": "1", "COLUMNS": "200"}


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_the_installed_package_is_imported_from_the_virtualenv(
    installed: Path, tmp_path: Path, user_env: dict[str, str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    script = (
        "import importlib, importlib.util, json, sysconfig\n"
        f"modules = {PACKAGES!r}\n"
        "print(json.dumps({'purelib': sysconfig.get_path('purelib'), 'data': importlib.util.find_spec('data')"
        " is not None, 'files': {name: importlib.import_module(name).__file__ for name in modules}}))\n"
    )
    found = json.loads(run([str(installed / "python"), "-c", script], empty, user_env).stdout)
    site = Path(found["purelib"])
    assert site.is_relative_to(installed.parent)
    for name, file in found["files"].items():
        assert Path(file).is_relative_to(site), f"{name} imported from {file}, not from the virtualenv"
        assert not Path(file).resolve().is_relative_to(ROOT), f"{name} imported from the checkout"
    assert not found["data"], "a top-level package `data` was installed (a name other projects use)"


def test_every_resource_of_the_packages_is_installed(installed: Path) -> None:
    """Each file of the packages that is not Python source is installed beside the modules that
    read it (the demo below exercises most of them; this names any one left out)."""
    site = Path(
        subprocess.run(
            [str(installed / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, check=True, env={"PATH": os.environ["PATH"]},
        ).stdout.strip()
    )  # fmt: skip
    resources = [
        path.relative_to(ROOT)
        for package in PACKAGES
        if (ROOT / package).is_dir()
        for path in (ROOT / package).rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    ]
    assert {"crawler", "matchers", "reports", "store", "demo", "cli", "config"} <= set(PACKAGES)
    assert Path("matchers/standards.csv") in resources
    assert Path("reports/templates/report.html.j2") in resources
    missing = [str(path) for path in resources if not (site / path).is_file()]
    assert not missing, f"not installed: {missing}"
    shipped = (site / "matchers" / "standards.csv").read_bytes()
    assert shipped == (ROOT / "data" / "standards.csv").read_bytes()


def test_init_and_demo_work_from_an_empty_folder(
    installed: Path, tmp_path: Path, user_env: dict[str, str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    tisiwatch = str(installed / "tisiwatch")

    init = run([tisiwatch, "init"], empty, user_env)
    assert "default register loaded: version 1, 149 standards" in init.stdout
    assert (empty / "var" / "tisiwatch.db").is_file()  # the built-in defaults: data in ./var
    info = run([tisiwatch, "info"], empty, user_env).stdout
    assert "none: built-in defaults" in info

    demo = run([tisiwatch, "demo"], empty, user_env)
    workdir = empty / "demo-run"
    assert f"report: {workdir / 'report' / 'report.html'}" in demo.stdout
    assert (workdir / "settings.toml").is_file()
    for name in ("report.html", "report.xlsx", "findings.csv", "findings.json"):
        assert (workdir / "report" / name).stat().st_size > 0, name
    with sqlite3.connect(workdir / "tisiwatch.db") as db:
        verdicts = dict(db.execute("SELECT verdict, count(*) FROM verdicts GROUP BY verdict").fetchall())
        sites = {name for (name,) in db.execute("SELECT name FROM sites")}
    assert sites == {"demo-html", "demo-api", "demo-browser", "demo-token", "demo-state"}  # browser ones too
    assert sum(verdicts.values()) == 200  # 40 listings on each of the five shops
    for verdict in ("not_controlled", "licensed", "no_licence_shown", "invalid_licence", "unsafe"):
        assert verdicts.get(verdict, 0) > 0, verdict
    findings = json.loads((workdir / "report" / "findings.json").read_text(encoding="utf-8"))
    assert findings["counts"]["listings"] == 200
    assert findings["counts"]["violations"] > 0

    shown = run([tisiwatch, "info"], workdir, user_env).stdout
    assert f"settings file   {workdir / 'settings.toml'}" in shown
    assert "listings        200 on 5 sites" in shown
