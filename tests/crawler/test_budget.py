"""The daily plan (``crawler.budget``): order, rotation across days, productivity, fairness, what is left."""

from __future__ import annotations

from crawler.budget import DEFAULT_WORD_COST, choose_words, default_cost, plan_budget, summary
from store.planning import WordHistory

WORDS = [f"w{i}" for i in range(10)]


def record(requests: int, violations: int, last_cost: int | None = None) -> WordHistory:
    return WordHistory(1, requests, violations, requests if last_cost is None else last_cost, 1)


def test_open_violations_first_then_words_then_other_listings() -> None:
    plan = plan_budget(100, ["v1", "v2"], ["a", "b"], {"a": record(5, 0), "b": record(5, 0)}, 0, ["o1", "o2"])
    assert plan.open_rechecks == ["v1", "v2"]
    assert plan.words.words == ["a", "b"]
    assert plan.other_rechecks == ["o1", "o2"]
    assert (plan.open_left, plan.others_left) == (0, 0)


def test_a_budget_smaller_than_the_open_violations_rechecks_those_first_and_says_what_is_left() -> None:
    plan = plan_budget(3, ["v1", "v2", "v3", "v4", "v5"], WORDS, {}, 0, ["o1"])
    assert plan.open_rechecks == ["v1", "v2", "v3"]
    assert plan.open_left == 2
    assert plan.words.words == []
    assert plan.other_rechecks == []
    assert plan.others_left == 1
    assert plan.notes == ["the budget covers 3 of 5 open violations"]


def test_other_rechecks_get_what_the_words_leave_in_the_order_given() -> None:
    history = {word: record(4, 0) for word in WORDS[:2]}
    plan = plan_budget(12, ["v"], WORDS[:2], history, 0, ["old", "newer", "newest"])
    assert plan.words.estimated == 8
    assert plan.other_rechecks == ["old", "newer", "newest"][:3]
    tight = plan_budget(10, ["v"], WORDS[:2], history, 0, ["old", "newer", "newest"])
    assert tight.other_rechecks == ["old"]
    assert tight.others_left == 2


def test_the_rotation_goes_on_where_the_last_run_stopped_and_wraps() -> None:
    history = {word: record(10, 0) for word in WORDS}
    day1 = choose_words(WORDS, history, 0, 30)
    assert day1.words == ["w0", "w1", "w2"]
    assert day1.rotation_next == 3
    day2 = choose_words(WORDS, history, day1.rotation_next, 30)
    assert day2.words == ["w3", "w4", "w5"]
    day4 = choose_words(WORDS, history, 9, 30)
    assert day4.words == ["w9", "w0", "w1"]
    assert day4.rotation_next == 2
    # over ten days of the same budget every word is searched (3 per day, 10 words: within 4 days)
    searched: set[str] = set()
    at = 0
    for _ in range(4):
        choice = choose_words(WORDS, history, at, 30)
        searched.update(choice.words)
        at = choice.rotation_next
    assert searched == set(WORDS)


def test_the_most_productive_words_come_first_by_violations_per_request() -> None:
    history = {word: record(10, 0) for word in WORDS}
    history["w7"] = record(10, 5)  # 0.5 per request
    history["w8"] = record(10, 1)  # 0.1
    history["w9"] = record(40, 8)  # 0.2, and costs 40
    choice = choose_words(WORDS, history, 0, 60)
    # half the budget (30) for productive words: w7 (10) fits, w9 (40) does not, w8 (10) does
    assert choice.words[: choice.productive] == ["w7", "w8"]
    # the rotation fills the rest from its start, skipping the words already chosen
    assert choice.rotation == ["w0", "w1", "w2", "w3"]
    assert choice.estimated == 60


def test_words_never_tried_get_their_turn_through_the_rotation() -> None:
    # the productive words alone could eat every budget: half of it still goes round all words
    history = {"w0": record(10, 9), "w1": record(10, 8)}
    seen: set[str] = set()
    at = 0
    for _ in range(10):
        choice = choose_words(WORDS, history, at, 40)
        assert choice.words[:2] == ["w0", "w1"]
        seen.update(choice.rotation)
        at = choice.rotation_next
    assert set(WORDS[2:]) <= seen


def test_estimates_come_from_the_last_cost_and_the_median_of_known_words() -> None:
    history = {"a": record(30, 0, last_cost=3), "b": record(5, 0), "c": record(7, 0)}
    assert default_cost(history) == 5
    assert default_cost({}) == DEFAULT_WORD_COST
    choice = choose_words(["a", "new"], history, 0, 100)
    assert choice.estimated == 3 + 5


def test_with_nothing_to_spend_on_words_none_is_searched_but_a_tiny_budget_still_moves_the_rotation() -> None:
    assert choose_words(WORDS, {}, 4, 0).words == []
    choice = choose_words(WORDS, {}, 4, 1)  # every word is estimated above 1 request
    assert choice.words == ["w4"]
    assert choice.rotation_next == 5


def test_the_summary_says_what_was_done_and_left() -> None:
    line = summary(
        {
            "requests": 2000,
            "open": {"done": 140, "of": 140},
            "words": {"done": 37, "of": 1750, "rotation_at": 412},
            "others": {"done": 300},
            "spent": 1998,
            "left": {"open": 0, "words": 3, "others": 12},
        }
    )
    assert line == (
        "budget 2,000: 140 open-violation re-checks, 37/1,750 words (rotation at 412), 300 other re-checks; "
        "1,998 requests made; left: 3 words, 12 other re-checks"
    )
    assert summary({}) == ""
    assert summary({"requests": 5}).endswith("left: nothing")
