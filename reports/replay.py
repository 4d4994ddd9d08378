"""An observation's evidence read back for the workspace: the page as fetched (its WARC record), the
screenshot, and a product image's record, each with its SHA-256 checked against the one recorded at
the crawl.

Only paths stored in the observation's row are read, and only inside the data directory
(``store.evidence.evidence_path``: resolved, then ``is_relative_to``); nothing a request carries
becomes a path. A record that is not where its row says, or a path that leads out of the data
directory, is :class:`EvidenceMissing`.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator

from reports.caseimages import extension
from store.evidence import evidence_path, read_record, verify_file
from store.models import Observation

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
               "bmp": "image/bmp"}  # fmt: skip
"""What an image is served as, by its first bytes (never by what the marketplace said it was)."""


@dataclass(frozen=True, slots=True)
class ImageEvidence:
    """One product image the crawl fetched for an observation (``Observation.image_evidence``)."""

    number: int
    url: str
    payload_sha256: str | None
    kept: bool
    """A WARC record of the image was written (else ``error`` says why not)."""
    error: str | None = None


class EvidenceMissing(LookupError):
    """No such evidence, or it cannot be read from where its row says it is."""


@dataclass(frozen=True, slots=True)
class Replayed:
    """Bytes of one piece of evidence, how to serve them, and whether their SHA-256 still matches."""

    body: bytes
    media_type: str
    charset: str | None
    sha256: str
    recorded_sha256: str | None

    @property
    def verified(self) -> bool | None:
        """True: the SHA-256 is the one recorded at the crawl; False: it differs; None: none recorded."""
        if not self.recorded_sha256:
            return None
        return self.sha256 == self.recorded_sha256.lower()


def _observation(session: Session, observation_id: int) -> Observation:
    observation = session.get(Observation, observation_id)
    if observation is None:
        raise EvidenceMissing(f"no observation {observation_id}")
    return observation


def _record(data_dir: Path, warc_file: str | None, offset: Any) -> tuple[Any, Any, bytes]:
    """The WARC headers, HTTP headers (None for a ``resource`` record) and payload at ``offset``."""
    if not isinstance(warc_file, str) or not warc_file or not isinstance(offset, int):
        raise EvidenceMissing("no WARC record was kept")
    try:
        raw = read_record(data_dir, warc_file, offset)
        for record in ArchiveIterator(BytesIO(raw)):
            return record.rec_headers, record.http_headers, record.raw_stream.read()
    except (OSError, ValueError) as exc:
        raise EvidenceMissing(f"the WARC record cannot be read: {type(exc).__name__}") from exc
    raise EvidenceMissing("no WARC record")


def _media(content_type: str) -> tuple[str, str | None]:
    """The media type and a charset Python knows (else None) of a Content-Type value."""
    parts = [part.strip() for part in content_type.split(";")]
    media = parts[0].lower() or "text/html"
    charset = None
    for part in parts[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            value = value.strip().strip('"').strip("'")
            try:
                charset = codecs.lookup(value).name if value else None
            except LookupError:
                charset = None
    return media, charset


def page(session: Session, data_dir: Path, observation_id: int) -> Replayed:
    """The listing page as it was fetched (a ``response`` record) or rendered (a ``resource`` record).
    HTML is served as ``text/html`` with the record's charset; anything else as ``text/plain``."""
    observation = _observation(session, observation_id)
    rec_headers, http_headers, payload = _record(data_dir, observation.warc_file, observation.warc_offset)
    if rec_headers.get_header("WARC-Type") not in ("response", "resource"):
        raise EvidenceMissing("the record is not a page")
    headers = http_headers if http_headers is not None else rec_headers
    media, charset = _media(headers.get_header("Content-Type") or "")
    return Replayed(
        body=payload,
        media_type="text/html" if media in HTML_TYPES else "text/plain",
        charset=charset,
        sha256=hashlib.sha256(payload).hexdigest(),
        recorded_sha256=observation.payload_sha256,
    )


def screenshot(session: Session, data_dir: Path, observation_id: int) -> Replayed:
    """The full-page PNG a browser took of the listing page."""
    observation = _observation(session, observation_id)
    if not observation.screenshot_file:
        raise EvidenceMissing("no screenshot was taken")
    try:
        body = evidence_path(data_dir, observation.screenshot_file).read_bytes()
    except (OSError, ValueError) as exc:
        raise EvidenceMissing(f"the screenshot cannot be read: {type(exc).__name__}") from exc
    if extension(body) != "png":
        raise EvidenceMissing("the screenshot is not a PNG")
    return Replayed(body, "image/png", None, hashlib.sha256(body).hexdigest(), observation.screenshot_sha256)


def image(session: Session, data_dir: Path, observation_id: int, number: int) -> Replayed:
    """Product image ``number`` (from 1, in the listing's order) as the crawl fetched it."""
    stored = _observation(session, observation_id).image_evidence or []
    if not 1 <= number <= len(stored) or not isinstance(stored[number - 1], Mapping):
        raise EvidenceMissing(f"no image {number}")
    cited = stored[number - 1]
    _, _, payload = _record(data_dir, cited.get("warc_file"), cited.get("warc_offset"))
    kind = IMAGE_TYPES.get(extension(payload), "application/octet-stream")
    recorded = cited.get("payload_sha256")
    sha256 = hashlib.sha256(payload).hexdigest()
    return Replayed(payload, kind, None, sha256, recorded if isinstance(recorded, str) else None)


def page_check(session: Session, data_dir: Path, observation_id: int) -> bool | None:
    """Whether the page's record still has its recorded SHA-256 (None: it cannot be read)."""
    try:
        return page(session, data_dir, observation_id).verified
    except EvidenceMissing:
        return None


def screenshot_check(data_dir: Path, relative: str | None, sha256: str | None) -> bool | None:
    """Whether a screenshot file still has its recorded SHA-256 (None: none, or it cannot be read)."""
    if not relative or not sha256:
        return None
    try:
        return verify_file(data_dir, relative, sha256)
    except (OSError, ValueError):
        return None


def image_evidence(stored: Sequence[Any] | None) -> tuple[ImageEvidence, ...]:
    """The product image records of an observation, numbered from 1 in the listing's order."""
    images = []
    for number, item in enumerate(stored or (), start=1):
        if not isinstance(item, Mapping):
            continue
        kept = isinstance(item.get("warc_file"), str) and isinstance(item.get("warc_offset"), int)
        sha = item.get("payload_sha256")
        error = item.get("error")
        images.append(
            ImageEvidence(
                number=number,
                url=str(item.get("url") or ""),
                payload_sha256=sha if isinstance(sha, str) else None,
                kept=kept,
                error=None if error is None else str(error),
            )
        )
    return tuple(images)
