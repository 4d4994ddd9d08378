"""Reading a ZIP archive from elsewhere: which entries may be read at all, decided before any is read.

Refused: entry names that are absolute, climb out with ``..``, hold a backslash or control characters,
or appear twice; symbolic links; folder entries (a name ending in ``/``) that hold data; entries that
overlap (the trick of the largest zip bombs), declare more than :class:`Limits` allow, or use a
compression method other than stored or deflate (deflate expands 1,032:1 at most, and zipfile reads no
entry past the size it declares: it stops there and checks the CRC). Whatever the archive names is
shown with invisible characters escaped (``core.text.escaped``).
"""

from __future__ import annotations

import re
import stat
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from core.text import CONTROL

_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}  # deflate expands 1,032:1 at most; others more
_LOCAL_HEADER = 30  # bytes before the name in a ZIP local file header


@dataclass(frozen=True, slots=True)
class Limits:
    """What a case file may declare before it is refused unread (uncompressed sizes)."""

    entries: int = 1_000_000
    total_bytes: int = 64 << 30
    entry_bytes: int = 16 << 30
    manifest_bytes: int = 256 << 20


def unsafe_name(name: str) -> str | None:
    """Why an entry name may not be used, or None."""
    pure = PurePosixPath(name)
    if not name:
        return "an entry without a name"
    if "\\" in name:
        return "a backslash in the name"
    if CONTROL.search(name):
        return "control or direction characters in the name"
    if pure.is_absolute() or PureWindowsPath(name).drive or re.match(r"[A-Za-z]:", name):
        return "an absolute path"
    if ".." in pure.parts:
        return "a path that climbs out with '..'"
    return None


Report = Callable[[str, str], None]
"""Where a problem goes: ``report(name, problem)``, the name as the archive has it."""


def safe_entries(
    archive: zipfile.ZipFile, label: str, limits: Limits, report: Report
) -> dict[str, zipfile.ZipInfo] | None:
    """The entries that may be read, by name; None if the whole archive (``label``) is refused."""
    infos = archive.infolist()
    if len(infos) > limits.entries:
        report(label, f"{len(infos):,} entries, more than {limits.entries:,}: refused unread")
        return None
    if sum(info.file_size for info in infos) > limits.total_bytes:
        report(label, f"declares more than {limits.total_bytes:,} bytes in all: refused unread")
        return None
    if _overlapping(archive, infos, report):
        return None
    counts = Counter(info.orig_filename for info in infos)
    twice = {name for name, count in counts.items() if count > 1}
    for name in sorted(twice):
        report(name, "refused: the name appears more than once in the archive")
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.orig_filename
        if name in twice:
            continue
        reason = unsafe_name(name)
        if reason is None and stat.S_ISLNK(info.external_attr >> 16):
            reason = "a symbolic link"
        if reason is None and name.endswith("/") and info.file_size:
            reason = "a folder entry that holds data"
        if reason is None and info.file_size > limits.entry_bytes:
            reason = f"declares {info.file_size:,} bytes, more than {limits.entry_bytes:,}"
        if reason is None and info.compress_type not in _METHODS:
            reason = f"compression method {info.compress_type}, not stored or deflate"
        if reason is not None:
            report(name, f"refused: {reason}")
        else:
            entries[name] = info
    return entries


def _overlapping(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], report: Report) -> bool:
    """Whether two entries share bytes (or run into the central directory): such an archive is refused."""
    ordered = sorted(infos, key=lambda info: info.header_offset)
    ends = [info.header_offset for info in ordered[1:]] + [getattr(archive, "start_dir", 1 << 62)]
    for info, end in zip(ordered, ends, strict=False):  # no entries: nothing to compare
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        name_length = len(info.orig_filename.encode(encoding, "replace"))
        if info.header_offset + _LOCAL_HEADER + name_length + info.compress_size > end:
            report(info.orig_filename, "overlaps another entry (a zip bomb?): the archive is refused unread")
            return True
    return False
