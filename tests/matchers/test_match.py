"""The match stage: one verdict per listing under the current register and matcher version, and
every listing judged again after a register import."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import Settings
from matchers import match
from matchers.match import match_pending
from matchers.register import ensure_default_register, import_register
from matchers.verdict import MATCHER_VERSION
from store.db import Store
from store.models import Observation, Verdict
from store.writer import Sighting, ensure_site, start_run, store_sightings

SIGHTINGS = [
    Sighting("1", "http://shop.test/p/1", "พาวเวอร์แบงค์ 20000mAh ชาร์จเร็ว", "ใบอนุญาต ท1234-56/2879"),
    Sighting("2", "http://shop.test/p/2", "ปลั๊กพ่วง 4 ช่อง 3 เมตร", "มีมอก."),
    Sighting("3", "http://shop.test/p/3", "เคสซิลิโคน สำหรับพาวเวอร์แบงค์"),
]


def _seen(store: Store, sightings: list[Sighting]) -> None:
    with store.session() as session:
        site = ensure_site(session, "shop", "html", "http://shop.test")
        run = start_run(session, site)
        store_sightings(session, site, run.id, sightings)
        session.commit()


def _verdicts(store: Store) -> list[tuple[str, int, str, str]]:
    with store.session() as session:
        rows = session.execute(
            select(
                Verdict.listing_id, Verdict.register_version_id, Verdict.verdict, Verdict.matcher_version
            ).order_by(Verdict.id)
        )
        return [(str(listing), version, verdict, matcher) for listing, version, verdict, matcher in rows]


def test_each_listing_is_judged_once_per_register_version(
    any_store: Store, settings: Settings, tmp_path: Path
) -> None:
    ensure_default_register(any_store)
    _seen(any_store, SIGHTINGS)
    first = match_pending(any_store, settings)
    assert first.judged == 3
    assert first.by_verdict == {"invalid_licence": 1, "no_licence_shown": 1, "not_controlled": 1}
    assert match_pending(any_store, settings).judged == 0, "nothing new: nothing judged"
    licences = tmp_path / "licences.csv"
    licences.write_text(
        "licence_no,tis_number,licensee,status\nท1234-56/2879,2879-2560,บริษัท พลังดี จำกัด,active\n",
        encoding="utf-8",
    )
    import_register(any_store, licences, kind="licences")  # a new register version
    second = match_pending(any_store, settings)
    assert second.judged == 3
    assert second.register_version != first.register_version
    verdicts = _verdicts(any_store)
    assert len(verdicts) == 6, "the old verdicts stay, with the version they were made under"
    assert {matcher for *_, matcher in verdicts} == {MATCHER_VERSION}
    latest = {
        listing: verdict for listing, version, verdict, _ in verdicts if version == second.register_version
    }
    assert sorted(latest.values()) == ["licensed", "no_licence_shown", "not_controlled"]


def test_a_new_sighting_is_judged_and_a_gone_listing_is_not(any_store: Store, settings: Settings) -> None:
    ensure_default_register(any_store)
    _seen(any_store, SIGHTINGS[:1])
    assert match_pending(any_store, settings).judged == 1
    _seen(any_store, [Sighting("1", "http://shop.test/p/1", gone=True, http_status=404), SIGHTINGS[1]])
    summary = match_pending(any_store, settings)
    assert (summary.judged, dict(summary.by_verdict)) == (1, {"no_licence_shown": 1})


def test_batches_judge_each_listing_once_on_its_latest_observation(
    any_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listings are read two at a time here: a batch with nothing left to judge (3, 4), a gone
    listing (6) and a last short batch (7) are all passed over or judged as they should be."""
    monkeypatch.setattr(match, "BATCH", 2)
    ensure_default_register(any_store)
    _seen(any_store, [Sighting(str(n), f"http://shop.test/p/{n}", "เคสซิลิโคน") for n in range(1, 8)])
    first = match_pending(any_store, settings)
    assert (first.judged, dict(first.by_verdict)) == (7, {"not_controlled": 7})
    again = [Sighting(str(n), f"http://shop.test/p/{n}", "พาวเวอร์แบงค์ 20000mAh") for n in (2, 5, 7)]
    _seen(any_store, [*again, Sighting("6", "http://shop.test/p/6", gone=True, http_status=404)])
    second = match_pending(any_store, settings)
    assert (second.judged, dict(second.by_verdict)) == (3, {"no_licence_shown": 3})
    with any_store.session() as session:
        query = select(Observation.listing_id, func.max(Observation.id)).group_by(Observation.listing_id)
        latest = {listing: observation for listing, observation in session.execute(query)}
        rows = session.execute(
            select(Verdict.listing_id, Verdict.observation_id, Verdict.verdict, Verdict.licence_status)
        ).all()
    newest = [
        (listing, observation) for listing, observation, verdict, _ in rows if verdict != "not_controlled"
    ]
    assert sorted(newest) == sorted((listing, latest[listing]) for listing, _ in newest)
    assert len(newest) == 3
    assert {status for *_, status in rows} == {None}, "no licence shown: the status is stored as NULL"
