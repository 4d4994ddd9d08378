"""A listing's history (reports.listing), its sellers' pages (reports.sellers) and its evidence read
back (reports.replay), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from config import Settings
from core.sellers import seller_key
from reports import replay
from reports.listing import listing_history
from reports.register import licence_entry
from reports.seller import seller_listings, seller_page, seller_table
from reports.sellers import violation_days
from store.clock import BANGKOK
from store.db import Store
from store.models import Observation
from store.people import add_user
from tests.web.listing_world import KEY, LICENCE_SHOWN, PAGE_TH, PNG, TITLE, build


@pytest.fixture
def officer(any_store: Store) -> str:
    with any_store.session() as session:
        add_user(session, "somchai", "officer", "correct horse battery")
    return "somchai"


def test_history_shows_each_observation_with_what_changed(
    any_store: Store, settings: Settings, officer: str
) -> None:
    built = build(any_store, settings.data_dir, officer)
    with any_store.session() as session:
        history = listing_history(session, KEY)
    assert history is not None
    assert [seen.id for seen in history.observations] == built.observations[::-1]
    gone, second, first = history.observations
    assert first.changed == ()
    assert second.changed == ("title", "price", "licence")
    assert gone.changed == ("gone",)
    assert gone.gone
    assert second.verdict == "invalid_licence"
    assert second.licence_status == "revoked"
    assert second.reasons[0]["feature"] == "licence_number_shown"
    assert history.title == TITLE + " ใหม่"
    assert history.seller == "ร้านดี"
    assert history.seller_key == seller_key("ร้านดี")
    # evidence references of each observation
    assert first.has_page
    assert first.payload_sha256 == built.evidence[0]["payload_sha256"]
    assert second.screenshot_sha256 == hashlib.sha256(PNG).hexdigest()
    assert [(p.number, p.kept, p.error) for p in second.image_evidence] == [
        (1, True, None),
        (2, False, "HTTP 404"),
    ]
    assert history.shown_page is not None
    assert history.shown_page.id == second.id


def test_the_licence_shown_is_read_from_the_register_in_force(
    any_store: Store, settings: Settings, officer: str
) -> None:
    build(any_store, settings.data_dir, officer)
    with any_store.session() as session:
        history = listing_history(session, KEY)
        assert history is not None
        assert history.licence is not None
        assert history.licence.found
        assert history.licence.licensee == "บริษัท <b>ทดสอบ</b> จำกัด"
        assert history.licence.status == "revoked"
        assert history.licence.brands == ("ACME",)
        assert history.licence.shown == LICENCE_SHOWN
        missing = licence_entry(session, "ท 9999-99/1")
        assert missing is not None
        assert not missing.found
        assert licence_entry(session, None) is None


def test_decisions_newest_first_and_the_standing_one(
    any_store: Store, settings: Settings, officer: str
) -> None:
    build(any_store, settings.data_dir, officer)
    with any_store.session() as session:
        history = listing_history(session, KEY)
    assert history is not None
    assert [made.decision for made in history.decisions] == ["confirmed", "dismissed"]
    assert history.decisions[1].reason == "licence_valid"
    assert history.standing is not None
    assert history.standing.decision == "confirmed"


def test_the_sellers_other_listings_are_across_sites(any_store: Store, settings: Settings) -> None:
    built = build(any_store, settings.data_dir)
    with any_store.session() as session:
        history = listing_history(session, KEY)
        assert history is not None
        assert [other.key for other in history.other_listings] == [built.other_key]
        assert history.other_listings[0].site == "shop-b"
        assert history.other_listings[0].violated
        assert {row.key for row in seller_listings(session, seller_key("ร้านดี"))} == {KEY, built.other_key}
        assert seller_listings(session, "nobody") == []


def test_sellers_table_puts_repeat_offenders_first(
    any_store: Store, settings: Settings, officer: str
) -> None:
    build(any_store, settings.data_dir, officer)
    with any_store.session() as session:
        rows = seller_table(session, BANGKOK)
        page = seller_page(session, seller_key("ร้านดี"), BANGKOK)
        assert seller_page(session, "nobody", BANGKOK) is None
    assert [row.key for row in rows] == [seller_key("ร้านดี"), seller_key("ร้านอื่น")]
    first, second = rows
    assert (first.listings, first.violating, first.days, first.sites) == (2, 2, 2, ("shop-a", "shop-b"))
    assert first.repeat
    assert not second.repeat
    assert first.decisions == {"confirmed": 1}
    assert (second.violating, second.days) == (0, 0)
    assert page is not None
    assert page.sites == ("shop-a", "shop-b")
    assert len(page.days) == 2
    assert page.names == ("ร้านดี",)


def test_the_page_is_read_back_with_its_charset_and_hash(any_store: Store, settings: Settings) -> None:
    built = build(any_store, settings.data_dir)
    with any_store.session() as session:
        first = replay.page(session, settings.data_dir, built.observations[0])
        second = replay.page(session, settings.data_dir, built.observations[1])
        picture = replay.image(session, settings.data_dir, built.observations[1], 1)
        shot = replay.screenshot(session, settings.data_dir, built.observations[1])
        with pytest.raises(replay.EvidenceMissing):
            replay.image(session, settings.data_dir, built.observations[1], 2)
        with pytest.raises(replay.EvidenceMissing):
            replay.page(session, settings.data_dir, built.observations[2])  # gone: no record
    assert (first.media_type, first.charset, first.verified) == ("text/html", "tis-620", True)
    assert PAGE_TH in first.body.decode("tis-620")
    assert (second.media_type, second.charset, second.verified) == ("text/html", "utf-8", True)
    assert (picture.media_type, picture.body, picture.verified) == ("image/png", PNG, True)
    assert (shot.body, shot.verified) == (PNG, True)


def test_a_changed_record_no_longer_verifies(sqlite_store: Store, settings: Settings) -> None:
    built = build(sqlite_store, settings.data_dir)
    with sqlite_store.session() as session:
        session.get(Observation, built.observations[0]).payload_sha256 = "0" * 64  # type: ignore[union-attr]
    with sqlite_store.session() as session:
        assert replay.page(session, settings.data_dir, built.observations[0]).verified is False
        assert replay.page_check(session, settings.data_dir, built.observations[0]) is False


@pytest.mark.parametrize(
    "stored",
    ["../outside.warc.gz", "/etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "a/../../outside.warc.gz", "..\\x"],
)
def test_a_path_outside_the_data_directory_is_never_read(
    sqlite_store: Store, settings: Settings, tmp_path: Path, stored: str
) -> None:
    built = build(sqlite_store, settings.data_dir)
    outside = settings.data_dir.parent / "outside.warc.gz"
    outside.write_bytes((settings.data_dir / built.evidence[0]["warc_file"]).read_bytes())
    with sqlite_store.session() as session:
        seen = session.get(Observation, built.observations[0])
        assert seen is not None
        seen.warc_file, seen.screenshot_file = stored, stored
    with sqlite_store.session() as session:
        for read in (replay.page, replay.screenshot):
            with pytest.raises(replay.EvidenceMissing):
                read(session, settings.data_dir, built.observations[0])


def test_a_sellers_days_are_read_from_its_listings_only(
    any_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = build(any_store, settings.data_dir)
    key = seller_key("ร้านดี")
    with any_store.session() as session:
        every = violation_days(session, None, BANGKOK)
        monkeypatch.setattr("reports.sellers.CHUNK", 1)  # one listing per query, merged
        some = violation_days(session, None, BANGKOK, [built.listing_id, built.other_listing_id])
        none = violation_days(session, None, BANGKOK, [])
    assert some == {key: every[key]}
    assert len(every[key]) == 2
    assert none == {}
