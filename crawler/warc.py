"""WARC files of evidence, written one capture (the records of one page) at a time.

Plain data in (no Scrapy: ``crawler.evidence`` turns responses into an :class:`Exchange`), files
out; ``store.evidence`` reads them back (so the report stage can, too). The layout under the data directory is fixed,
never built from scraped data::

    evidence/run-<run id>/<worker>.warc.gz        (a restarted worker: <worker>-2.warc.gz, -3 …)
    evidence/run-<run id>/screenshots/<sha256>.png

A WARC file is created exclusively and never appended to: a crawl killed half-way through a write
leaves a torn last record, and anything written after it would be unreadable in sequence. Each
capture (the records of one page) is serialised in memory and written with one call, so a file holds
whole captures; a write that fails is cut back off (truncate). Every record is its own gzip member,
so a reader can seek to a record's offset and read exactly that record. Digests are SHA-256:
``WARC-Block-Digest``/``WARC-Payload-Digest`` as ``sha256:<base32>`` (warcio's form); the store
keeps the payload's SHA-256 in hex.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import urlsplit
from uuid import uuid4

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

EVIDENCE_DIR = "evidence"
WORKER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MAX_FILES_PER_WORKER = 1000
Headers = Sequence[tuple[str, str]]


class _Sha256Writer(WARCWriter):
    """warcio's writer with SHA-256 digests instead of SHA-1."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


def _writer(out: BinaryIO | None = None) -> _Sha256Writer:
    return _Sha256Writer(out if out is not None else BytesIO(), gzip=True, warc_version="1.1")


def run_directory(run_id: int) -> PurePosixPath:
    """Where a run's evidence goes, relative to the data directory."""
    return PurePosixPath(EVIDENCE_DIR, f"run-{int(run_id)}")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Exchange:
    """One fetch of a page: the request as sent and the response as the crawler holds it."""

    url: str
    status: int
    response_headers: Headers
    body: bytes
    method: str = "GET"
    request_headers: Headers = ()
    request_body: bytes = b""
    protocol: str = "HTTP/1.1"
    ip_address: str | None = None
    truncated: bool = False
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _record_id() -> str:
    return f"<urn:uuid:{uuid4()}>"


def _common(exchange: Exchange) -> dict[str, str]:
    moment = exchange.fetched_at.astimezone(UTC).replace(tzinfo=None)  # warcio writes naive UTC times
    fields = {"WARC-Date": datetime_to_iso_date(moment, use_micros=True)}
    if exchange.ip_address:
        fields["WARC-IP-Address"] = exchange.ip_address
    if not exchange.protocol.upper().startswith("HTTP/"):
        fields["WARC-Protocol"] = exchange.protocol
    return fields


def _request_record(exchange: Exchange, record_id: str, concurrent_to: str) -> Any:
    parts = urlsplit(exchange.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = list(exchange.request_headers)
    names = {name.lower() for name, _ in headers}
    if "host" not in names:  # added on the wire by the HTTP client
        headers.insert(0, ("Host", parts.netloc))
    if exchange.request_body and "content-length" not in names:
        headers.append(("Content-Length", str(len(exchange.request_body))))
    http = StatusAndHeaders(f"{exchange.method} {target} HTTP/1.1", headers, is_http_request=True)
    record = _writer().create_warc_record(
        exchange.url,
        "request",
        payload=BytesIO(exchange.request_body),
        length=len(exchange.request_body),
        warc_headers_dict={"WARC-Record-ID": record_id, **_common(exchange)},
        http_headers=http,
    )
    record.rec_headers.add_header("WARC-Concurrent-To", concurrent_to)
    return record


def consistent_headers(headers: Headers, body_length: int) -> tuple[list[tuple[str, str]], list[str]]:
    """The response's headers made consistent with its body as stored: ``Transfer-Encoding`` dropped
    (chunking was undone on receipt), ``Content-Length`` the stored length. Also returns what was
    replaced. ``Content-Encoding`` is kept: it names only encodings the body still has."""
    kept, replaced = [], []
    for name, value in headers:
        lower = name.lower()
        if lower == "transfer-encoding" or (lower == "content-length" and value.strip() != str(body_length)):
            replaced.append(f"{name}: {value}")
        elif lower != "content-length":
            kept.append((name, value))
    return [*kept, ("Content-Length", str(body_length))], replaced


def http_capture(exchange: Exchange) -> list[Any]:
    """A ``response`` record (status line, headers, body) and its ``request`` record."""
    response_id, request_id = _record_id(), _record_id()
    headers, replaced = consistent_headers(exchange.response_headers, len(exchange.body))
    try:
        phrase = HTTPStatus(exchange.status).phrase
    except ValueError:
        phrase = ""
    protocol = exchange.protocol if exchange.protocol.upper().startswith("HTTP/") else "HTTP/1.1"
    fields = {"WARC-Record-ID": response_id, **_common(exchange), "WARC-Concurrent-To": request_id}
    if replaced:
        fields["Tisiwatch-Replaced-Headers"] = "; ".join(replaced)
    if exchange.truncated:
        fields["WARC-Truncated"] = "disconnect"
    response = _writer().create_warc_record(
        exchange.url,
        "response",
        payload=BytesIO(exchange.body),
        length=len(exchange.body),
        warc_headers_dict=fields,
        http_headers=StatusAndHeaders(f"{exchange.status} {phrase}".strip(), headers, protocol=protocol),
    )
    return [response, _request_record(exchange, request_id, response_id)]


def rendered_capture(
    exchange: Exchange, content_type: str, rendered_by: str, notes: Mapping[str, str] | None = None
) -> list[Any]:
    """A page a browser rendered: a ``resource`` record of the rendered document (not the bytes the
    server sent), a ``metadata`` record with the server's status and headers, how it was rendered and
    ``notes`` (e.g. the screenshot), and the ``request`` record of the navigation."""
    resource_id, metadata_id, request_id = _record_id(), _record_id(), _record_id()
    common = _common(exchange)
    resource = _writer().create_warc_record(
        exchange.url,
        "resource",
        payload=BytesIO(exchange.body),
        length=len(exchange.body),
        warc_content_type=content_type,
        warc_headers_dict={
            "WARC-Record-ID": resource_id,
            **common,
            "Tisiwatch-Rendered-By": rendered_by,
            "Tisiwatch-Http-Status": str(exchange.status),
        },
    )
    for other in (metadata_id, request_id):
        resource.rec_headers.add_header("WARC-Concurrent-To", other)
    lines = [
        ("rendered-by", rendered_by),
        ("http-status", str(exchange.status)),
        *(("http-header", f"{name}: {value}") for name, value in exchange.response_headers),
        *(notes or {}).items(),
    ]
    block = "".join(f"{name}: {value}\r\n" for name, value in lines).encode("utf-8")
    metadata = _writer().create_warc_record(
        exchange.url,
        "metadata",
        payload=BytesIO(block),
        length=len(block),
        warc_content_type="application/warc-fields",
        warc_headers_dict={
            "WARC-Record-ID": metadata_id,
            **common,
            "WARC-Concurrent-To": resource_id,
            "WARC-Refers-To": resource_id,
        },
    )
    return [resource, metadata, _request_record(exchange, request_id, resource_id)]


class WarcFile:
    """One gzip WARC file of a run and worker, created exclusively, written one capture at a time."""

    def __init__(self, data_dir: Path, relative: PurePosixPath, handle: BinaryIO) -> None:
        self.data_dir = data_dir
        self.relative = relative.as_posix()
        self.handle = handle
        self.size = 0
        self.broken = False

    @classmethod
    def create(cls, data_dir: Path, run_id: int, worker: str, info: Mapping[str, str]) -> WarcFile:
        """The worker's first free file of the run (``w0.warc.gz``, then ``w0-2.warc.gz`` …), started
        with a ``warcinfo`` record."""
        if not WORKER_NAME.fullmatch(worker):
            raise ValueError(f"worker name {worker!r}: use letters, digits, '-' and '_' (up to 64)")
        directory = run_directory(run_id)
        (data_dir / directory).mkdir(parents=True, exist_ok=True)
        for attempt in range(1, MAX_FILES_PER_WORKER + 1):
            relative = directory / (f"{worker}.warc.gz" if attempt == 1 else f"{worker}-{attempt}.warc.gz")
            try:
                handle = (data_dir / relative).open("xb", buffering=0)
            except FileExistsError:
                continue
            warc = cls(data_dir, relative, handle)
            try:
                warc.write([_writer().create_warcinfo_record(relative.name, dict(info))])
            except BaseException:
                warc.close()
                (data_dir / relative).unlink(missing_ok=True)
                raise
            return warc
        raise FileExistsError(f"{directory}: {MAX_FILES_PER_WORKER} WARC files of worker {worker!r} already")

    def write(self, records: Sequence[Any]) -> list[int]:
        """Append the records as one write; returns the offset of each. On a failed write the file is
        cut back to where it was (``broken`` if even that fails) and the error is raised."""
        if self.broken:
            raise OSError(f"{self.relative}: closed after an earlier write error")
        buffer = BytesIO()
        writer = _writer(buffer)
        offsets = []
        for record in records:
            offsets.append(self.size + buffer.tell())
            writer.write_record(record)
        data = memoryview(buffer.getbuffer())
        try:
            written = 0
            while written < len(data):
                written += self.handle.write(data[written:]) or 0
        except OSError:
            try:
                self.handle.truncate(self.size)
                self.handle.seek(self.size)
            except OSError:
                self.broken = True
            raise
        finally:
            data.release()
        self.size += written
        return offsets

    def close(self) -> None:
        try:
            os.fsync(self.handle.fileno())
        except OSError:
            pass
        finally:
            self.handle.close()
