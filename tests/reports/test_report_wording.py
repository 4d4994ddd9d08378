from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from reports import wording
from reports.findings import COMPLIANT, NEEDS_REVIEW, VIOLATIONS, Evidence, Finding
from reports.summary import seller_key, summarise

LICENCE_STATUSES = ["valid", "not_found", "revoked", "suspended", "expired", "wrong_standard", "wrong_brand"]


@pytest.mark.parametrize("verdict", [*VIOLATIONS, *COMPLIANT, NEEDS_REVIEW])
def test_every_verdict_has_a_name_and_a_reason_in_thai_and_english(verdict: str) -> None:
    name = wording.verdict_name(verdict)
    reason = wording.explain(verdict)
    assert name.th
    assert name.en
    assert reason.th
    assert reason.en
    assert name.th != name.en
    assert reason != name


@pytest.mark.parametrize("status", [s for s in LICENCE_STATUSES if s != "valid"])
def test_every_invalid_licence_status_has_its_own_reason(status: str) -> None:
    reason = wording.explain("invalid_licence", status)
    assert reason != wording.explain("invalid_licence")
    assert wording.licence_status_name(status) is not None


def test_unknown_values_are_shown_as_they_are() -> None:
    assert wording.verdict_name("something_new").en == "something_new"
    assert wording.explain("something_new").en == "something_new"
    assert wording.explain(None) == wording.REASONS[("unmatched", None)]
    assert wording.explain("unsafe", gone=True) == wording.GONE
    assert wording.licence_status_name(None) is None
    assert wording.LABELS["new"].both() == "การละเมิดใหม่ · New violations"


def _finding(key: str, seller: str | None, site: str, status: str | None, verdict: str) -> Finding:
    moment = datetime(2025, 3, 10, tzinfo=UTC)
    return Finding(
        listing_key=key, site=site, url="https://x.test", title="t", seller=seller, price=Decimal(1),
        currency="THB", observed_at=moment, verdict=verdict, licence_status=None, tis_number="2879-2560",
        category_score=0.9, licence_claimed=None, reasons=[], status=status, first_seen=moment,
        last_seen=moment, register_version=1, evidence=Evidence(),
    )  # fmt: skip


def test_sellers_are_grouped_across_sites_repeat_offenders_first() -> None:
    rows = [
        _finding("a:1", "ร้านดี", "a", "new", "unsafe"),
        _finding("b:1", " ร้าน\u200bดี ", "b", "continuing", "no_licence_shown"),
        _finding("a:2", "Shop One", "a", "new", "no_licence_shown"),
        _finding("a:3", "SHOP  one", "a", "continuing", "invalid_licence"),
        _finding("a:4", "Single", "a", "new", "no_licence_shown"),
        _finding("a:5", None, "a", "new", "no_licence_shown"),
        _finding("a:6", "Fixed", "a", "resolved", "licensed"),
        _finding("a:7", "Queue", "a", None, "needs_review"),
    ]
    summary = summarise(rows)
    assert [(row.name, row.violations, row.sites, row.repeat) for row in summary.sellers] == [
        ("ร้านดี", 2, ("a", "b"), True),
        ("SHOP one", 2, ("a",), True),
        ("Single", 1, ("a",), False),
    ]
    assert summary.by_seller["ร้านดี"] == 2
    assert [f.listing_key for f in summary.new] == ["a:1", "a:2", "a:4", "a:5"]  # by severity, then seller
    assert summary.counts["violations"] == 6
    assert summary.counts["resolved"] == 1
    assert [f.listing_key for f in summary.needs_review] == ["a:7"]
    assert seller_key(" ร้าน\u200bดี ") == seller_key("ร้านดี")
