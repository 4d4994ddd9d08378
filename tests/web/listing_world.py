"""A listing with a history and real evidence, for the listing, evidence and seller tests.

The pages and the product image go through the crawler's own evidence middleware (as in the case
file's tests, ``tests/reports/test_casefile.py``), so the WARC records, offsets, SHA-256 and the
screenshot are what a crawl writes. The archived page is hostile: a script, an event attribute and an
image from another host.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler

from core.numbers import canonical_licence
from crawler.evidence import PRODUCT_IMAGE, EvidenceMiddleware, evidence_settings, screenshot_page_method
from store.db import Store
from store.decisions import decide
from store.models import Licence, RegisterVersion, User
from tests.reports.report_builders import DAY1, DAY2, World, bkk

HOSTILE = '<script>alert(1)</script><img src="http://external.example/x.png" onerror="alert(2)">'
TITLE = f"{HOSTILE}พาวเวอร์แบงค์ 10000mAh"
PAGE_TH = "<h1>พาวเวอร์แบงค์ ราคาถูก</h1>"
PAGE = (
    "<!doctype html><html><head><title>p</title>"
    '<link rel="stylesheet" href="http://external.example/s.css"></head>'
    f'<body>{PAGE_TH}{HOSTILE}<iframe src="http://external.example/f"></iframe></body></html>'
)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
LICENCE_SHOWN = "ท 1234-56 / 2879"
KEY = "shop-a:p/1?x=1&y=<2>"
"""A listing key with a slash, a query and markup: URL-encoded in every link."""


@dataclass
class Built:
    listing_id: int
    observations: list[int]
    """Oldest first: TIS-620 page, rendered page with screenshot and images, gone."""
    other_key: str
    other_listing_id: int
    evidence: list[dict[str, Any]]


def capture(data_dir: Path, run_id: int = 1) -> list[dict[str, Any]]:
    """Write, through the evidence middleware: a page in TIS-620, a rendered page with a screenshot,
    and a product image; the evidence of each."""
    middleware = EvidenceMiddleware.from_crawler(
        get_crawler(settings_dict=evidence_settings(data_dir, run_id))
    )
    found = []
    try:
        first = Request("https://shop-a.test/p/1", meta={"listing": True})
        middleware.process_response(
            first,
            HtmlResponse(first.url, body=PAGE.encode("tis-620"), request=first,
                         headers={"Content-Type": "text/html; charset=tis-620"}),
        )  # fmt: skip
        found.append(first.meta["evidence"])
        shot = screenshot_page_method()
        shot.result = PNG
        second = Request("https://shop-a.test/p/1", meta={"listing": True, "playwright_page_methods": [shot]})
        middleware.process_response(
            second,
            HtmlResponse(second.url, body=PAGE.encode(), request=second, flags=["playwright"],
                         headers={"Content-Type": "text/html; charset=utf-8"}),
        )  # fmt: skip
        found.append(second.meta["evidence"])
        picture = Request("https://cdn.shop-a.test/1.png", meta={PRODUCT_IMAGE: True})
        middleware.process_response(
            picture, Response(picture.url, body=PNG, request=picture, headers={"Content-Type": "image/png"})
        )
        found.append(picture.meta["evidence"])
    finally:
        middleware.spider_closed()
    return found


def licences(world: World) -> RegisterVersion:
    """A licence register in force with the licence the listing shows (revoked)."""
    standards = world.versions[-1]
    version = RegisterVersion(
        kind="licences", source_name="licences.csv", source_sha256="1" * 64, row_count=1,
        created_at=bkk(date(2025, 2, 1)), standards_from=standards.standards_from,
    )  # fmt: skip
    world.session.add(version)
    world.session.flush()
    version.licences_from = version.id
    world.session.add(
        Licence(
            version_id=version.id, licence_no="ท 1234-56/2879", licence_canonical=canonical_licence(LICENCE_SHOWN),
            tis_number="2879-2560", tis_canonical="2879-2560", licensee="บริษัท <b>ทดสอบ</b> จำกัด",
            brands=["ACME"], status="revoked", issued=date(2020, 1, 1), expires=date(2026, 1, 1),
        )
    )  # fmt: skip
    world.versions.append(version)
    world.session.flush()
    return version


def build(store: Store, data_dir: Path, officer: str | None = None) -> Built:
    """The listing ``KEY`` seen three times (changed, then removed), a second listing of its seller on
    another site, another seller's listing; with ``officer``, a dismissal and then a confirmation."""
    evidence = capture(data_dir)
    page1, page2, image = evidence
    with store.session() as session:
        world = World(session)
        world.register(standards={"2879-2560": "แบตเตอรี่สำรอง"})
        licences(world)
        listing = world.listing("p/1?x=1&y=<2>", title=TITLE, seller="ร้านดี")
        listing.listing_key = KEY
        first = world.observe(listing, bkk(DAY1), "no_licence_shown", title=TITLE)
        for name in ("warc_file", "warc_offset", "payload_sha256"):
            setattr(first, name, page1[name])
        second = world.observe(
            listing, bkk(DAY2), "invalid_licence", title=TITLE + " ใหม่", price=Decimal("349.00"),
            licence_status="revoked", licence_claimed=LICENCE_SHOWN,
            reasons=[{"feature": "licence_number_shown", "score": 1.0, "detail": f"ใบอนุญาต {HOSTILE} ถูกเพิกถอน"}],
        )  # fmt: skip
        for name, value in page2.items():
            setattr(second, name, value)
        second.image_evidence = [
            {"url": "https://cdn.shop-a.test/1.png", "warc_file": image["warc_file"],
             "warc_offset": image["warc_offset"], "payload_sha256": image["payload_sha256"], "status": 200},
            {"url": "https://cdn.shop-a.test/2.png", "error": "HTTP 404"},
        ]  # fmt: skip
        gone = world.observe(listing, bkk(DAY2, 15), gone=True)
        other = world.listing("9", site="shop-b", title="ปลั๊กพ่วง", seller="ร้านดี\u200b ")
        world.observe(other, bkk(DAY1), "no_licence_shown")
        world.observe(other, bkk(DAY2), "no_licence_shown")
        stranger = world.listing("s", title="หม้อหุงข้าว", seller="ร้านอื่น")
        world.observe(stranger, bkk(DAY1), "licensed", licence_status="valid")
        session.flush()
        if officer is not None:
            user = session.query(User).filter_by(username=officer).one()
            decide(session, user, [listing.id], "dismissed", reason="licence_valid", now=bkk(DAY2, 16))
            decide(session, user, [listing.id], "confirmed", note="ขายต่อ <i>จริง</i>", now=bkk(DAY2, 17))
        return Built(listing.id, [first.id, second.id, gone.id], other.listing_key, other.id, evidence)
