"""Verifying an ETDA case file (``tisiwatch verify``): every file's SHA-256 against the signed manifest.

A case file comes from elsewhere, so nothing in it is trusted before it is checked, and nothing is
extracted: entries are read as streams and hashed, in bounded memory. Refused before anything is read:
entry names that are absolute, climb out with ``..``, hold a backslash or control characters, or appear
twice; symbolic links; entries that overlap (the trick of the largest zip bombs), declare more than
:class:`Limits` allow, or use a compression method other than stored or deflate (deflate expands
1,032:1 at most, and no entry is read past the size it declares: zipfile stops there and checks the
CRC). Then the signature of ``manifest.json`` is checked with the public key in the file (and, when
given, against the key the receiver expects), and each file against the manifest: altered, missing and
extra files are each named.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from reports.casefile import FORMAT, FORMAT_VERSION, MANIFEST, PUBLIC_KEY, SIGNATURE
from reports.signing import fingerprint, load_public, signature_holds

CHUNK = 1 << 16
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}  # deflate expands 1,032:1 at most; others more
_LOCAL_HEADER = 30  # bytes before the name in a ZIP local file header
_SHA256 = re.compile(r"[0-9a-f]{64}")
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class Limits:
    """What a case file may declare before it is refused unread (uncompressed sizes)."""

    entries: int = 1_000_000
    total_bytes: int = 64 << 30
    entry_bytes: int = 16 << 30
    manifest_bytes: int = 256 << 20


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one file of the case file (or the case file itself)."""

    file: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.problem}"


@dataclass(slots=True)
class Verification:
    """The outcome of :func:`verify_casefile`: no problems means every hash and the signature hold."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    cases: int | None = None
    files: int = 0
    created_at: str | None = None
    key_fingerprint: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, name: str, problem: str) -> None:
        self.problems.append(Problem(shown(name), problem))


def shown(name: str, limit: int = 200) -> str:
    """A name from the archive as it may be printed: invisible characters as ``\\u`` escapes, cut short."""
    text = _INVISIBLE.sub(lambda match: f"\\u{ord(match.group()):04x}", name)
    return text if len(text) <= limit else text[:limit] + "…"


def unsafe_name(name: str) -> str | None:
    """Why an entry name may not be used, or None."""
    pure = PurePosixPath(name)
    if not name:
        return "an entry without a name"
    if "\\" in name:
        return "a backslash in the name"
    if _INVISIBLE.search(name):
        return "control or direction characters in the name"
    if pure.is_absolute() or PureWindowsPath(name).drive or re.match(r"[A-Za-z]:", name):
        return "an absolute path"
    if ".." in pure.parts:
        return "a path that climbs out with '..'"
    return None


def verify_casefile(
    path: Path, *, public_key: bytes | None = None, limits: Limits = Limits()
) -> Verification:
    """Check the case file at ``path``; ``public_key`` (PEM) is the key the receiver expects it signed with."""
    result = Verification(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
        result.add(
            path.name, f"not a readable ZIP file ({exc.strerror if isinstance(exc, OSError) else exc})"
        )
        return result
    with archive:
        entries = _entries(archive, result, limits)
        if entries is None:
            return result
        body = _read(archive, entries, MANIFEST, limits.manifest_bytes, result)
        if body is None:
            return result
        manifest = _manifest(body, result)
        _signature(archive, entries, body, manifest, public_key, result)
        if manifest is not None:
            listed = _listed(manifest, result)
            if listed is not None:
                _files(archive, entries, listed, result)
    return result


def _entries(
    archive: zipfile.ZipFile, result: Verification, limits: Limits
) -> dict[str, zipfile.ZipInfo] | None:
    """The entries that may be read, by name; None if the whole archive is refused."""
    infos = archive.infolist()
    if len(infos) > limits.entries:
        result.add(result.path.name, f"{len(infos):,} entries, more than {limits.entries:,}: refused unread")
        return None
    if sum(info.file_size for info in infos) > limits.total_bytes:
        result.add(
            result.path.name, f"declares more than {limits.total_bytes:,} bytes in all: refused unread"
        )
        return None
    if _overlapping(archive, infos, result):
        return None
    counts = Counter(info.orig_filename for info in infos)
    twice = {name for name, count in counts.items() if count > 1}
    for name in sorted(twice):
        result.add(name, "refused: the name appears more than once in the archive")
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.orig_filename
        if name in twice:
            continue
        reason = unsafe_name(name)
        if reason is None and stat.S_ISLNK(info.external_attr >> 16):
            reason = "a symbolic link"
        if reason is None and info.file_size > limits.entry_bytes:
            reason = f"declares {info.file_size:,} bytes, more than {limits.entry_bytes:,}"
        if reason is None and info.compress_type not in _METHODS:
            reason = f"compression method {info.compress_type}, not stored or deflate"
        if reason is not None:
            result.add(name, f"refused: {reason}")
        else:
            entries[name] = info
    return entries


def _overlapping(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], result: Verification) -> bool:
    """Whether two entries share bytes (or run into the central directory): such an archive is refused."""
    ordered = sorted(infos, key=lambda info: info.header_offset)
    ends = [info.header_offset for info in ordered[1:]] + [getattr(archive, "start_dir", 1 << 62)]
    for info, end in zip(ordered, ends, strict=False):  # no entries: nothing to compare
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        name_length = len(info.orig_filename.encode(encoding, "replace"))
        if info.header_offset + _LOCAL_HEADER + name_length + info.compress_size > end:
            result.add(
                info.orig_filename, "overlaps another entry (a zip bomb?): the archive is refused unread"
            )
            return True
    return False


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
        result.add(MANIFEST, f"not valid JSON ({exc})")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        result.add(MANIFEST, f"not a manifest of format {FORMAT!r}")
        return None
    if manifest.get("format_version") != FORMAT_VERSION:
        version = shown(repr(manifest.get("format_version")), 40)
        result.add(MANIFEST, f"format version {version}; this tisiwatch reads version {FORMAT_VERSION}")
        return None
    result.cases = manifest["cases"] if isinstance(manifest.get("cases"), int) else None
    result.created_at = shown(str(manifest.get("created_at")), 40)
    return manifest


def _listed(manifest: dict[str, Any], result: Verification) -> dict[str, tuple[str, int]] | None:
    """The files the manifest lists, path → (SHA-256, size); None if the list cannot be used."""
    files = manifest.get("files")
    if not isinstance(files, list):
        result.add(MANIFEST, "no list of files")
        return None
    listed: dict[str, tuple[str, int]] = {}
    for item in files:
        values = [item.get(key) for key in ("path", "sha256", "size")] if isinstance(item, dict) else []
        match values:
            case [str(path), str(digest), int(size)] if _SHA256.fullmatch(digest):
                pass
            case _:
                result.add(
                    MANIFEST, f"a file entry that is not a path, SHA-256 and size: {shown(repr(item), 80)}"
                )
                return None
        reason = unsafe_name(path) or ("listed twice" if path in listed else None)
        if path in {MANIFEST, SIGNATURE, PUBLIC_KEY}:
            reason = "the manifest cannot list itself, its signature or its key"
        if reason is not None:
            result.add(MANIFEST, f"lists {shown(path)!r}: {reason}")
            return None
        listed[path] = (digest, size)
    result.files = len(listed)
    return listed


def _signature(
    archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], body: bytes, manifest: dict[str, Any] | None,
    expected: bytes | None, result: Verification,
) -> None:  # fmt: skip
    """The signature of manifest.json under the key in the archive, the key the manifest names, and the
    key the receiver expects."""
    signature = _read(archive, entries, SIGNATURE, 1024, result)
    pem = _read(archive, entries, PUBLIC_KEY, 16 << 10, result)
    if signature is None or pem is None:
        return
    try:
        key = load_public(pem)
    except ValueError as exc:
        result.add(PUBLIC_KEY, f"not an Ed25519 public key ({exc})")
        return
    result.key_fingerprint = fingerprint(key)
    if not signature_holds(key, body, signature):
        result.add(
            SIGNATURE, "does not match manifest.json under the public key: altered or signed by another key"
        )
    named = ((manifest or {}).get("signature") or {}).get("key_fingerprint")
    if isinstance(named, str) and named != result.key_fingerprint:
        result.add(PUBLIC_KEY, f"is not the key the manifest names ({shown(named, 70)})")
    if expected is not None:
        try:
            wanted = fingerprint(load_public(expected))
        except ValueError as exc:
            result.add("the expected key", f"not an Ed25519 public key ({exc})")
            return
        if wanted != result.key_fingerprint:
            result.add(PUBLIC_KEY, f"key {result.key_fingerprint} is not the expected key {wanted}")


def _files(
    archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], listed: dict[str, tuple[str, int]],
    result: Verification,
) -> None:  # fmt: skip
    """Every entry against the manifest: altered, extra and missing files."""
    refused = {problem.file for problem in result.problems}
    for name, info in entries.items():
        if name in {MANIFEST, SIGNATURE, PUBLIC_KEY}:
            continue
        if name not in listed:
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
        if (digest.hexdigest(), size) != listed[name]:
            result.add(name, "altered: its SHA-256 is not the one in the manifest")
    for name in sorted(set(listed) - set(entries)):
        if shown(name) not in refused:
            result.add(name, "missing: listed in the manifest, not in the archive")
