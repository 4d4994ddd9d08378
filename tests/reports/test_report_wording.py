from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from core.sellers import seller_key
from core.verdicts import COMPLIANT, NEEDS_REVIEW, VIOLATIONS
from reports import wording
from reports.findings import Evidence, Finding
from reports.summary import summarise

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
    assert [(row.name, row.open, row.resolved, row.sites, row.repeat) for row in summary.sellers] == [
        ("ร้านดี", 2, 0, ("a", "b"), True),
        ("SHOP one", 2, 0, ("a",), True),
        ("Single", 1, 0, ("a",), False),
        ("Fixed", 0, 1, ("a",), False),  # resolved today: still a seller with a violation that day
    ]
    assert summary.by_seller["ร้านดี"] == 2
    assert [f.listing_key for f in summary.new] == ["a:1", "a:2", "a:4", "a:5"]  # by severity, then seller
    assert summary.counts["violations"] == 6
    assert summary.counts["resolved"] == 1
    assert [f.listing_key for f in summary.needs_review] == ["a:7"]
    assert seller_key(" ร้าน\u200bดี ") == seller_key("ร้านดี")


def _matcher_reason_features() -> set[str]:
    """Every feature name the matcher can put in a verdict's reasons: its feature functions, the
    ``reason("...")`` and ``"feature": "..."`` names of matchers/verdict.py and matchers/reasons.py, and
    licence_<status>."""
    import re
    from pathlib import Path

    import matchers.verdict
    from matchers.features import FEATURES

    folder = Path(matchers.verdict.__file__).parent
    source = "".join((folder / name).read_text(encoding="utf-8") for name in ("verdict.py", "reasons.py"))
    names = {feature.__name__ for feature in FEATURES}
    names |= set(re.findall(r'\breason\(\s*"([a-z_]+)"', source))
    names |= set(re.findall(r'"feature": "([a-z_]+)"', source))
    names |= {f"licence_{status}" for status in LICENCE_STATUSES}
    return names


def test_every_reason_the_matcher_gives_has_plain_words() -> None:
    features = _matcher_reason_features()
    assert {
        "keyword_in_title",
        "named_first",
        "look_alike_word",
        "scope_doubt_word",
        "read_from_image",
    } <= features
    missing = sorted(feature for feature in features if feature not in wording.FEATURES)
    assert not missing, f"reasons without plain words in reports/wording.py FEATURES: {missing}"
    for feature in features:
        phrase = wording.feature_name(feature)
        assert phrase.th != phrase.en, feature
    assert wording.feature_name("something_new") == wording.Phrase("something_new", "something_new")


# (category score, how sure the matcher is, in English) at the default lines: controlled from 0.6, review
# from 0.45 (min_category_score - review_band, computed as the matcher does)
CERTAINTY_CASES = [(1.0, "high"), (0.6, "high"), (0.5999, "medium"), (0.45, "medium"), (0.4499, "low"),
                   (0.0, "low")]  # fmt: skip


@pytest.mark.parametrize(("score", "expected"), CERTAINTY_CASES)
def test_the_category_score_is_said_as_how_sure_the_matcher_is(score: float, expected: str) -> None:
    phrase = wording.certainty(score)
    assert phrase is not None
    assert phrase.en == expected
    assert phrase.th == {"high": "สูง", "medium": "ปานกลาง", "low": "ต่ำ"}[expected]


def test_certainty_follows_the_matchers_own_lines() -> None:
    from config import MatchConfig

    match = MatchConfig(min_category_score=0.8, review_band=0.1)
    bands = wording.Bands(match.min_category_score, match.min_category_score - match.review_band)
    said = [wording.certainty(score, bands) for score in (0.8, 0.75, 0.65)]
    assert [phrase.en if phrase else None for phrase in said] == ["high", "medium", "low"]
    default = MatchConfig()
    assert (
        default.min_category_score,
        default.min_category_score - default.review_band,
    ) == wording.DEFAULT_BANDS
    assert wording.certainty(None) is None


# (feature, score, the score in words in English, or None when the score says nothing to an officer)
REASON_SCORES = [
    ("uncertain_category", 0.52, "certainty medium (0.52)"),
    ("not_controlled", 0.1, "certainty low (0.10)"),
    ("number_without_product_words", 0.15, "certainty low (0.15)"),
    ("keyword_in_title", 0.8, "adds 0.80 to the certainty"),
    ("look_alike_word", -1.0, "takes 1.00 off the certainty"),
    ("licence_revoked", 1.0, None),
    ("on_unsafe_list", 1.0, None),
    ("keyword_in_title", "0.8", None),
    ("keyword_in_title", True, None),
    ("<b>f</b>", 1, None),
]


@pytest.mark.parametrize(("feature", "score", "expected"), REASON_SCORES)
def test_a_reasons_score_in_words(feature: str, score: object, expected: str | None) -> None:
    phrase = wording.reason_score(feature, score)
    assert (phrase.en if phrase else None) == expected
    if phrase is not None:
        assert "ความมั่นใจ" in phrase.th


@pytest.mark.parametrize(
    ("kind", "problem", "th", "en"),
    [
        ("licences", "missing", "ยังไม่เคยนำเข้าทะเบียนใบอนุญาต", "licence numbers shown in listings could not be checked"),
        ("licences", "empty", "ไม่มีใบอนุญาตเลย", "licence numbers shown in listings could not be checked"),
        ("unsafe", "missing", "ยังไม่เคยนำเข้ารายการสินค้าไม่ปลอดภัย", "known-unsafe list was never imported"),
        ("standards", "missing", "ยังไม่มีทะเบียนมาตรฐานบังคับ", "no listing could be recognised"),
        ("licences", "stale", "ทะเบียนใบอนุญาตนำเข้าเมื่อ 45 วันก่อน (เกิน 30 วัน)", "licence register was imported 45 days ago"),
    ],
)  # fmt: skip
def test_register_notices_in_thai_and_english(kind: str, problem: str, th: str, en: str) -> None:
    notice = wording.register_notice(kind, problem, 45, 30)
    assert th in notice.th
    assert en in notice.en


def test_sellers_differing_only_by_an_invisible_character_the_matcher_drops_are_one_seller() -> None:
    """A soft hyphen, a direction override or isolate in a seller's name no longer splits it in two
    (the reports used a smaller set of invisible characters than the matcher)."""
    rows = [
        _finding("a:1", "ร้านดี", "a", "new", "unsafe"),
        _finding("b:1", "ร้าน\u00adดี", "b", "continuing", "no_licence_shown"),
        _finding("c:1", "\u2066ร้านดี\u2069", "c", "new", "no_licence_shown"),
        _finding("d:1", "ร้าน\u202eดี", "d", "new", "invalid_licence"),
    ]
    sellers = summarise(rows).sellers
    assert [(row.name, row.open, row.sites) for row in sellers] == [("ร้านดี", 4, ("a", "b", "c", "d"))]
