"""The match stage: one verdict per listing under the current register and matcher version, and
every listing judged again after a register import."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import Settings
from matchers import match
from matchers.match import RegisterMissing, match_pending
from matchers.register import ensure_default_register
from matchers.verdict import MATCHER_VERSION
from store.db import Store
from store.models import Observation, Verdict
from store.writer import Sighting, ensure_site, start_run, store_sightings
from tests.conftest import small_registers

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


def test_match_refuses_registers_that_were_never_imported(any_store: Store, settings: Settings) -> None:
    """Without a licence register a licence shown would be "not found"; without an unsafe list a
    listed product would pass: match stops and says which commands import them, judging nothing."""
    ensure_default_register(any_store)
    _seen(any_store, SIGHTINGS)
    with pytest.raises(RegisterMissing) as refused:
        match_pending(any_store, settings)
    message = str(refused.value)
    assert "no licence register" in message
    assert "no unsafe list" in message
    assert "tisiwatch register import licences.csv --kind licences" in message
    assert "tisiwatch register import unsafe.csv --kind unsafe" in message
    assert "\n" not in message
    assert _verdicts(any_store) == []


def test_judged_anyway_a_licence_shown_goes_to_review_and_every_verdict_says_why(
    any_store: Store, settings: Settings
) -> None:
    ensure_default_register(any_store)
    _seen(any_store, SIGHTINGS)
    summary = match_pending(any_store, settings, allow_missing_registers=True)
    assert summary.missing == ["licences", "unsafe"]
    assert summary.by_verdict == {"needs_review": 1, "no_licence_shown": 1, "not_controlled": 1}
    with any_store.session() as session:
        rows = session.execute(select(Verdict.verdict, Verdict.licence_status, Verdict.reasons)).all()
    features = {verdict: [reason["feature"] for reason in reasons] for verdict, _, reasons in rows}
    assert "licence_register_missing" in features["needs_review"]
    assert all("unsafe_list_missing" in fired for fired in features.values())
    assert {status for _, status, _ in rows} == {None}, "nothing judged not_found"


def test_each_listing_is_judged_once_per_register_version(
    any_store: Store, settings: Settings, tmp_path: Path
) -> None:
    ensure_default_register(any_store)
    small_registers(any_store, tmp_path)
    _seen(any_store, SIGHTINGS)
    first = match_pending(any_store, settings)
    assert first.judged == 3
    assert first.by_verdict == {"invalid_licence": 1, "no_licence_shown": 1, "not_controlled": 1}
    assert match_pending(any_store, settings).judged == 0, "nothing new: nothing judged"
    small_registers(any_store, tmp_path, "ท1234-56/2879,2879-2560")  # new register versions
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


def test_a_new_sighting_is_judged_and_a_gone_listing_is_not(
    any_store: Store, settings: Settings, tmp_path: Path
) -> None:
    ensure_default_register(any_store)
    small_registers(any_store, tmp_path)
    _seen(any_store, SIGHTINGS[:1])
    assert match_pending(any_store, settings).judged == 1
    _seen(any_store, [Sighting("1", "http://shop.test/p/1", gone=True, http_status=404), SIGHTINGS[1]])
    summary = match_pending(any_store, settings)
    assert (summary.judged, dict(summary.by_verdict)) == (1, {"no_licence_shown": 1})


def test_batches_judge_each_listing_once_on_its_latest_observation(
    any_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Listings are read two at a time here: a batch with nothing left to judge (3, 4), a gone
    listing (6) and a last short batch (7) are all passed over or judged as they should be."""
    monkeypatch.setattr(match, "BATCH", 2)
    ensure_default_register(any_store)
    small_registers(any_store, tmp_path)
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
