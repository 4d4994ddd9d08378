"""Build store rows for report tests directly through the models: sites, listings, observations,
register versions and verdicts, with Bangkok times that read like the scenario they describe."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from store.clock import BANGKOK
from store.models import (
    CrawlFailure,
    CrawlRun,
    Listing,
    Observation,
    RegisterVersion,
    Site,
    Standard,
    Verdict,
)

DAY1 = date(2025, 3, 10)
DAY2 = date(2025, 3, 11)


def bkk(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment on a Bangkok day (timezone-aware)."""
    return datetime.combine(day, time(hour, minute), tzinfo=BANGKOK)


class World:
    """Adds rows to one session; every helper flushes so ids are known."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sites: dict[str, Site] = {}
        self.versions: list[RegisterVersion] = []

    def site(self, name: str = "shop-a", kind: str = "html") -> Site:
        if name not in self.sites:
            self.sites[name] = Site(name=name, kind=kind, base_url=f"https://{name}.test")
            self.session.add(self.sites[name])
            self.session.flush()
        return self.sites[name]

    def register(
        self, at: datetime | None = None, standards: dict[str, str] | None = None
    ) -> RegisterVersion:
        version = RegisterVersion(
            kind="standards",
            source_name="standards.csv",
            source_sha256="0" * 64,
            row_count=len(standards or {}),
            created_at=at or bkk(date(2025, 1, 1)),
        )
        self.session.add(version)
        self.session.flush()
        previous = self.versions[-1].standards_from if self.versions else None
        version.standards_from = version.id if standards else previous
        for number, name in (standards or {}).items():
            self.session.add(
                Standard(
                    version_id=version.id,
                    tis_number=number,
                    tis_canonical=number,
                    tis_base=number.split("-")[0],
                    name_th=name,
                )
            )
        self.versions.append(version)
        self.session.flush()
        return version

    def listing(
        self, marketplace_id: str, *, site: str = "shop-a", title: str = "", seller: str | None = "ร้านดี",
        url: str | None = None,
    ) -> Listing:  # fmt: skip
        owner = self.site(site)
        listing = Listing(
            listing_key=f"{site}:{marketplace_id}",
            site_id=owner.id,
            marketplace_id=marketplace_id,
            url=url if url is not None else f"https://{site}.test/p/{marketplace_id}",
            title=title or f"พาวเวอร์แบงค์ {marketplace_id}",
            seller_name=seller,
            first_seen=bkk(DAY1),
            last_seen=bkk(DAY1),
        )
        self.session.add(listing)
        self.session.flush()
        return listing

    def observe(
        self, listing: Listing, at: datetime, verdict: str | None = None, *, gone: bool = False,
        licence_status: str | None = None, tis_number: str | None = "2879-2560", title: str | None = None,
        seller: str | None = None, price: Decimal | None = Decimal("399.00"), reasons: Any = None,
        licence_claimed: str | None = None, register: RegisterVersion | None = None, score: float = 0.9,
        warc_file: str | None = None, screenshot_file: str | None = None, url: str | None = None,
    ) -> Observation:  # fmt: skip
        """An observation of ``listing`` at ``at``, with a verdict when ``verdict`` is given."""
        observation = Observation(
            listing_id=listing.id,
            observed_at=at,
            url=url or listing.url,
            gone=gone,
            http_status=404 if gone else 200,
            title="" if gone else (title if title is not None else listing.title),
            price=None if gone else price,
            currency=None if gone else "THB",
            seller_name=None if gone else (seller if seller is not None else listing.seller_name),
            content_hash=hashlib.sha256(f"{listing.id}{at}{gone}{title}".encode()).hexdigest(),
            warc_file=warc_file,
            payload_sha256="ab" * 32 if warc_file else None,
            screenshot_file=screenshot_file,
        )
        self.session.add(observation)
        self.session.flush()
        if gone:
            listing.gone_at = listing.gone_at or at
        else:
            listing.gone_at = None
            listing.last_seen = max(listing.last_seen, at)
        if verdict is not None:
            options = {"licence_status": licence_status, "tis_number": tis_number, "reasons": reasons}
            options |= {"licence_claimed": licence_claimed, "register": register, "score": score}
            self.judge(observation, verdict, **options)
        return observation

    def judge(
        self, observation: Observation, verdict: str, *, licence_status: str | None = None,
        tis_number: str | None = "2879-2560", reasons: Any = None, licence_claimed: str | None = None,
        register: RegisterVersion | None = None, score: float = 0.9, created_at: datetime | None = None,
    ) -> Verdict:  # fmt: skip
        version = register or (self.versions[-1] if self.versions else self.register())
        row = Verdict(
            listing_id=observation.listing_id,
            observation_id=observation.id,
            register_version_id=version.id,
            matcher_version="m1",
            created_at=created_at or observation.observed_at,
            verdict=verdict,
            licence_status=licence_status,
            tis_number=tis_number,
            score=score,
            licence_claimed=licence_claimed,
            reasons=reasons if reasons is not None else [self._reason(verdict, score)],
        )
        self.session.add(row)
        self.session.flush()
        return row

    @staticmethod
    def _reason(verdict: str, score: float) -> dict[str, Any]:
        return {
            "feature": "keyword_in_title",
            "score": score,
            "detail": f"คำว่า “พาวเวอร์แบงค์” ในชื่อ ({verdict})",
        }

    def run(
        self, site: str, started: datetime, stats: dict[str, Any], failures: int = 0, status: str = "finished"
    ) -> CrawlRun:
        run = CrawlRun(
            site_id=self.site(site).id, started_at=started, finished_at=started, status=status, stats=stats
        )
        self.session.add(run)
        self.session.flush()
        for number in range(failures):
            self.session.add(
                CrawlFailure(run_id=run.id, url=f"https://{site}.test/x{number}", reason="HTTP 503")
            )
        self.session.flush()
        return run


DAY0 = date(2025, 3, 8)

# marketplace id -> (status at the end of DAY1, status at the end of DAY2); "absent" = not yet observed
EXPECTED: dict[str, tuple[str | None, str | None]] = {
    "cont": ("new", "continuing"),
    "fresh": ("absent", "new"),
    "gone": ("new", "resolved"),
    "fixed": ("new", "resolved"),
    "fine": (None, None),
    "review": ("absent", None),
    "promoted": (None, "new"),
    "relapse": ("resolved", "new"),
    "rematched": ("new", "resolved"),
    "pending": ("absent", None),
    "late": ("new", "continuing"),
    "early": ("absent", "new"),
    "removed": ("new", "resolved"),
    "interlude": (None, "continuing"),
    "other": ("absent", "new"),
}


def two_days(world: World) -> dict[str, Listing]:
    """Listings observed over two Bangkok days (DAY1, DAY2) covering every status rule; see EXPECTED."""
    v1 = world.register(bkk(date(2025, 1, 1)), {"2879-2560": "แบตเตอรี่สำรอง"})
    v2 = world.register(bkk(DAY2, 9))
    listings = {key: world.listing(key) for key in EXPECTED if key != "other"}
    listings["other"] = world.listing("other", site="shop-b", seller="ร้านดี ")
    d1, d2 = bkk(DAY1), bkk(DAY2)
    observe = world.observe
    observe(listings["cont"], d1, "no_licence_shown", register=v1)
    observe(listings["cont"], d2, "no_licence_shown", register=v2, warc_file="warc/run-2.warc.gz")
    observe(
        listings["fresh"], d2, "invalid_licence", licence_status="revoked", licence_claimed="ท1234-56/2879"
    )
    observe(listings["gone"], d1, "unsafe", register=v1, title="พาวเวอร์แบงค์ระเบิด")
    observe(listings["gone"], bkk(DAY2, 11), gone=True)
    observe(listings["fixed"], d1, "no_licence_shown", register=v1)
    observe(listings["fixed"], d2, "licensed", licence_status="valid", licence_claimed="ท9999-61/2879")
    observe(listings["fine"], d1, "licensed", licence_status="valid", register=v1)
    observe(listings["fine"], d2, "licensed", licence_status="valid")
    observe(listings["review"], d2, "needs_review")
    observe(listings["promoted"], d1, "needs_review", register=v1)
    observe(listings["promoted"], d2, "invalid_licence", licence_status="not_found")
    observe(listings["relapse"], bkk(DAY0), "no_licence_shown", register=v1)
    observe(listings["relapse"], d1, "licensed", licence_status="valid", register=v1)
    observe(listings["relapse"], d2, "no_licence_shown")
    observe(listings["rematched"], d1, "no_licence_shown", register=v1)
    seen = observe(listings["rematched"], d2, "no_licence_shown", register=v1)
    world.judge(seen, "licensed", licence_status="valid", register=v2, created_at=bkk(DAY2, 9, 30))
    observe(listings["pending"], d2)
    observe(listings["late"], bkk(DAY1, 23, 30), "no_licence_shown", register=v1)
    observe(listings["early"], bkk(DAY2, 0, 30), "no_licence_shown", register=v1)
    observe(listings["removed"], d1, "no_licence_shown", register=v1)
    listings["removed"].gone_at = bkk(DAY2, 12)
    observe(listings["interlude"], bkk(DAY0), "unsafe", register=v1)
    observe(listings["interlude"], d1, "needs_review", register=v1)
    observe(listings["interlude"], d2, "unsafe")
    observe(listings["other"], d2, "no_licence_shown")
    world.session.flush()
    return listings


def busy_days(
    world: World, continuing: int = 300, new: int = 12, resolved: int = 8
) -> dict[str, list[Listing]]:
    """Two days of a busy marketplace: ``continuing`` listings violating on DAY1 and still on DAY2, ``new``
    first seen violating on DAY2, ``resolved`` violating on DAY1 and licensed on DAY2 — each with a
    realistic title, seller, licence text, three verdict reasons and its evidence."""
    v1 = world.register(bkk(date(2025, 1, 1)), {"2879-2560": "แบตเตอรี่สำรอง", "2432-2555": "เต้าเสียบและเต้ารับ"})
    made: dict[str, list[Listing]] = {"continuing": [], "new": [], "resolved": []}
    shops = ("ร้านไฟฟ้าดีดี", "PowerShop Official", "ร้านปลั๊กพ่วงราคาส่ง", "เครื่องใช้ไฟฟ้า 24 ชม.")

    def make(kind: str, number: int) -> Listing:
        listing = world.listing(
            f"{kind}-{number:04d}",
            site=("shop-a", "shop-b")[number % 2],
            title=f"พาวเวอร์แบงค์ 20000mAh ชาร์จเร็ว PD 20W รุ่น X{number:04d} แบตสำรอง พกพาสะดวก ของแท้ ประกันศูนย์",
            seller=shops[number % len(shops)],
        )
        made[kind].append(listing)
        return listing

    def violate(listing: Listing, at: datetime, number: int) -> None:
        reasons = [
            {"feature": "keyword_in_title", "score": 0.5, "detail": "คำว่า “พาวเวอร์แบงค์” ในชื่อสินค้า"},
            {"feature": "named_first", "score": 0.2, "detail": "ชื่อสินค้าขึ้นต้นด้วย “พาวเวอร์แบงค์”"},
            {"feature": "no_licence_number", "score": 0, "detail": "ไม่พบเลขที่ใบอนุญาตในชื่อ รายละเอียด และสเปก"},
        ]
        world.observe(
            listing, at, "no_licence_shown", register=v1, reasons=reasons, licence_claimed="มอก.",
            warc_file=f"warc/{at.date()}.warc.gz", screenshot_file=f"shots/{listing.id}-{number}.png",
        )  # fmt: skip

    for number in range(continuing):
        listing = make("continuing", number)
        violate(listing, bkk(DAY1, 9), number)
        violate(listing, bkk(DAY2, 9), number)
    for number in range(new):
        violate(make("new", number), bkk(DAY2, 9), number)
    for number in range(resolved):
        listing = make("resolved", number)
        violate(listing, bkk(DAY1, 9), number)
        world.observe(
            listing, bkk(DAY2, 9), "licensed", licence_status="valid", licence_claimed="ท1234-56/2879"
        )
    world.session.flush()
    return made
