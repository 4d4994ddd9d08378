"""What a stored sighting may hold, and how a sighting that holds more is fitted into it.

No listing is dropped without a trace. A sighting is stored unless it cannot be (:func:`problem_with`:
no id, an id too long to be one, no title, no usable URL at all) — then it becomes a failed URL with
that reason. Otherwise :func:`fit` cuts every oversized field to its limit and records each cut in
the observation's raw data (``raw["cut"]``: field → original length), and a shown URL that cannot be
opened (not http(s), or absurdly long) gives way to the page the listing was read from, the shown
one kept in ``raw["shown_url"]``, cut and with control characters escaped. A hidden seller must not
escape enforcement by making a page too big, or its link a ``javascript:`` one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from core.text import escaped
from store.writer import Sighting

MAX_ID = 200
"""The width of ``listings.marketplace_id``."""
MAX_URL = 2_000
MAX_TITLE = 20_000
LIMITS = {
    "title": MAX_TITLE,
    "description": 200_000,
    "brand": 1_000,
    "model": 1_000,
    "seller_name": 1_000,
    "seller_id": 200,
    "seller_url": MAX_URL,
    "currency": 10,
    "availability": 100,
}
"""Characters kept of each text field (``seller_id``, ``currency``, ``availability``: their columns' widths)."""
MAX_SPEC_ROWS, MAX_SPEC_KEY, MAX_SPEC_VALUE = 200, 500, 5_000
MAX_IMAGES = 100
MAX_RAW_TEXT = 20_000
"""Characters kept of any other text in the raw data."""
MAX_RAW_ITEMS = 200
SHOWN_URL_KEPT = 500


def url_problem(url: str | None) -> str | None:
    """Why ``url`` cannot be a listing's URL, or None."""
    if not url or not url.startswith(("http://", "https://")):
        return "not http(s)"
    if len(url) > MAX_URL:
        return f"longer than {MAX_URL} characters"
    return None


def problem_with(item: Sighting) -> str | None:
    """Why a sighting cannot be stored at all, or None when it can (perhaps cut: :func:`fit`)."""
    if not item.marketplace_id.strip():
        return "no listing id"
    if len(item.marketplace_id) > MAX_ID:
        return f"listing id longer than {MAX_ID} characters"
    shown = url_problem(item.url)
    if shown and url_problem(item.fetched_url):
        return f"no usable URL ({shown})"
    if not item.gone and not item.title.strip():
        return "no title"
    return None


def fit(item: Sighting) -> Sighting:
    """The sighting with its oversized fields cut and an unusable shown URL replaced, each recorded in raw."""
    cut: dict[str, int] = {}
    changes: dict[str, Any] = {}
    for name, limit in LIMITS.items():
        value = getattr(item, name)
        if isinstance(value, str) and len(value) > limit:
            cut[name] = len(value)
            changes[name] = value[:limit]
    spec = _fit_spec(item.spec)
    if spec is not None:
        cut["spec"] = sum(len(key) + len(value) for key, value in item.spec.items())
        changes["spec"] = spec
    images = [url for url in item.images if not url_problem(url)][:MAX_IMAGES]
    if len(images) != len(item.images):
        cut["images"] = len(item.images)
        changes["images"] = images
    raw: dict[str, Any] = {
        key: _clip(value, LIMITS.get(key, MAX_RAW_TEXT)) for key, value in item.raw.items()
    }
    problem = url_problem(item.url)
    if problem and item.fetched_url:
        raw["shown_url"] = {
            "url": escaped(item.url[: SHOWN_URL_KEPT * 2])[:SHOWN_URL_KEPT],
            "problem": problem,
        }
        changes["url"] = item.fetched_url
    if cut:
        raw["cut"] = cut
    if not changes and raw == item.raw:
        return item
    return dataclasses.replace(item, raw=raw, **changes)


def _fit_spec(spec: Mapping[str, str]) -> dict[str, str] | None:
    """The spec table within its limits, or None when it already is."""
    too_big = len(spec) > MAX_SPEC_ROWS or any(
        len(key) > MAX_SPEC_KEY or len(value) > MAX_SPEC_VALUE for key, value in spec.items()
    )
    if not too_big:
        return None
    rows = list(spec.items())[:MAX_SPEC_ROWS]
    return {key[:MAX_SPEC_KEY]: value[:MAX_SPEC_VALUE] for key, value in rows}


def _clip(value: Any, limit: int) -> Any:
    """Raw data within limits: long text cut, long lists shortened, at every depth."""
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, Mapping):
        items = list(value.items())[:MAX_RAW_ITEMS]
        return {str(key)[:MAX_SPEC_KEY]: _clip(item, MAX_RAW_TEXT) for key, item in items}
    if isinstance(value, list | tuple):
        return [_clip(item, MAX_RAW_TEXT) for item in value[:MAX_RAW_ITEMS]]
    return value
