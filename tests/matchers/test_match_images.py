"""Marks shown only in a picture, end to end: a demo shop crawled, its product images read by the
match stage (Tesseract OCR, TISI QR code), and the verdicts of the pictured listings."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from config import load_settings
from crawler.profile import load_profile
from crawler.runner import crawl
from demo.generator import generate
from demo.server import start_shops
from demo.writer import write_registers
from matchers.match import match_pending
from matchers.register import ensure_default_register, import_register
from store.db import Store
from store.models import Listing, Observation, Verdict

SEED, SIZE = 7, 30

pytestmark = pytest.mark.skipif(
    shutil.which("tesseract") is None,
    reason="tesseract-ocr is not installed (.ci/system-packages installs it)",
)


def _verdicts(store: Store) -> dict[str, tuple[str, str | None]]:
    with store.session() as session:
        rows = session.execute(
            select(Listing.marketplace_id, Verdict.verdict, Verdict.licence_status)
            .join(Verdict, Verdict.listing_id == Listing.id)
            .order_by(Verdict.id)
        )
        return {item: (verdict, status) for item, verdict, status in rows}


def _image_reasons(store: Store) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Per listing, the reason read from a picture and the crawl's evidence entry of that picture."""
    found = {}
    with store.session() as session:
        rows = session.execute(
            select(Listing.marketplace_id, Verdict.reasons, Observation.image_evidence)
            .join(Verdict, Verdict.listing_id == Listing.id)
            .join(Observation, Observation.id == Verdict.observation_id)
        )
        for item, reasons, kept in rows:
            for reason in reasons:
                if reason["feature"] in ("licence_number_shown", "tisi_qr_in_image") and "evidence" in reason:
                    [picture] = reason["evidence"]
                    found[item] = (reason, next(e for e in kept if e["url"] == picture["url"]))
    return found


@pytest.mark.slow
def test_the_match_stage_reads_marks_shown_only_in_pictures(tmp_path: Path) -> None:
    pictured = [d for d in generate(seed=SEED, size=SIZE) if d.shop == "html" and d.label is not None]
    assert pictured, "the demo html shop has listings whose mark is only in a picture"
    with start_shops(seed=SEED, size=SIZE, day=1, faults=False) as shops:
        results = {}
        for read_images in (False, True):
            folder = tmp_path / str(read_images)
            overrides = {"data_dir": str(folder), "match": {"read_images": read_images}}
            settings = load_settings(overrides=overrides, environ={})
            store = Store(settings.database_url)
            store.migrate()
            ensure_default_register(store)
            registers = write_registers(folder / "registers", seed=SEED, size=SIZE, last_day=1)
            import_register(store, registers["licences"], kind="licences")
            import_register(store, registers["unsafe"], kind="unsafe")
            profile = load_profile("demo-html").with_base_url(shops.urls["html"])
            crawl(settings, [profile], queries=[], store=store)
            match_pending(store, settings)
            results[read_images] = _verdicts(store)
            if read_images:
                cited = _image_reasons(store)
            store.dispose()
    for listing in pictured:
        assert results[False][listing.item_id] == listing.truth(read_images=False), listing.item_id
        assert results[True][listing.item_id] == listing.truth(read_images=True), listing.item_id
        # the verdict read from the label cites the WARC record the crawl kept of it, and its SHA-256
        reason, entry = cited[listing.item_id]
        assert entry["url"].endswith(f"/img/{listing.item_id}/label.png")
        assert f"WARC {entry['warc_file']} offset {entry['warc_offset']}" in reason["detail"]
        assert f"sha256 {entry['payload_sha256']}" in reason["detail"]
        assert reason["evidence"] == [
            {key: entry[key] for key in ("url", "warc_file", "warc_offset", "record_id", "payload_sha256")}
        ]
    others = [d.item_id for d in generate(seed=SEED, size=SIZE) if d.shop == "html" and d.label is None]
    assert all(results[True][item] == results[False][item] for item in others if item in results[False])


def test_image_reasons_say_the_picture_and_its_hash(tmp_path: Path) -> None:
    """The reason of a licence read from a picture names the image, its WARC record and its SHA-256."""
    from matchers.images import ImageReading, ImageRecord
    from matchers.match import build_judge
    from matchers.register import load_register
    from matchers.verdict import ListingFacts

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.migrate()
    ensure_default_register(store)
    with store.session() as session:
        register = load_register(session)
    store.dispose()
    judge = build_judge(register, load_settings(overrides={"data_dir": str(tmp_path)}, environ={}))
    record = ImageRecord("evidence/run-4/w0.warc.gz", 1234, "<urn:uuid:1>", "ab" * 32)
    reading = ImageReading(
        "http://shop.test/img/1/label.png", "ab" * 32, "มอก. 2879-2560 ใบอนุญาต ท1234-56/2879", record=record
    )
    judgement = judge.judge(ListingFacts("พาวเวอร์แบงค์ 10000mAh"), [reading])
    shown = next(r for r in judgement.reasons if r["feature"] == "licence_number_shown")
    assert "read from image http://shop.test/img/1/label.png" in shown["detail"]
    assert "WARC evidence/run-4/w0.warc.gz offset 1234, record <urn:uuid:1>" in shown["detail"]
    assert f"sha256 {'ab' * 32}" in shown["detail"]
    assert shown["evidence"] == [
        {
            "url": "http://shop.test/img/1/label.png",
            "warc_file": "evidence/run-4/w0.warc.gz",
            "warc_offset": 1234,
            "record_id": "<urn:uuid:1>",
            "payload_sha256": "ab" * 32,
        }
    ]
    # a picture that showed no licence is cited too, and one the crawl did not keep says so
    blank = ImageReading("http://shop.test/img/1/1.png", "cd" * 32, "", record=record)
    missing = ImageReading("http://shop.test/img/1/2.png", "", error="image not in evidence")
    judgement = judge.judge(ListingFacts("พาวเวอร์แบงค์ 10000mAh"), [blank, missing])
    assert judgement.verdict == "no_licence_shown"
    read = next(r for r in judgement.reasons if r["feature"] == "images_without_licence")
    assert "http://shop.test/img/1/1.png (WARC evidence/run-4/w0.warc.gz offset 1234" in read["detail"]
    assert "http://shop.test/img/1/2.png: image not in evidence" in read["detail"]
    assert [e.get("error") for e in read["evidence"]] == [None, "image not in evidence"]
