"""ETDA case files (``tisiwatch export cases``): one signed ZIP of the violating listings and their evidence.

    cases.csv                      one row per case (UTF-8 with BOM, every text cell neutralised)
    cases.jsonl                    one JSON object per case: case_id, the findings fields (ending with
                                   officer_decision, decided_by, decided_at: the latest decision,
                                   ``store.decisions``), seller_id, seller_url, case_status, sent_at, status_at
                                   (``store.takedowns``; null until the case is sent)
    evidence/<case_id>/capture.warc.gz   the WARC records of the page as fetched (response or resource,
                                         metadata, request), copied byte for byte from the crawl's WARC file
    evidence/<case_id>/listing.json      what was read from the page, and where the evidence came from
    evidence/<case_id>/screenshot.png    where a browser rendered the page
    evidence/<case_id>/image-<n>.warc.gz the WARC records of each product image the verdict was read
                                         from (its reasons' ``evidence``), copied byte for byte
    evidence/<case_id>/image-<n>.<ext>   that image's bytes (png, jpg, gif, webp, bmp or bin)
    manifest.json                  format, generator, created_at, register version, every file's SHA-256
    manifest.sig                   the Ed25519 signature of manifest.json (64 raw bytes)
    public_key.pem                 the public half of the signing key (see :mod:`reports.signing`)

A case is a listing whose latest observation is a violation and which is not gone. By default only
**confirmed** cases are exported: the listing's latest officer's decision is ``confirmed`` and, with
``[review] qc = true``, that decision's latest supervisor's check is ``passed``. Such an export is the
hand-over to ETDA: each case it writes is recorded as ``sent`` (``store.takedowns.record_sends``; once
while the case is open) with the export's file name, and the file already shows it as sent, so that
exporting the same cases again gives the same case data. ``all_violations`` (``tisiwatch export cases
--all-violations``) exports every violating listing, decided or not, as before officers' decisions
were kept; it records nothing as sent. Its ``case_id`` is
``c-`` and the first 16 hex digits of the SHA-256 of its ``listing_key``: nothing a marketplace wrote
becomes a file name. Entries are in name order with a fixed time, JSON is written the same way each
time, so the same cases give the same bytes in every file but ``manifest.json`` (its ``created_at``)
and ``manifest.sig``. Evidence is read one case at a time; a record or screenshot that cannot be read,
or no longer has the hash recorded at the crawl, is left out and named in ``problems``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from core.decisions import CONFIRMED, QC_PASSED, SENT
from core.verdicts import VIOLATIONS
from reports.caseimages import case_images
from reports.cells import cell
from reports.export import csv_row, replacing
from reports.findings import COLUMNS, Finding, findings, iso
from reports.signing import ALGORITHM, fingerprint, public_pem, signing_key
from store.clock import as_utc, utcnow
from store.db import Store
from store.decisions import Standing, standing_decisions
from store.evidence import CHUNK, evidence_path, read_capture_and_payload, verify_file
from store.models import Listing, Observation
from store.register import in_force
from store.takedowns import open_sends, record_sends

FORMAT = "tisiwatch-etda-cases"
FORMAT_VERSION = 1
MANIFEST, SIGNATURE, PUBLIC_KEY = "manifest.json", "manifest.sig", "public_key.pem"
CASES_CSV, CASES_JSONL = "cases.csv", "cases.jsonl"
CAPTURE, LISTING, SCREENSHOT = "capture.warc.gz", "listing.json", "screenshot.png"
CASE_COLUMNS = (
    "case_id", *COLUMNS, "seller_id", "seller_url", "case_status", "sent_at", "status_at", "evidence_folder",
)  # fmt: skip
"""The columns of cases.csv and the keys of cases.jsonl, in order."""
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
BATCH = 200

_REFERENCES = (
    Observation.observed_at, Observation.id, Observation.seller_url, Observation.warc_file,
    Observation.warc_offset, Observation.payload_sha256, Observation.screenshot_file,
    Observation.screenshot_sha256,
)  # fmt: skip
_DETAILS = (
    Observation.id, Listing.marketplace_id, Observation.url.label("page_url"), Observation.http_status,
    Observation.title, Observation.description, Observation.brand, Observation.model, Observation.price,
    Observation.currency, Observation.availability, Observation.spec, Observation.images,
)  # fmt: skip
_NAMES = re.compile(
    r"cases\.(csv|jsonl)|evidence/c-[0-9a-f]{16}/[a-z]+(-[0-9]{1,2})?(\.[a-z]+)+|manifest\.(json|sig)"
    r"|public_key\.pem"
)
# Characters JSON may carry raw but a reader should not see raw: DEL, C1 controls, bidirectional marks,
# embeddings, overrides and isolates, line and paragraph separators. They are written as \u escapes.
_HIDDEN = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def dumps(value: Any, **options: Any) -> str:
    """JSON text, non-ASCII kept as it is except invisible and direction-changing characters."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, **options)
    return _HIDDEN.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def case_id(listing_key: str) -> str:
    """The case id of a listing: ``c-`` and the first 16 hex digits of the SHA-256 of its key."""
    return "c-" + hashlib.sha256(listing_key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class CaseFileSummary:
    """What :func:`export_cases` wrote: the file, its cases, and evidence that had to be left out."""

    path: Path
    cases: int
    files: int
    size: int
    register_version: int | None
    key_fingerprint: str
    problems: tuple[str, ...]
    sent: int = 0
    """Cases this export recorded as sent to ETDA (those already sent and open are not counted)."""


@dataclass(slots=True)
class Case:
    """A violating listing and where its evidence is (the shown observation's references)."""

    case_id: str
    finding: Finding
    listing_id: int | None = None
    observation_id: int | None = None
    seller_url: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    payload_sha256: str | None = None
    screenshot_file: str | None = None
    screenshot_sha256: str | None = None
    standing: Standing | None = None
    """The listing's latest officer's decision (``store.decisions.standing_decisions``)."""
    case_status: str | None = None
    sent_at: datetime | None = None
    status_at: datetime | None = None

    def record(self) -> dict[str, Any]:
        """The case as JSON-ready data, keys in :data:`CASE_COLUMNS` order."""
        return {
            "case_id": self.case_id,
            **self.finding.record(),
            "seller_id": self.finding.seller_id,
            "seller_url": self.seller_url,
            "case_status": self.case_status,
            "sent_at": iso(self.sent_at) if self.sent_at else None,
            "status_at": iso(self.status_at) if self.status_at else None,
            "evidence_folder": f"evidence/{self.case_id}/",
        }


def export_cases(
    store: Store,
    settings: Settings,
    *,
    since: date | datetime | None = None,
    out: Path,
    all_violations: bool = False,
) -> CaseFileSummary:
    """Write the signed case file of the confirmed cases (``all_violations``: of every violating
    listing) seen since ``since`` to ``out``; a file of confirmed cases records them as sent."""
    key = signing_key(settings.data_dir)
    sent_at = utcnow().replace(microsecond=0)
    with store.sessions() as session:
        cases = select_cases(
            session, since, settings.report.timezone, all_violations=all_violations, qc=settings.review.qc
        )
        to_send = {} if all_violations else _plan_sends(cases, sent_at)
        current = in_force(session)
        register_version = None if current is None else current.version
        with replacing(out, "wb") as stream, zipfile.ZipFile(stream, "w") as archive:
            writer = _Writer(archive)
            writer.add(CASES_CSV, _csv_chunks(cases), unknown_size=True)
            writer.add(CASES_JSONL, _jsonl_chunks(cases), unknown_size=True)
            for batch in _batches(cases, BATCH):
                details = _details(session, [case.observation_id for case in batch])
                for case in batch:
                    _write_case(writer, case, details.get(case.observation_id or 0, {}), settings.data_dir)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "generator": f"tisiwatch {_version()}",
                "created_at": iso(utcnow().replace(microsecond=0)),
                "register_version": register_version,
                "since": since.isoformat() if since is not None else None,
                "selection": _selection(all_violations, settings.review.qc),
                "cases": len(cases),
                "case_id": "c- and the first 16 hex digits of the SHA-256 of listing_key (UTF-8)",
                "signature": {
                    "algorithm": ALGORITHM,
                    "signed_file": MANIFEST,
                    "signature_file": SIGNATURE,
                    "public_key_file": PUBLIC_KEY,
                    "key_fingerprint": fingerprint(key.public_key()),
                },
                "problems": writer.problems,
                "files": writer.files,
            }
            body = (dumps(manifest, indent=1) + "\n").encode("utf-8")
            writer.add(MANIFEST, [body], listed=False)
            writer.add(SIGNATURE, [key.sign(body)], listed=False, compress=False)
            writer.add(PUBLIC_KEY, [public_pem(key.public_key())], listed=False)
    if to_send:  # the file is written: its cases are with ETDA
        with store.session() as session:
            record_sends(session, to_send, out.name, sent_at)
    return CaseFileSummary(
        path=out,
        cases=len(cases),
        files=len(writer.files),
        size=out.stat().st_size,
        register_version=register_version,
        key_fingerprint=fingerprint(key.public_key()),
        problems=tuple(f"{problem['file']}: {problem['problem']}" for problem in writer.problems),
        sent=len(to_send),
    )


def _selection(all_violations: bool, qc: bool) -> str:
    """Which cases a file holds, as its manifest says."""
    if all_violations:
        return "all_violations"
    return "confirmed_qc_passed" if qc else "confirmed"


def _plan_sends(cases: Sequence[Case], sent_at: datetime) -> dict[int, str]:
    """The cases not yet sent (or whose last case was taken down): shown as sent now, recorded after."""
    planned = {}
    for case in cases:
        if case.case_status is None and case.listing_id is not None:
            case.case_status, case.sent_at, case.status_at = SENT, sent_at, None
            planned[case.listing_id] = case.case_id
    return planned


def select_cases(
    session: Session,
    since: date | datetime | None = None,
    tz: str = "Asia/Bangkok",
    *,
    all_violations: bool = False,
    qc: bool = False,
) -> list[Case]:
    """The cases: findings with a violation verdict whose listing is not gone — only the confirmed ones
    (and, with ``qc``, whose confirmation passed its check) unless ``all_violations`` — in case id
    order, each with its decision, its open case sent to ETDA (if any), and the evidence references
    of the observation it shows."""
    shown = [f for f in findings(session, since=since, verdicts=VIOLATIONS, tz=tz) if not f.gone]
    cases = sorted((Case(case_id(f.listing_key), f) for f in shown), key=lambda case: case.case_id)
    if len({case.case_id for case in cases}) != len(cases):  # 64 bits: not expected in this world
        raise ValueError("two listing keys share a case id; the case file cannot be written")
    for batch in _batches(cases, 500):
        by_key = {case.finding.listing_key: case for case in batch}
        for listing_id, key in session.execute(
            select(Listing.id, Listing.listing_key).where(Listing.listing_key.in_(sorted(by_key)))
        ):
            by_key[key].listing_id = listing_id
    ids = [case.listing_id for case in cases if case.listing_id is not None]
    standing = standing_decisions(session, ids)
    for case in cases:
        case.standing = standing.get(case.listing_id or 0)
    if not all_violations:
        cases = [case for case in cases if exportable(case.standing, qc)]
    sends = open_sends(session, [case.listing_id for case in cases if case.listing_id is not None])
    for case in cases:
        send = sends.get(case.listing_id or 0)
        if send is not None:
            case.case_status, case.sent_at = send.status, as_utc(send.sent_at)
            case.status_at = as_utc(send.status_at) if send.status_at else None
    for batch in _batches(cases, 500):
        wanted = {(case.finding.listing_key, case.finding.observed_at): case for case in batch}
        query = (
            select(Listing.listing_key, *_REFERENCES)
            .join(Listing, Listing.id == Observation.listing_id)
            .where(
                Listing.listing_key.in_(sorted({key for key, _ in wanted})),
                Observation.observed_at.in_(sorted({at for _, at in wanted})),
                Observation.gone.is_(False),
            )
            .order_by(Observation.id)  # the last of equal times wins, as in the findings query
        )
        for row in session.execute(query):
            seen = wanted.get((row.listing_key, row.observed_at))
            if seen is not None:
                seen.observation_id = row.id
                for column in _REFERENCES[2:]:
                    setattr(seen, column.key, getattr(row, column.key))
    return cases


class _Writer:
    """Adds entries in the order given, each with a fixed time; keeps each one's SHA-256 and size."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.files: list[dict[str, Any]] = []
        self.problems: list[dict[str, str]] = []

    def add(
        self, name: str, chunks: Iterable[bytes], *, size: int | None = None, compress: bool = True,
        listed: bool = True, unknown_size: bool = False,
    ) -> None:  # fmt: skip
        if not _NAMES.fullmatch(name):  # names are built here, never from scraped text; make sure
            raise ValueError(f"refusing to write a case-file entry named {name!r}")
        info = zipfile.ZipInfo(name, ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.create_system = 3  # Unix, wherever it runs
        info.external_attr = 0o100644 << 16
        if size is not None:
            info.file_size = size
        digest, total = hashlib.sha256(), 0
        with self.archive.open(info, "w", force_zip64=unknown_size) as entry:
            for chunk in chunks:
                entry.write(chunk)
                digest.update(chunk)
                total += len(chunk)
        if listed:
            self.files.append({"path": name, "sha256": digest.hexdigest(), "size": total})

    def problem(self, name: str, text: str) -> None:
        self.problems.append({"file": name, "problem": text})


def exportable(standing: Standing | None, qc: bool) -> bool:
    """A case goes to ETDA when its latest decision is ``confirmed`` and, with ``qc``, the latest check
    of that confirmation is ``passed``."""
    if standing is None or standing.decision != CONFIRMED:
        return False
    return not qc or standing.qc == QC_PASSED


def _write_case(writer: _Writer, case: Case, detail: dict[str, Any], data_dir: Path) -> None:
    """The case's folder: the WARC capture, listing.json, the screenshot — each only if it checks out."""
    folder = f"evidence/{case.case_id}/"
    capture = screenshot = None
    if case.warc_file and case.warc_offset is not None:
        try:
            capture, payload = read_capture_and_payload(data_dir, case.warc_file, case.warc_offset)
            if case.payload_sha256 and hashlib.sha256(payload).hexdigest() != case.payload_sha256.lower():
                capture = None
                writer.problem(
                    folder + CAPTURE, "left out: the page no longer has the hash recorded at the crawl"
                )
        except (OSError, ValueError) as exc:
            writer.problem(folder + CAPTURE, f"left out: {_reason(exc)}")
    else:
        writer.problem(folder + CAPTURE, "no WARC record was kept of this page")
    if case.screenshot_file:
        try:
            if case.screenshot_sha256 and not verify_file(
                data_dir, case.screenshot_file, case.screenshot_sha256
            ):
                writer.problem(
                    folder + SCREENSHOT, "left out: the file no longer has the hash recorded at the crawl"
                )
            else:
                screenshot = evidence_path(data_dir, case.screenshot_file)
        except (OSError, ValueError) as exc:
            writer.problem(folder + SCREENSHOT, f"left out: {_reason(exc)}")
    pictures = case_images(folder, case.finding.reasons, data_dir, writer.problem)
    files = [name for name, kept in ((CAPTURE, capture), (LISTING, True), (SCREENSHOT, screenshot)) if kept]
    files += sorted(name for picture in pictures for name in (picture.capture_name, picture.file_name))
    if capture is not None:
        writer.add(folder + CAPTURE, [capture], compress=False)
    for picture in pictures:
        writer.add(folder + picture.capture_name, [picture.capture], compress=False)
        writer.add(folder + picture.file_name, [picture.payload], compress=False)
    listing = _listing(case, detail, files)
    listing["evidence"]["images"] = [picture.record() for picture in pictures]
    writer.add(folder + LISTING, [(dumps(listing, indent=1) + "\n").encode("utf-8")])
    if screenshot is not None:
        writer.add(
            folder + SCREENSHOT, _file_chunks(screenshot), size=screenshot.stat().st_size, compress=False
        )


def _listing(case: Case, detail: dict[str, Any], files: Sequence[str]) -> dict[str, Any]:
    finding = case.finding
    price = detail.get("price")
    return {
        "case_id": case.case_id,
        "listing_key": finding.listing_key,
        "site": finding.site,
        "marketplace_id": detail.get("marketplace_id"),
        "url": finding.url,
        "page_url": detail.get("page_url"),
        "observed_at": iso(finding.observed_at),
        "http_status": detail.get("http_status"),
        "title": detail.get("title", finding.title),
        "description": detail.get("description"),
        "brand": detail.get("brand"),
        "model": detail.get("model"),
        "price": None if price is None else float(price),
        "currency": detail.get("currency"),
        "seller": {"name": finding.seller, "id": finding.seller_id, "url": case.seller_url},
        "availability": detail.get("availability"),
        "spec": detail.get("spec") or {},
        "images": detail.get("images") or [],
        "evidence": {
            "files": list(files),
            "warc_file": case.warc_file,
            "warc_offset": case.warc_offset,
            "payload_sha256": case.payload_sha256,
            "screenshot_sha256": case.screenshot_sha256,
        },
    }


def _details(session: Session, observation_ids: Sequence[int | None]) -> dict[int, dict[str, Any]]:
    """What listing.json shows of each observation (the wide columns, read one batch at a time)."""
    ids = sorted({number for number in observation_ids if number is not None})
    if not ids:
        return {}
    query = (
        select(*_DETAILS).join(Listing, Listing.id == Observation.listing_id).where(Observation.id.in_(ids))
    )
    return {row.id: row._asdict() for row in session.execute(query)}


def _csv_chunks(cases: Sequence[Case]) -> Iterator[bytes]:
    """cases.csv: a BOM (so Excel reads Thai as UTF-8), the header, one neutralised row per case."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(CASE_COLUMNS)
    for case in cases:
        record = case.record()
        findings_part = {column: record[column] for column in COLUMNS}
        extra = [cell(record[column]) for column in CASE_COLUMNS[len(COLUMNS) + 1 :]]
        writer.writerow([cell(case.case_id), *csv_row(findings_part), *extra])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _jsonl_chunks(cases: Sequence[Case]) -> Iterator[bytes]:
    for case in cases:
        yield (dumps(case.record()) + "\n").encode("utf-8")


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _batches(items: Sequence[Case], size: int) -> Iterator[Sequence[Case]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _reason(exc: Exception) -> str:
    """An error as a reason that names no path of this machine."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)[:500]


def _version() -> str:
    try:
        return version("tisiwatch")
    except PackageNotFoundError:
        return "unknown"
