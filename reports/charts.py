"""Horizontal bar charts as inline SVG: no script, no external file, every label escaped.

Labels come from marketplaces (seller names, site names), so each one is cleaned of control and
bidirectional characters and escaped before it enters the markup; the full label is kept in a
``<title>`` for a tooltip, the visible one is shortened.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from reports.cells import clean

WIDTH = 420
LABEL_WIDTH = 170
ROW_HEIGHT = 24
LABEL_CHARS = 24
FONT = "'Noto Sans Thai', 'Loma', 'Garuda', 'Tlwg Typist', sans-serif"


def top(counts: Counter[str], limit: int = 10, others: str = "others") -> list[tuple[str, int]]:
    """The ``limit`` largest counts (ties by label), the rest summed as ``others``."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = ranked[:limit]
    rest = sum(count for _, count in ranked[limit:])
    return [*shown, (others, rest)] if rest else shown


def bar_chart(title: str, bars: Sequence[tuple[str, int]], colour: str = "#c0392b") -> Markup:
    """An SVG bar chart of ``(label, count)`` pairs, scaled to the largest count."""
    height = ROW_HEIGHT * max(len(bars), 1) + 8
    peak = max((count for _, count in bars), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 50
    rows: list[str] = []
    for index, (label, count) in enumerate(bars):
        y = 4 + index * ROW_HEIGHT
        length = max(round(span * count / peak), 1 if count else 0)
        full = clean(label)
        short = full if len(full) <= LABEL_CHARS else full[: LABEL_CHARS - 1] + "…"
        rows.append(
            f"<g><title>{escape(full)}: {count:,}</title>"
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 16}" text-anchor="end">{escape(short)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{length}" height="{ROW_HEIGHT - 8}" '
            f'fill="{escape(colour)}" rx="2"/>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 16}">{count:,}</text></g>'
        )
    if not bars:
        rows.append(f'<text x="{LABEL_WIDTH}" y="20">—</text>')
    return Markup(
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(clean(title))}" font-family="{escape(FONT)}" font-size="12">'
        f"<title>{escape(clean(title))}</title>{''.join(rows)}</svg>"
    )
