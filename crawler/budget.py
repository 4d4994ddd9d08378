"""The daily crawl budget: how a run spends a site's requests, planned before the crawl (pure, no I/O).

A site with a budget (``[budget] requests`` in its profile, else ``crawl.daily_requests``) gets a plan
that spends it in this order:

1. **Re-check every listing with an open violation, or whose case sent to ETDA is open** — one request
   each — so that ``continuing`` and ``resolved``, and takedowns (``store.takedowns``), are known every
   day. These are fetched exactly as the weekly re-check fetches them (at
   ``Listing.fetched_url``, with their known id), so the daily report gives them the same status.
2. **Discovery searches** with the register's keywords (:func:`choose_words`).
3. **Re-checks of the other known listings**, the least recently seen first, with what is left.

A search word's cost is estimated as the requests it took the last time it was searched on the site
(its result pages plus the listing pages it led to, ``search_words``). A word never searched costs the
median of the known words' last costs on the site, or :data:`DEFAULT_WORD_COST` when none is known.
An estimate is only an estimate: the crawl itself stops at the budget (``crawler.spend``), and what the
plan wanted but the crawl did not do is recorded as left for the next run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any, Generic, TypeVar

from store.planning import WordHistory

T = TypeVar("T")
DEFAULT_WORD_COST = 10
"""Requests a never-searched word is estimated to cost when no word has a record on the site: one
result page and the listing pages it shows."""
EXPLOIT_SHARE = 0.5
"""Share of the search budget given to the most productive words; the rest goes to the rotation."""


@dataclass(frozen=True)
class WordChoice:
    """The words a plan searches, and where the rotation stands."""

    words: list[str]
    """In the order searched: the most productive first, then the rotation's."""
    productive: int
    """How many of ``words`` were chosen for their productivity (the first ones)."""
    rotation: list[str]
    """The rotation's words, in rotation order (also in ``words``, after the productive ones)."""
    rotation_at: int
    rotation_next: int
    """Where the next run's rotation starts, if this run searches all of ``rotation``."""
    estimated: int
    """Estimated requests of all chosen words."""


@dataclass(frozen=True)
class BudgetPlan(Generic[T]):
    """What one run of one site is to fetch, in order, and what the budget leaves undone."""

    budget: int
    open_rechecks: list[T]
    open_left: int
    words: WordChoice
    words_total: int
    other_rechecks: list[T]
    others_left: int
    open_total: int = 0
    others_total: int = 0
    notes: list[str] = field(default_factory=list)


def word_cost(word: str, history: Mapping[str, WordHistory], default: int) -> int:
    """The estimated requests of searching ``word``: its last cost, or ``default`` (at least 1)."""
    known = history.get(word)
    return max(known.last_cost if known is not None and known.last_cost > 0 else default, 1)


def default_cost(history: Mapping[str, WordHistory]) -> int:
    """The estimate for a never-searched word: the median of known words' last costs, else the default."""
    costs = [h.last_cost for h in history.values() if h.last_cost > 0]
    return max(round(median(costs)), 1) if costs else DEFAULT_WORD_COST


def choose_words(
    words: Sequence[str], history: Mapping[str, WordHistory], rotation_at: int, budget: int
) -> WordChoice:
    """The search words that fit ``budget`` requests (estimated), most productive first.

    When every word fits, every word is searched. Otherwise half the budget (:data:`EXPLOIT_SHARE`)
    goes to the words that found violations before, ranked by violations per request (ties: more
    violations, then register order); a word too costly for what is left is passed over for the next.
    The rest goes to a **rotation** through all the words in register order, starting where the last
    run stopped and skipping the words already chosen: it stops at the first word that does not fit,
    and the next run starts there. This is the fair turn of words never tried (and of words that found
    nothing, whose shop may since have changed): whatever their record, every word is reached once per
    cycle of the rotation, which takes about (the cost of all words) / (the rotation's share) days.
    When nothing at all fits a budget above 0, the rotation's first word is still searched, so the
    rotation moves.
    """
    count = len(words)
    if budget <= 0:
        return WordChoice([], 0, [], rotation_at, rotation_at, 0)
    fallback = default_cost(history)
    cost = {word: word_cost(word, history, fallback) for word in words}
    start = rotation_at % count if count else 0
    if sum(cost.values()) <= budget:
        return WordChoice(list(words), 0, list(words), start, start, sum(cost.values()))
    order = {word: index for index, word in enumerate(words)}
    productive = sorted(
        (word for word in words if (h := history.get(word)) is not None and h.violations > 0),
        key=lambda w: (-history[w].productivity, -history[w].violations, order[w]),
    )
    chosen: list[str] = []
    spent = 0
    share = int(budget * EXPLOIT_SHARE)
    for word in productive:
        if spent + cost[word] <= share:
            chosen.append(word)
            spent += cost[word]
    picked = set(chosen)
    rotation: list[str] = []
    position = start
    for step in range(count):
        position = (start + step) % count
        word = words[position]
        if word in picked:
            continue
        if spent + cost[word] > budget and (rotation or chosen):
            break
        rotation.append(word)
        spent += cost[word]
        position = (position + 1) % count
    else:
        position = start
    return WordChoice(chosen + rotation, len(chosen), rotation, start, position, spent)


def plan_budget(
    budget: int,
    open_rechecks: Sequence[T],
    words: Sequence[str],
    history: Mapping[str, WordHistory],
    rotation_at: int,
    other_rechecks: Sequence[T],
) -> BudgetPlan[T]:
    """Spend ``budget`` requests: open violations' re-checks, then searches, then other re-checks
    (``other_rechecks`` already least recently seen first). A budget smaller than the open violations
    re-checks as many of them as it can (in the order given) and searches nothing."""
    first = list(open_rechecks[:budget])
    left = budget - len(first)
    notes = []
    if len(first) < len(open_rechecks):
        notes.append(f"the budget covers {len(first)} of {len(open_rechecks)} open violations")
        choice = WordChoice([], 0, [], rotation_at, rotation_at, 0)
    elif words:
        choice = choose_words(words, history, rotation_at, left)
    else:
        choice = WordChoice([], 0, [], 0, 0, 0)
    left = max(left - choice.estimated, 0)
    others = list(other_rechecks[:left])
    return BudgetPlan(
        budget=budget,
        open_rechecks=first,
        open_left=len(open_rechecks) - len(first),
        words=choice,
        words_total=len(words),
        other_rechecks=others,
        others_left=len(other_rechecks) - len(others),
        open_total=len(open_rechecks),
        others_total=len(other_rechecks),
        notes=notes,
    )


def summary(record: Mapping[str, Any]) -> str:
    """One line of what a planned run did and left (its ``stats["budget"]``), for ``tisiwatch runs``."""
    if not isinstance(record, Mapping) or not record.get("requests"):
        return ""
    parts = {key: record.get(key) or {} for key in ("open", "words", "others")}
    opened, words, others = parts["open"], parts["words"], parts["others"]

    def n(value: Any) -> str:
        return f"{int(value or 0):,}"

    line = (
        f"budget {n(record['requests'])}: {n(opened.get('done'))} open-violation re-checks, "
        f"{n(words.get('done'))}/{n(words.get('of'))} words (rotation at {n(words.get('rotation_at'))}), "
        f"{n(others.get('done'))} other re-checks"
    )
    if record.get("spent") is not None:
        line += f"; {n(record['spent'])} requests made"
    left = record.get("left") or {}
    said = [
        f"{n(left.get(key))} {name}"
        for key, name in (
            ("open", "open-violation re-checks"),
            ("words", "words"),
            ("others", "other re-checks"),
        )
        if left.get(key)
    ]
    return line + ("; left: " + ", ".join(said) if said else "; left: nothing")
