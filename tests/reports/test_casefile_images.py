"""The product images a verdict was read from travel in its case: their WARC records and their bytes,
each with its SHA-256 in the manifest; `verify` names an altered image, and an image whose evidence
changed since the crawl is left out and named."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler
from sqlalchemy import select, update
from warcio.archiveiterator import ArchiveIterator

from config import Settings
from crawler.evidence import PRODUCT_IMAGE, EvidenceMiddleware, evidence_settings
from reports.casefile import case_id, export_cases
from reports.caseimages import extension
from reports.verify import verify_casefile
from store.db import Store
from store.models import Listing, Verdict
from tests.reports.test_casefile import PAGES, entries, scenario
from tests.reports.test_verify import rewrite

LABEL = b"\x89PNG\r\n\x1a\n" + b"label with a licence number" * 8
PHOTO = b"\xff\xd8\xff\xe0" + b"product photo" * 8
P1 = f"evidence/{case_id('shop-a:p1')}/"


def fetched_images(data_dir: Path, images: dict[str, bytes]) -> list[dict[str, Any]]:
    """Fetch images through the crawler's evidence middleware (run 2); each one's cited evidence."""
    middleware = EvidenceMiddleware.from_crawler(get_crawler(settings_dict=evidence_settings(data_dir, 2)))
    cited = []
    try:
        for url, body in images.items():
            request = Request(url, meta={PRODUCT_IMAGE: True})
            response = Response(url, body=body, headers={"Content-Type": "image/png"}, request=request)
            middleware.process_response(request, response)
            kept = request.meta["evidence"]
            cited.append(
                {
                    "url": url,
                    "warc_file": kept["warc_file"],
                    "warc_offset": kept["warc_offset"],
                    "record_id": kept["warc_record_id"],
                    "payload_sha256": kept["payload_sha256"],
                }
            )
    finally:
        middleware.spider_closed()
    return cited


def read_from_pictures(store: Store, settings: Settings) -> list[dict[str, Any]]:
    """The scenario, with p1's verdict read from two product images (as the matcher keeps it)."""
    scenario(store, settings.data_dir, PAGES)
    photo, label = fetched_images(  # the label last in the WARC file: a test cuts it off
        settings.data_dir,
        {"https://shop-a.test/img/p1/1.jpg": PHOTO, "https://shop-a.test/img/p1/label.png": LABEL},
    )
    reasons = [
        {"feature": "keyword_in_title", "score": 0.8, "detail": "พาวเวอร์แบงค์"},
        {"feature": "licence_number_shown", "score": 1.0, "detail": "licence (image)", "evidence": [label]},
        {"feature": "images_without_licence", "score": 1.0, "detail": "read", "evidence": [label, photo]},
        {"feature": "no_licence_number", "score": 1.0, "detail": "no licence number shown"},
    ]
    with store.session() as session:
        listing_id = session.scalar(select(Listing.id).where(Listing.marketplace_id == "p1"))
        session.execute(update(Verdict).where(Verdict.listing_id == listing_id).values(reasons=reasons))
    return [label, photo]


def test_a_case_carries_the_images_its_verdict_was_read_from_and_verify_names_a_changed_one(
    any_store: Store, settings: Settings, tmp_path: Path
) -> None:
    label, photo = read_from_pictures(any_store, settings)
    out = tmp_path / "cases.zip"
    summary = export_cases(any_store, settings, out=out, all_violations=True)
    files = entries(out)
    assert files[P1 + "image-1.png"] == LABEL  # each image once, however many reasons cite it
    assert files[P1 + "image-2.jpg"] == PHOTO
    manifest = {item["path"]: item["sha256"] for item in json.loads(files["manifest.json"])["files"]}
    for name, body in (("image-1.png", LABEL), ("image-2.jpg", PHOTO)):
        assert manifest[P1 + name] == hashlib.sha256(body).hexdigest()
    for name, cited in (("image-1.warc.gz", label), ("image-2.warc.gz", photo)):
        assert manifest[P1 + name] == hashlib.sha256(files[P1 + name]).hexdigest()
        records = list(ArchiveIterator(io.BytesIO(files[P1 + name]), check_digests="raise"))
        assert [r.rec_type for r in records] == ["response", "request"]
        assert records[0].rec_headers.get_header("WARC-Record-ID") == cited["record_id"]
        assert records[0].rec_headers.get_header("WARC-Target-URI") == cited["url"]
    listing = json.loads(files[P1 + "listing.json"])
    assert listing["evidence"]["images"] == [
        {"file": "image-1.png", "capture": "image-1.warc.gz", **label},
        {"file": "image-2.jpg", "capture": "image-2.warc.gz", **photo},
    ]
    assert {"image-1.png", "image-1.warc.gz", "image-2.jpg"} <= set(listing["evidence"]["files"])
    assert not any("/image-" in name for name in files if not name.startswith(P1))  # other verdicts: none
    assert not any("image" in problem for problem in summary.problems)
    assert verify_casefile(out).ok

    altered = rewrite(out, change={P1 + "image-1.png": lambda data: data.replace(b"licence", b"LICENCE")})
    assert [str(p) for p in verify_casefile(altered).problems] == [
        f"{P1}image-1.png: altered: its SHA-256 is not the one in the manifest"
    ]


def test_an_image_whose_evidence_changed_since_the_crawl_is_left_out_and_named(
    any_store: Store, settings: Settings, tmp_path: Path
) -> None:
    label, _ = read_from_pictures(any_store, settings)
    warc = settings.data_dir / label["warc_file"]
    warc.write_bytes(warc.read_bytes()[: label["warc_offset"]])  # the label's record is lost
    out = tmp_path / "cases.zip"
    summary = export_cases(any_store, settings, out=out, all_violations=True)
    files = entries(out)
    assert P1 + "image-1.png" not in files
    assert files[P1 + "image-2.jpg"] == PHOTO
    assert [p for p in summary.problems if "image" in p] == [
        f"{P1}image-1.warc.gz: left out: {label['warc_file']}: no gzip WARC record at offset {label['warc_offset']}"
    ]
    assert verify_casefile(out).ok


def test_an_images_extension_comes_from_its_bytes_never_its_url() -> None:
    assert [extension(data) for data in (LABEL, PHOTO, b"GIF89a..", b"RIFF\0\0\0\0WEBPVP8 ", b"<svg/>")] == [
        "png",
        "jpg",
        "gif",
        "webp",
        "bin",
    ]
