"""The one-way data flow: a stage never imports a later one, and core/ imports no stage and not the store."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "core": {"store", "crawler", "matchers", "reports", "cli", "scheduler", "demo", "web"},
    "store": {"crawler", "matchers", "reports", "cli", "scheduler", "demo", "web"},
    "crawler": {"matchers", "reports", "cli", "scheduler", "web"},
    "matchers": {"reports", "crawler", "cli", "scheduler", "web"},
    "reports": {"crawler", "matchers", "cli", "scheduler", "web"},
    "web": {"crawler", "cli", "scheduler", "demo"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_stage_does_not_import_a_later_stage(stage: str) -> None:
    files = sorted((ROOT / stage).rglob("*.py"))
    assert files, f"{stage}/ has no modules"
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_packages(path) & FORBIDDEN[stage]
    }
    assert not offenders


def test_the_checker_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import reports.daily\nfrom matchers.verdict import Judge\nfrom . import local\n")
    assert imported_packages(sample) == {"reports", "matchers"}
