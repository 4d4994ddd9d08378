from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reports.findings import COLUMNS, Finding, findings, status_of
from store.db import Store
from tests.reports.report_builders import DAY1, DAY2, EXPECTED, World, bkk, two_days


def _scenario(store: Store) -> None:
    with store.session() as session:
        two_days(World(session))


def _by_id(rows: list[Finding]) -> dict[str, Finding]:
    return {row.listing_key.split(":", 1)[1]: row for row in rows}


@pytest.mark.parametrize(("day", "position"), [(DAY1, 0), (DAY2, 1)])
def test_status_follows_the_rules_across_two_bangkok_days(any_store: Store, day: date, position: int) -> None:
    _scenario(any_store)
    with any_store.session() as session:
        rows = _by_id(findings(session, day))
    expected = {
        key: statuses[position] for key, statuses in EXPECTED.items() if statuses[position] != "absent"
    }
    assert {key: row.status for key, row in rows.items()} == expected


def test_finding_fields_come_from_the_latest_observation_and_its_best_verdict(any_store: Store) -> None:
    _scenario(any_store)
    with any_store.session() as session:
        rows = _by_id(findings(session, DAY2))
    cont = rows["cont"]
    assert (cont.site, cont.seller, cont.currency, str(cont.price)) == ("shop-a", "ร้านดี", "THB", "399.00")
    assert cont.observed_at == bkk(DAY2).astimezone(UTC)
    assert cont.first_seen == bkk(DAY1).astimezone(UTC)
    assert cont.last_seen == bkk(DAY2).astimezone(UTC)
    assert cont.evidence.warc == "warc/run-2.warc.gz"
    assert cont.evidence.sha256 == "ab" * 32
    assert cont.reasons[0]["feature"] == "keyword_in_title"
    # the verdict made under the newer register wins over the older one of the same observation
    rematched = rows["rematched"]
    assert (rematched.verdict, rematched.licence_status) == ("licensed", "valid")
    assert rematched.register_version == max(row.register_version or 0 for row in rows.values())
    # a gone listing shows what was last seen of it, and is marked gone
    gone = rows["gone"]
    assert gone.gone
    assert gone.title == "พาวเวอร์แบงค์ระเบิด"
    assert gone.verdict == "unsafe"
    assert gone.observed_at == bkk(DAY1).astimezone(UTC)
    assert rows["removed"].gone
    assert rows["pending"].verdict is None
    assert rows["pending"].reasons == []
    assert rows["fresh"].licence_claimed == "ท1234-56/2879"


def test_day_boundary_is_bangkok_midnight(any_store: Store) -> None:
    _scenario(any_store)
    with any_store.session() as session:
        day1 = _by_id(findings(session, DAY1))
        day2 = _by_id(findings(session, DAY2))
    # 23:30 Bangkok is 16:30 UTC the same date; 00:30 Bangkok the next day is 17:30 UTC the previous date
    assert day1["late"].record()["observed_at"] == "2025-03-10T16:30:00Z"
    assert "early" not in day1
    assert day2["early"].record()["observed_at"] == "2025-03-10T17:30:00Z"
    assert (day1["late"].status, day2["late"].status, day2["early"].status) == ("new", "continuing", "new")


def test_all_time_takes_every_observation(any_store: Store) -> None:
    _scenario(any_store)
    with any_store.session() as session:
        rows = _by_id(findings(session))
    assert set(rows) == set(EXPECTED)
    # today is long after the scenario: open violations continue, nothing is new or resolved today
    assert {row.status for row in rows.values()} == {"continuing", None}
    assert rows["cont"].status == "continuing"
    assert rows["fixed"].status is None


def test_filters_by_site_verdict_and_since(any_store: Store) -> None:
    _scenario(any_store)
    with any_store.session() as session:
        shop_b = findings(session, DAY2, site="shop-b")
        unsafe = findings(session, DAY2, verdicts=["unsafe"])
        recent = findings(session, DAY2, since=DAY2)
        since_moment = findings(session, DAY2, since=datetime(2025, 3, 10, 17, 0, tzinfo=UTC))
        nothing = findings(session, DAY2, site="no-such-site")
    assert [row.listing_key for row in shop_b] == ["shop-b:other"]
    assert shop_b[0].status == "new"
    assert sorted(row.listing_key for row in unsafe) == ["shop-a:gone", "shop-a:interlude"]
    assert {row.status for row in unsafe} == {"resolved", "continuing"}
    recent_ids = set(_by_id(recent))
    assert "early" in recent_ids
    assert "late" not in recent_ids
    assert "gone" not in recent_ids
    assert "late" not in _by_id(since_moment)
    assert "early" in _by_id(since_moment)
    assert nothing == []


def test_empty_store_has_no_findings(any_store: Store) -> None:
    with any_store.session() as session:
        assert findings(session, DAY1) == []


def test_record_keys_are_the_spec_columns_in_order(sqlite_store: Store) -> None:
    _scenario(sqlite_store)
    with sqlite_store.session() as session:
        rows = findings(session, DAY2)
    record = rows[0].record()
    assert tuple(record) == COLUMNS
    assert set(record["evidence"]) == {"sha256", "warc", "screenshot"}


T0 = datetime(2025, 3, 1, tzinfo=UTC)
T1 = datetime(2025, 3, 5, tzinfo=UTC)

STATUS_CASES = [
    # (verdict at the end of the day, gone, last violating before, last resolving before, expected)
    ("no_licence_shown", False, None, None, "new"),
    ("invalid_licence", False, T0, None, "continuing"),
    ("unsafe", False, T0, T1, "new"),  # violating again after it was resolved
    ("unsafe", False, T1, T0, "continuing"),
    ("unsafe", True, T1, None, "resolved"),  # gone
    ("licensed", False, T1, None, "resolved"),
    ("not_controlled", False, T1, T0, "resolved"),
    ("licensed", False, T0, T1, None),  # resolved earlier, not today
    ("licensed", False, None, None, None),
    ("needs_review", False, T1, None, None),
    ("needs_review", False, None, None, None),
    (None, False, T1, None, None),  # not matched yet
    (None, True, T1, None, "resolved"),
    ("no_licence_shown", True, None, None, None),  # first seen already gone
]


@pytest.mark.parametrize(("verdict", "gone", "violating", "resolving", "expected"), STATUS_CASES)
def test_status_rules(
    verdict: str | None,
    gone: bool,
    violating: datetime | None,
    resolving: datetime | None,
    expected: str | None,
) -> None:
    assert status_of(verdict, gone, violating, resolving) == expected


def test_filter_by_standard_as_written_or_by_base_number(any_store: Store) -> None:
    numbers = {"a": "2879-2560", "b": "685 เล่ม 1-2562", "c": "28790-2560", "d": "2_79-2560"}
    with any_store.session() as session:
        world = World(session)
        for key, number in numbers.items():
            world.observe(world.listing(key), bkk(DAY1), "no_licence_shown", tis_number=number)
    with any_store.session() as session:

        def keys(standard: str) -> list[str]:
            return [row.listing_key for row in findings(session, DAY1, standard=standard)]

        assert keys("2879") == ["shop-a:a"]
        assert keys(" 2879-2560 ") == ["shop-a:a"]
        assert keys("685") == ["shop-a:b"]
        assert keys("685 เล่ม 1-2562") == ["shop-a:b"]
        assert keys("2_79") == ["shop-a:d"]  # "_" is not a wildcard
        assert keys("%") == []
