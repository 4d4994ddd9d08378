"""Reading evidence back: one WARC record by file and offset, its payload, and its hashes checked.

For the ETDA case files and ``tisiwatch verify``: ``read_record`` gives the raw bytes of one record
(a whole gzip member, itself a valid ``.warc.gz``) to copy into a case's own WARC file. A stored
path is only ever read inside the data directory. Standard library and warcio only: reading
evidence does not need the crawler.
"""

from __future__ import annotations

import hashlib
import zlib
from io import BytesIO
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

CHUNK = 1 << 16


def evidence_path(data_dir: Path, relative: str) -> Path:
    """The file ``relative`` (a posix path as stored) names inside ``data_dir``; a ValueError if it
    is absolute, climbs out with ``..`` or leads out through a symbolic link."""
    pure = PurePosixPath(relative)
    if (
        not relative
        or "\\" in relative
        or "\x00" in relative
        or pure.is_absolute()
        or PureWindowsPath(relative).drive
        or ".." in pure.parts
    ):
        raise ValueError(f"evidence file {relative!r}: not a relative path inside the data directory")
    base = data_dir.resolve()
    path = (base / pure).resolve()
    if not path.is_relative_to(base):
        raise ValueError(f"evidence file {relative!r}: leads outside the data directory")
    return path


def _member_length(handle: BinaryIO) -> int:
    """The length of the gzip member that starts at the handle's position."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    consumed = 0
    while not inflater.eof:
        chunk = handle.read(CHUNK)
        if not chunk:
            raise ValueError("the record is cut off")
        data = chunk
        while data and not inflater.eof:
            inflater.decompress(data, CHUNK)  # the output is not needed: only where the member ends
            data = inflater.unconsumed_tail
        consumed += len(chunk) - len(inflater.unused_data)
    return consumed


def read_record(data_dir: Path, warc_file: str, offset: int) -> bytes:
    """The raw bytes of the one WARC record at ``offset`` of ``warc_file`` (relative to ``data_dir``):
    a complete gzip member, itself a valid ``.warc.gz`` that can be copied into another WARC file."""
    path = evidence_path(data_dir, warc_file)
    if offset < 0:
        raise ValueError(f"{warc_file}: negative offset {offset}")
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            length = _member_length(handle)
            handle.seek(offset)
            raw = handle.read(length)
        parse_record(raw)
    except (zlib.error, ValueError) as exc:
        raise ValueError(f"{warc_file}: no WARC record at offset {offset} ({exc})") from exc
    return raw


def read_capture(data_dir: Path, warc_file: str, offset: int) -> bytes:
    """The record at ``offset`` and the records written with it (those ``WARC-Concurrent-To`` it)."""
    return read_capture_and_payload(data_dir, warc_file, offset)[0]


def read_capture_and_payload(data_dir: Path, warc_file: str, offset: int) -> tuple[bytes, bytes]:
    """The record at ``offset`` and the records written with it (those ``WARC-Concurrent-To`` it),
    as raw gzip members, and the first record's payload, in one pass: each record is parsed once,
    and of the next capture only its headers are read. A torn record after the capture ends it."""
    path = evidence_path(data_dir, warc_file)
    with path.open("rb") as handle:
        handle.seek(offset)
        if handle.read(2) != b"\x1f\x8b":
            raise ValueError(f"{warc_file}: no gzip WARC record at offset {offset}")
        handle.seek(offset)
        records = ArchiveIterator(handle)
        first, payload, end = None, b"", offset
        try:
            for record in records:
                headers = record.rec_headers
                if first is None:
                    first, payload = headers.get_header("WARC-Record-ID"), record.raw_stream.read()
                elif first not in [value for name, value in headers.headers if name == "WARC-Concurrent-To"]:
                    break
                end = records.get_record_offset() + records.get_record_length()
        except Exception as exc:  # warcio raises several kinds; a torn record after the capture ends it
            if first is None:
                raise ValueError(
                    f"{warc_file}: no WARC record at offset {offset} ({type(exc).__name__})"
                ) from exc
        if first is None or end == offset:
            raise ValueError(f"{warc_file}: no whole WARC record at offset {offset}")
        handle.seek(offset)
        return handle.read(end - offset), payload


def parse_record(raw: bytes) -> tuple[Any, bytes]:
    """The WARC headers (warcio's ``StatusAndHeaders``) and the payload of one record: the HTTP body
    of a ``response``/``request`` record as stored, the whole block of any other."""
    try:
        for record in ArchiveIterator(BytesIO(raw)):
            return record.rec_headers, record.raw_stream.read()
    except ArchiveLoadFailed as exc:
        raise ValueError(str(exc)) from exc
    raise ValueError("no WARC record")


def verify_payload(data_dir: Path, warc_file: str, offset: int, payload_sha256: str) -> bool:
    """Whether the payload of the record at ``offset`` still has the SHA-256 (hex) stored for it."""
    _, payload = parse_record(read_record(data_dir, warc_file, offset))
    return hashlib.sha256(payload).hexdigest() == payload_sha256.lower()


def verify_file(data_dir: Path, relative: str, sha256: str) -> bool:
    """Whether a stored evidence file (a screenshot) still has the SHA-256 (hex) stored for it."""
    digest = hashlib.sha256()
    with evidence_path(data_dir, relative).open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest() == sha256.lower()
