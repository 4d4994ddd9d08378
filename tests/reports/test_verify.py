"""``verify``: a case file as exported checks out; every change to it is named, file by file, and
archives that try to escape, hide or explode are refused unread."""

from __future__ import annotations

import hashlib
import json
import stat
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

import cli
from config import Settings
from reports.casefile import case_id, export_cases
from reports.signing import PUBLIC_KEY as PUBLIC_KEY_FILE
from reports.signing import fingerprint, load_public
from reports.trust import TrustedKey
from reports.verify import Limits, verify_casefile
from store.db import Store
from tests.reports.test_casefile import scenario

P1 = f"evidence/{case_id('shop-a:p1')}/"


def rewrite(
    source: Path,
    *,
    change: dict[str, Callable[[bytes], bytes]] | None = None,
    drop: tuple[str, ...] = (),
    add: tuple[tuple[str | zipfile.ZipInfo, bytes], ...] = (),
) -> Path:
    """A copy of the case file with entries changed, dropped or added (in that order)."""
    target = source.with_name(f"changed-{source.name}")
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename not in drop:
                data = old.read(info)
                new.writestr(info, (change or {}).get(info.filename, lambda same: same)(data))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": wanted here
            for name, data in add:
                new.writestr(name, data)
    return target


DEFAULT_LIMITS = Limits()


def problems(
    path: Path, *, trusted: tuple[TrustedKey, ...] = (), limits: Limits = DEFAULT_LIMITS
) -> list[str]:
    return [str(problem) for problem in verify_casefile(path, trusted=trusted, limits=limits).problems]


def test_a_case_file_as_exported_verifies(any_store: Store, settings: Settings, tmp_path: Path) -> None:
    scenario(any_store, settings.data_dir)
    summary = export_cases(any_store, settings, out=tmp_path / "cases.zip", all_violations=True)
    result = verify_casefile(tmp_path / "cases.zip")
    assert result.ok, result.problems
    assert result.cases == summary.cases == 7
    assert result.files == summary.files
    assert result.key_fingerprint == summary.key_fingerprint
    expected = TrustedKey("TISI", load_public((settings.data_dir / "keys" / PUBLIC_KEY_FILE).read_bytes()))
    checked = verify_casefile(tmp_path / "cases.zip", trusted=[expected])
    assert checked.ok
    assert checked.signed_by == expected


def test_an_altered_file_is_named(case_file: Path) -> None:
    altered = rewrite(case_file, change={P1 + "listing.json": lambda data: data.replace(b"p1", b"p9")})
    assert problems(altered) == [f"{P1}listing.json: altered: its SHA-256 is not the one in the manifest"]


def test_a_missing_file_is_named(case_file: Path) -> None:
    missing = rewrite(case_file, drop=(P1 + "capture.warc.gz",))
    assert problems(missing) == [f"{P1}capture.warc.gz: missing: listed in the manifest, not in the archive"]


def test_an_extra_file_is_named(case_file: Path) -> None:
    extra = rewrite(case_file, add=((P1 + "note.txt", b"added later"),))
    assert problems(extra) == [f"{P1}note.txt: extra: in the archive, not in the manifest"]


def test_several_changes_are_all_named(case_file: Path) -> None:
    changed = rewrite(
        case_file,
        change={"cases.csv": lambda data: data + b"x"},
        drop=(P1 + "listing.json",),
        add=(("cases.txt", b"x"),),
    )
    assert sorted(problem.split(":")[0] for problem in problems(changed)) == [
        "cases.csv", "cases.txt", P1 + "listing.json",
    ]  # fmt: skip


def test_a_changed_manifest_breaks_the_signature(case_file: Path) -> None:
    """Altering a file and its hash in the manifest is caught by the signature."""
    with zipfile.ZipFile(case_file) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    for item in manifest["files"]:
        if item["path"] == "cases.csv":
            item["sha256"] = hashlib.sha256(b"forged").hexdigest()
            item["size"] = 6
    forged = rewrite(
        case_file,
        change={"cases.csv": lambda _: b"forged", "manifest.json": lambda _: json.dumps(manifest).encode()},
    )
    assert problems(forged) == [
        "manifest.sig: does not match manifest.json under the public key: altered or signed by another key"
    ]


def test_a_broken_signature_is_named(case_file: Path) -> None:
    broken = rewrite(case_file, change={"manifest.sig": lambda sig: bytes(64)})
    assert [problem.split(":")[0] for problem in problems(broken)] == ["manifest.sig"]
    unsigned = rewrite(case_file, drop=("manifest.sig",))
    assert problems(unsigned) == ["manifest.sig: missing"]


def test_a_file_re_signed_with_another_key_fails_against_a_trusted_key(case_file: Path) -> None:
    with zipfile.ZipFile(case_file) as archive:
        genuine = archive.read("public_key.pem")
        manifest = json.loads(archive.read("manifest.json"))
    other = Ed25519PrivateKey.generate()
    other_pem = other.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # a forger who only swaps the key and the signature: the manifest still names the genuine key
    body = json.dumps(manifest).encode()
    swapped = rewrite(
        case_file,
        change={
            "manifest.json": lambda _: body,
            "manifest.sig": lambda _: other.sign(body),
            "public_key.pem": lambda _: other_pem,
        },
    )
    assert [problem.split(":")[0] for problem in problems(swapped)] == ["public_key.pem"]
    # one who also names the new key in the manifest: only a key the receiver trusts catches it
    manifest["signature"]["key_fingerprint"] = fingerprint(other.public_key())
    body = json.dumps(manifest).encode()
    resigned = rewrite(
        case_file,
        change={
            "manifest.json": lambda _: body,
            "manifest.sig": lambda _: other.sign(body),
            "public_key.pem": lambda _: other_pem,
        },
    )
    unchecked = verify_casefile(resigned)
    assert (unchecked.problems, unchecked.signed_by, unchecked.exit_code) == ([], None, 3)
    tisi = TrustedKey("TISI", load_public(genuine))
    assert problems(resigned, trusted=(tisi,)) == [
        f"public_key.pem: signed by key {fingerprint(other.public_key())}, which is not a trusted key "
        f"(TISI {tisi.fingerprint})"
    ]


@pytest.mark.parametrize(
    "name",
    [
        "../evil.sh",
        "evidence/../../evil.sh",
        "/etc/cron.d/evil",
        "evidence\\..\\..\\evil.bat",
        "C:/Windows/evil.bat",
        "evidence/\u202eexe.txt",
        "evidence/tab\there",
    ],
)
def test_entry_names_that_could_escape_or_hide_are_refused(case_file: Path, name: str) -> None:
    hostile = rewrite(case_file, add=((zipfile.ZipInfo(name), b"#!/bin/sh\nrm -rf /\n"),))
    [problem] = verify_casefile(hostile).problems
    assert problem.problem.startswith("refused: ")
    assert "\u202e" not in problem.file
    assert "\t" not in problem.file


def test_a_manifest_that_lists_a_path_outside_is_refused(case_file: Path) -> None:
    with zipfile.ZipFile(case_file) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    manifest["files"].append({"path": "../../etc/passwd", "sha256": "0" * 64, "size": 1})
    changed = rewrite(case_file, change={"manifest.json": lambda _: json.dumps(manifest).encode()})
    found = problems(changed)
    assert "manifest.json: lists '../../etc/passwd': a path that climbs out with '..'" in found
    assert any(problem.startswith("manifest.sig:") for problem in found)


def test_a_name_that_appears_twice_is_refused(case_file: Path) -> None:
    twice = rewrite(case_file, add=(("cases.csv", b"a second cases.csv"),))
    assert problems(twice) == ["cases.csv: refused: the name appears more than once in the archive"]


def test_a_symbolic_link_is_refused(case_file: Path) -> None:
    link = zipfile.ZipInfo(P1 + "link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    linked = rewrite(case_file, add=((link, b"/etc/passwd"),))
    assert problems(linked) == [f"{P1}link: refused: a symbolic link"]


def test_a_zip_bomb_is_refused_unread(case_file: Path) -> None:
    [problem] = problems(case_file, limits=Limits(total_bytes=1000))
    assert problem.startswith("cases.zip: declares more than 1,000 bytes in all: refused unread")
    [problem] = problems(case_file, limits=Limits(entries=3))
    assert "entries, more than 3" in problem
    bomb = rewrite(case_file, add=((P1 + "bomb", bytes(20 << 20)),))
    assert problems(bomb, limits=Limits(entry_bytes=10 << 20)) == [
        f"{P1}bomb: refused: declares 20,971,520 bytes, more than 10,485,760"
    ]
    packed = zipfile.ZipInfo(P1 + "packed")
    packed.compress_type = zipfile.ZIP_BZIP2  # bzip2 expands far beyond deflate's 1,032:1
    other = rewrite(case_file, add=((packed, bytes(1000)),))
    assert problems(other) == [f"{P1}packed: refused: compression method 12, not stored or deflate"]


def test_an_entry_is_never_read_past_the_size_it_declares(case_file: Path) -> None:
    """A directory that understates an entry's size: reading stops there and the entry fails its CRC."""
    lying = rewrite(case_file, change={P1 + "listing.json": lambda _: bytes(10 << 20)})
    data = bytearray(lying.read_bytes())
    name = (P1 + "listing.json").encode()
    central = data.rindex(name) - 46  # its central directory record: 46 bytes, then the name
    assert data[central : central + 4] == b"PK\x01\x02"
    struct.pack_into("<I", data, central + 24, 1000)  # uncompressed size: 1,000 bytes
    lying.write_bytes(bytes(data))
    [problem] = problems(lying)
    assert problem.startswith(f"{P1}listing.json: cannot be read (Bad CRC-32")


def test_entries_that_overlap_are_refused(tmp_path: Path) -> None:
    """Two directory entries pointing at the same data (how the largest zip bombs are built)."""
    path = tmp_path / "overlap.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("aa", b"first")
        archive.writestr("bb", b"other")
    data = bytearray(path.read_bytes())
    second = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4)  # its central directory record
    struct.pack_into("<I", data, second + 42, 0)  # the second entry's local header offset: the first one's
    path.write_bytes(bytes(data))
    [problem] = problems(path)
    assert problem.startswith("aa: overlaps another entry") or problem.startswith(
        "bb: overlaps another entry"
    )


def test_what_is_not_a_case_file_is_said_so(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    assert problems(junk) == ["junk.zip: not a readable ZIP file (File is not a zip file)"]
    assert problems(tmp_path / "absent.zip") == [
        "absent.zip: not a readable ZIP file (No such file or directory)"
    ]
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    assert problems(empty) == ["manifest.json: missing"]


def test_verify_through_the_cli(case_file: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "state", cli.State())
    runner = CliRunner()
    tisiwatch = ["--data-dir", str(settings.data_dir), "verify"]
    result = runner.invoke(cli.app, [*tisiwatch, str(case_file)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK cases.zip: 7 cases")
    key = settings.data_dir / "keys" / PUBLIC_KEY_FILE
    assert runner.invoke(cli.app, [*tisiwatch, str(case_file), "--key", str(key)]).exit_code == 0
    stranger = case_file.with_name("stranger.pem")
    stranger.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    result = runner.invoke(cli.app, [*tisiwatch, str(case_file), "--key", str(stranger)])
    assert result.exit_code == 1
    assert "FAILED public_key.pem: signed by key" in result.output
    hostile = rewrite(case_file, add=(("../[bold]evil[/bold]", b"x"),))
    result = runner.invoke(cli.app, [*tisiwatch, str(hostile)])
    assert result.exit_code == 1
    assert "FAILED ../[bold]evil[/bold]: refused: a path that climbs out with '..'" in result.output
