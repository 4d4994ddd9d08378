"""``verify`` of a case file that was unpacked and zipped again with ordinary tools (Info-ZIP's ``zip``,
Python's ``shutil.make_archive``, ``tar``'s ``./`` names): folder entries and one enclosing folder are
accepted, while an extra, missing or altered file is still named and hostile entries stay refused."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from config import Settings
from reports.casefile import case_id, export_cases
from reports.verify import verify_casefile
from store.db import Store
from tests.reports.test_casefile import scenario

P1 = f"evidence/{case_id('shop-a:p1')}/"


@pytest.fixture
def unpacked(sqlite_store: Store, settings: Settings, tmp_path: Path) -> Path:
    """The case file unpacked by ``unzip`` into ``work/cases/``."""
    scenario(sqlite_store, settings.data_dir)
    export_cases(sqlite_store, settings, out=tmp_path / "cases.zip", all_violations=True)
    folder = tmp_path / "work" / "cases"
    folder.mkdir(parents=True)
    subprocess.run(["unzip", "-q", str(tmp_path / "cases.zip"), "-d", str(folder)], check=True)
    return folder


def zip_contents(folder: Path) -> Path:
    """``cd folder && zip -r ../x.zip .``: the files at the top, with folder entries."""
    subprocess.run(["zip", "-q", "-r", "../contents.zip", "."], cwd=folder, check=True)
    return folder.parent / "contents.zip"


def zip_folder(folder: Path) -> Path:
    """``zip -r x.zip cases``: every entry under ``cases/``, the folder's own entry first."""
    subprocess.run(["zip", "-q", "-r", "folder.zip", folder.name], cwd=folder.parent, check=True)
    return folder.parent / "folder.zip"


def make_archive_contents(folder: Path) -> Path:
    return Path(shutil.make_archive(str(folder.parent / "made"), "zip", root_dir=folder))


def make_archive_folder(folder: Path) -> Path:
    made = shutil.make_archive(str(folder.parent / "made-folder"), "zip", folder.parent, folder.name)
    return Path(made)


def dot_slash(folder: Path) -> Path:
    """``tar -a -cf x.zip .`` (bsdtar, as on Windows and macOS): every name starts with ``./``."""
    target = folder.parent / "dot.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("./", b"")
        for path in sorted(folder.rglob("*")):
            name = "./" + path.relative_to(folder).as_posix()
            if path.is_dir():
                archive.writestr(name + "/", b"")
            else:  # writestr: write() would take the "./" off
                archive.writestr(name, path.read_bytes())
    return target


REZIP: list[Callable[[Path], Path]] = [
    zip_contents, zip_folder, make_archive_contents, make_archive_folder, dot_slash,
]  # fmt: skip


@pytest.mark.parametrize("rezip", REZIP, ids=lambda rezip: rezip.__name__)
def test_a_case_file_zipped_again_verifies(unpacked: Path, rezip: Callable[[Path], Path]) -> None:
    again = rezip(unpacked)
    with zipfile.ZipFile(again) as archive:
        assert any(info.is_dir() for info in archive.infolist())  # folder entries, as the tools write
    result = verify_casefile(again)
    assert result.problems == []
    assert result.cases == 7
    assert result.files == len([path for path in unpacked.rglob("*") if path.is_file()]) - 3


def test_the_folder_it_was_read_from_is_known(unpacked: Path) -> None:
    assert verify_casefile(zip_folder(unpacked)).root == "cases/"
    assert verify_casefile(zip_contents(unpacked)).root == ""
    assert verify_casefile(dot_slash(unpacked)).root == "./"


@pytest.mark.parametrize("rezip", [zip_contents, zip_folder], ids=lambda rezip: rezip.__name__)
def test_changes_made_before_zipping_again_are_named(unpacked: Path, rezip: Callable[[Path], Path]) -> None:
    listing = unpacked / P1 / "listing.json"
    listing.write_bytes(listing.read_bytes().replace(b"p1", b"p9"))
    (unpacked / P1 / "capture.warc.gz").unlink()
    (unpacked / P1 / "note.txt").write_text("added later")
    (unpacked / "evidence" / "empty").mkdir()
    prefix = "cases/" if rezip is zip_folder else ""
    assert sorted(str(problem) for problem in verify_casefile(rezip(unpacked)).problems) == [
        f"{prefix}{P1}capture.warc.gz: missing: listed in the manifest, not in the archive",
        f"{prefix}{P1}listing.json: altered: its SHA-256 is not the one in the manifest",
        f"{prefix}{P1}note.txt: extra: in the archive, not in the manifest",
        f"{prefix}evidence/empty/: extra: a folder that holds no file of the manifest",
    ]


def test_a_file_beside_the_folder_is_named(unpacked: Path) -> None:
    (unpacked.parent / "note.txt").write_text("beside the case file's folder")
    subprocess.run(["zip", "-q", "-r", "beside.zip", "cases", "note.txt"], cwd=unpacked.parent, check=True)
    problems = [str(problem) for problem in verify_casefile(unpacked.parent / "beside.zip").problems]
    assert problems == ["note.txt: extra: in the archive, not in the manifest"]


def test_two_folders_with_a_manifest_are_not_guessed_between(unpacked: Path) -> None:
    shutil.copytree(unpacked, unpacked.parent / "copy")
    subprocess.run(["zip", "-q", "-r", "two.zip", "cases", "copy"], cwd=unpacked.parent, check=True)
    [problem] = verify_casefile(unpacked.parent / "two.zip").problems
    assert str(problem) == (
        "manifest.json: missing at the top of the archive and found in more than one folder "
        "(cases/, copy/): which is the case file?"
    )


def test_a_folder_entry_that_holds_data_is_refused(unpacked: Path) -> None:
    again = zip_folder(unpacked)
    with zipfile.ZipFile(again, "a") as archive:
        archive.writestr(zipfile.ZipInfo("cases/hidden/"), b"data behind a folder's name")
    assert [str(problem) for problem in verify_casefile(again).problems] == [
        "cases/hidden/: refused: a folder entry that holds data"
    ]


def test_hostile_entries_in_a_zipped_again_file_stay_refused(unpacked: Path) -> None:
    (unpacked / P1 / "link").symlink_to("/etc/passwd")
    subprocess.run(["zip", "-q", "-r", "-y", "hostile.zip", "cases"], cwd=unpacked.parent, check=True)
    hostile = unpacked.parent / "hostile.zip"
    with zipfile.ZipFile(hostile, "a") as archive:
        archive.writestr("cases/../evil.sh", b"#!/bin/sh\n")
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("cases/cases.csv", b"a second cases.csv")
    assert sorted(str(problem) for problem in verify_casefile(hostile).problems) == [
        "cases/../evil.sh: refused: a path that climbs out with '..'",
        "cases/cases.csv: refused: the name appears more than once in the archive",
        f"cases/{P1}link: refused: a symbolic link",
    ]


def test_problems_of_the_manifest_name_it_in_its_folder(unpacked: Path) -> None:
    (unpacked / "manifest.json").write_text("{not json")
    problems = [str(problem) for problem in verify_casefile(zip_folder(unpacked)).problems]
    assert [problem.split(": ")[0] for problem in problems] == ["cases/manifest.json", "cases/manifest.sig"]
    assert problems[0].startswith("cases/manifest.json: not valid JSON (")
