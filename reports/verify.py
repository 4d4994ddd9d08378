"""Verifying an ETDA case file (``tisiwatch verify``): every file's SHA-256 against the signed manifest.

A case file comes from elsewhere, so nothing in it is trusted before it is checked, and nothing is
extracted: entries are read as streams and hashed, in bounded memory. Hostile archives (names that
escape or hide, symbolic links, duplicate names, zip bombs) are refused before anything is read
(:mod:`reports.archive`).

A case file that was unpacked and zipped again by ordinary tools is read as such: folder entries (a
name ending in ``/``, holding no data) are not files, and when ``manifest.json`` is not at the top of
the archive the one shallowest folder that holds it (``cases/``, or ``./`` as ``tar`` writes) is the
case file's root; anything outside it is extra. Then the signature of ``manifest.json`` is checked with
the public key in the file, the signer against the trusted keys (:mod:`reports.trust`) when any are
given, and each file against the manifest: altered, missing and extra files (and folders that hold no
file of the manifest) are each named.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.text import escaped
from reports.archive import Limits, safe_entries, unsafe_name
from reports.casefile import FORMAT, FORMAT_VERSION, MANIFEST, PUBLIC_KEY, SIGNATURE
from reports.signing import fingerprint, load_public, signature_holds
from reports.trust import TrustedKey

CHUNK = 1 << 16
EXIT_OK, EXIT_FAILED, EXIT_UNCHECKED = 0, 1, 3
LIMITS = Limits()
_OWN = (MANIFEST, SIGNATURE, PUBLIC_KEY)
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one file of the case file (or the case file itself)."""

    file: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.problem}"


@dataclass(slots=True)
class Verification:
    """The outcome of :func:`verify_casefile`. No problems means every hash and the signature hold (and,
    when trusted keys were given, the signer is one of them); ``signed_by`` names the trusted key that
    signed it, and is None when the signer was not checked."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    cases: int | None = None
    files: int = 0
    created_at: str | None = None
    key_fingerprint: str | None = None
    root: str = ""
    """The folder of the archive the case file's files are in ("" for its top)."""
    signed_by: TrustedKey | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        """0 when all holds and a trusted key signed it, 1 on any problem, 3 when the signer was not checked."""
        if self.problems:
            return EXIT_FAILED
        return EXIT_OK if self.signed_by is not None else EXIT_UNCHECKED

    def add(self, name: str, problem: str) -> None:
        self.problems.append(Problem(escaped(name, 200), problem))


def verify_casefile(
    path: Path, *, trusted: Sequence[TrustedKey] = (), limits: Limits = LIMITS
) -> Verification:
    """Check the case file at ``path``; it must be signed by one of ``trusted``, when any are given."""
    result = Verification(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
        result.add(
            path.name, f"not a readable ZIP file ({exc.strerror if isinstance(exc, OSError) else exc})"
        )
        return result
    with archive:
        entries = safe_entries(archive, result.path.name, limits, result.add)
        if entries is None:
            return result
        root = _root([info.orig_filename for info in archive.infolist()], result)
        if root is None:
            return result
        result.root = root
        body = _read(archive, entries, root + MANIFEST, limits.manifest_bytes, result)
        if body is None:
            return result
        manifest = _manifest(body, result)
        _signature(archive, entries, body, manifest, trusted, result)
        if manifest is not None:
            listed = _listed(manifest, result)
            if listed is not None:
                _files(archive, entries, listed, result)
    return result


def _root(names: list[str], result: Verification) -> str | None:
    """The folder that holds the case file: the top, or else the one shallowest folder that holds a
    manifest.json (the case file was unpacked and zipped again as a folder); None if there is none."""
    if MANIFEST in names:
        return ""
    depths: dict[int, list[str]] = {}
    for name in names:
        if name.endswith("/" + MANIFEST):
            depths.setdefault(name.count("/"), []).append(name[: -len(MANIFEST)])
    if not depths:
        result.add(MANIFEST, "missing")
        return None
    folders = sorted(set(depths[min(depths)]))
    if len(folders) > 1:
        several = ", ".join(escaped(folder, 60) for folder in folders[:5])
        result.add(
            MANIFEST,
            f"missing at the top of the archive and found in more than one folder ({several}): "
            "which is the case file?",
        )
        return None
    return folders[0]


def _folders(paths: Iterable[str]) -> set[str]:
    """Every folder that holds one of ``paths``, as ``a/``, ``a/b/``."""
    folders: set[str] = set()
    for path in paths:
        parts = path.split("/")[:-1]
        folders.update("/".join(parts[:end]) + "/" for end in range(1, len(parts) + 1))
    return folders


def _read(
    archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], name: str, limit: int, result: Verification
) -> bytes | None:
    """A small entry's bytes; None (and a problem) if it is missing, too large or unreadable."""
    info = entries.get(name)
    if info is None:
        if name not in {problem.file for problem in result.problems}:
            result.add(name, "missing")
        return None
    if info.file_size > limit:
        result.add(name, f"declares {info.file_size:,} bytes, more than {limit:,}: refused")
        return None
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        result.add(name, f"cannot be read ({exc})")
        return None


def _manifest(body: bytes, result: Verification) -> dict[str, Any] | None:
    """The manifest, if it is one of a format this version reads."""
    try:
        manifest: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        result.add(result.root + MANIFEST, f"not valid JSON ({exc})")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        result.add(result.root + MANIFEST, f"not a manifest of format {FORMAT!r}")
        return None
    if manifest.get("format_version") != FORMAT_VERSION:
        version = escaped(repr(manifest.get("format_version")), 40)
        result.add(
            result.root + MANIFEST, f"format version {version}; this tisiwatch reads version {FORMAT_VERSION}"
        )
        return None
    result.cases = manifest["cases"] if isinstance(manifest.get("cases"), int) else None
    result.created_at = escaped(str(manifest.get("created_at")), 40)
    return manifest


def _listed(manifest: dict[str, Any], result: Verification) -> dict[str, tuple[str, int]] | None:
    """The files the manifest lists, path → (SHA-256, size); None if the list cannot be used."""
    files = manifest.get("files")
    if not isinstance(files, list):
        result.add(result.root + MANIFEST, "no list of files")
        return None
    listed: dict[str, tuple[str, int]] = {}
    for item in files:
        values = [item.get(key) for key in ("path", "sha256", "size")] if isinstance(item, dict) else []
        match values:
            case [str(path), str(digest), int(size)] if _SHA256.fullmatch(digest):
                pass
            case _:
                result.add(
                    result.root + MANIFEST,
                    f"a file entry that is not a path, SHA-256 and size: {escaped(repr(item), 80)}",
                )
                return None
        reason = unsafe_name(path) or ("listed twice" if path in listed else None)
        if path.endswith("/"):
            reason = "a folder, not a file"
        if path in {MANIFEST, SIGNATURE, PUBLIC_KEY}:
            reason = "the manifest cannot list itself, its signature or its key"
        if reason is not None:
            result.add(result.root + MANIFEST, f"lists {escaped(path, 200)!r}: {reason}")
            return None
        listed[path] = (digest, size)
    result.files = len(listed)
    return listed


def _signature(
    archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], body: bytes, manifest: dict[str, Any] | None,
    trusted: Sequence[TrustedKey], result: Verification,
) -> None:  # fmt: skip
    """The signature of manifest.json under the key in the archive, the key the manifest names, and
    the signer among the trusted keys."""
    signature = _read(archive, entries, result.root + SIGNATURE, 1024, result)
    pem = _read(archive, entries, result.root + PUBLIC_KEY, 16 << 10, result)
    if signature is None or pem is None:
        return
    try:
        key = load_public(pem)
    except ValueError as exc:
        result.add(result.root + PUBLIC_KEY, f"not an Ed25519 public key ({exc})")
        return
    signer = result.key_fingerprint = fingerprint(key)
    if not signature_holds(key, body, signature):
        result.add(
            result.root + SIGNATURE,
            "does not match manifest.json under the public key: altered or signed by another key",
        )
        return
    named = ((manifest or {}).get("signature") or {}).get("key_fingerprint")
    if isinstance(named, str) and named != signer:
        result.add(result.root + PUBLIC_KEY, f"is not the key the manifest names ({escaped(named, 70)})")
    if trusted:
        result.signed_by = next((known for known in trusted if known.fingerprint == signer), None)
        if result.signed_by is None:
            keys = "; ".join(f"{escaped(known.name, 64)} {known.fingerprint}" for known in trusted)
            result.add(
                result.root + PUBLIC_KEY, f"signed by key {signer}, which is not a trusted key ({keys})"
            )


def _files(
    archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], listed: dict[str, tuple[str, int]],
    result: Verification,
) -> None:  # fmt: skip
    """Every entry against the manifest: altered, extra and missing files, and folders that hold none."""
    refused = {problem.file for problem in result.problems}
    root = result.root
    folders = _folders(root + path for path in [*listed, *_OWN])
    for name, info in entries.items():
        path = name[len(root) :] if name.startswith(root) else None
        if name.endswith("/"):
            if name not in folders and name != root:
                result.add(name, "extra: a folder that holds no file of the manifest")
            continue
        if path in _OWN:
            continue
        if path is None or path not in listed:
            result.add(name, "extra: in the archive, not in the manifest")
            continue
        digest, size = hashlib.sha256(), 0
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
            result.add(name, f"cannot be read ({exc})")
            continue
        if (digest.hexdigest(), size) != listed[path]:
            result.add(name, "altered: its SHA-256 is not the one in the manifest")
    for path in sorted(set(listed) - {name[len(root) :] for name in entries if name.startswith(root)}):
        if escaped(root + path, 200) not in refused:
            result.add(root + path, "missing: listed in the manifest, not in the archive")


def summary(result: Verification) -> list[str]:
    """What ``tisiwatch verify`` prints: a FAILED line per problem; OK and who signed it; or, when no
    trusted key could check the signer, that it was NOT checked and the fingerprint to compare."""
    if result.problems:
        return [f"FAILED {problem}" for problem in result.problems]
    holds = (
        f"{escaped(result.path.name, 200)}: {result.cases} cases, {result.files} files; "
        "every hash and the signature hold"
    )
    if result.signed_by is not None:
        lines = [
            f"OK {holds}; signed by {escaped(result.signed_by.name, 64)} (fingerprint {result.key_fingerprint})"
        ]
    else:
        lines = [
            f"SIGNER NOT CHECKED {holds}, but who signed it was NOT checked: there is no trusted key to "
            "compare the signing key with.",
            f"signing key fingerprint (SHA-256): {result.key_fingerprint}",
            "Compare it with the fingerprint the sender gave you by another channel (telephone, letter). "
            "If they are the same, trust the sender's public key file once: "
            "tisiwatch keys trust FILE --name NAME",
        ]
    if result.root:
        lines.append(
            f"(the case file is in the folder {escaped(result.root, 80)} of the archive: it was unpacked and zipped again)"
        )
    return lines
