"""Embedded state: the JSON object a page carries in a script — a ``<script type="application/json">``
(Next.js ``#__NEXT_DATA__``) or a JavaScript assignment (``window.__INITIAL_STATE__ = {...};``).

The script text is untrusted: it is parsed by chompjs (JavaScript object literals, not evaluated), only
up to the profile's ``max_chars``, and any failure is a miss with its reason, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import chompjs
from parsel import Selector

from crawler.profile import State


@dataclass(frozen=True)
class EmbeddedState:
    """What was read: the parsed object, or None with the reason nothing was."""

    data: Any = None
    problem: str | None = None


def read_state(selector: Selector, state: State) -> EmbeddedState:
    """The embedded state of a page, as the profile's ``[state]`` describes it."""
    texts = ("".join(script.xpath(".//text()").getall()) for script in selector.css(state.script or "script"))
    if state.variable:
        assignment = re.compile(rf"(?<![\w$]){re.escape(state.variable)}\s*=(?!=)")
        found = ((text, assignment.search(text)) for text in texts)
        text, match = next(((t, m) for t, m in found if m is not None), ("", None))
        if match is None:
            return EmbeddedState(problem=f"no script assigns {state.variable}")
        source = text[match.end() :]
    else:
        source = next((text for text in texts if text.strip()), "")
        if not source:
            return EmbeddedState(problem=f"no script with text matches {state.script!r}")
    if len(source) > state.max_chars:
        return EmbeddedState(
            problem=f"state script has {len(source)} characters, over max_chars {state.max_chars}"
        )
    try:
        data: Any = chompjs.parse_js_object(source)
    except Exception as exc:  # untrusted text: whatever the parser cannot read is a miss, not a crash
        return EmbeddedState(problem=f"state script is not a readable object: {type(exc).__name__}")
    return EmbeddedState(data=data)
