"""Build ``data/standards.csv``, the shipped register of compulsory standards.

Usage::

    python data/build_register.py PATH/TO/tisi_compulsory_standards.csv [--out data/standards.csv]

Takes the ``verified=yes`` rows of the reference file, adds the spelling variants, common names and
look-alike exclusions of ``data/keywords.toml``, and writes the register deterministically (the same
inputs always give the same bytes). See ``data/README.md``.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from core.numbers import canonical_tis
from core.text import clean_text

HERE = Path(__file__).resolve().parent
KEYWORDS = HERE / "keywords.toml"
OUT = HERE / "standards.csv"
COLUMNS = [
    "tis_number", "name_th", "name_en", "group", "keywords_th", "keywords_en", "exclude_keywords", "in_force",
    "review_keywords",
]  # fmt: skip
MAX_CELL = 2000


class BuildError(ValueError):
    """The reference file or the keyword tables are inconsistent; the message lists every problem."""


def merge(*lists: Iterable[str]) -> list[str]:
    """Cleaned words in first-seen order, without empties or repeats (compared without case)."""
    words: list[str] = []
    seen: set[str] = set()
    for word in (clean_text(item) for items in lists for item in items):
        if word and word.casefold() not in seen:
            seen.add(word.casefold())
            words.append(word)
    return words


def split(cell: str) -> list[str]:
    return cell.split("|") if cell else []


def _part_of(word: str, keywords: Sequence[str]) -> bool:
    folded = word.casefold()
    return any(folded in keyword.casefold() for keyword in keywords)


def build_rows(source: Iterable[dict[str, str]], tables: dict[str, Any]) -> list[dict[str, str]]:
    """The register rows: verified standards with their keywords extended and exclusions added."""
    groups: dict[str, list[str]] = tables.get("groups", {})
    extra: dict[str, dict[str, list[str]]] = {
        canonical_tis(number): entry for number, entry in tables.get("standards", {}).items()
    }
    problems: list[str] = []
    rows: list[dict[str, str]] = []
    for record in source:
        if record.get("verified", "").strip() != "yes":
            continue
        tis = canonical_tis(record["tis_number"])
        more = extra.pop(tis, {})
        keywords_th = merge(split(record["keywords_th"]), more.get("th", []))
        keywords_en = merge(split(record["keywords_en"]), more.get("en", []))
        keywords = keywords_th + keywords_en
        own = merge(more.get("exclude", []))
        problems += [
            f"{tis}: exclude word {word!r} is part of a keyword" for word in own if _part_of(word, keywords)
        ]
        shared = merge(groups.get("all", []), groups.get(record["group"], []))
        exclude = merge(own, [word for word in shared if not _part_of(word, keywords)])
        row = {
            "tis_number": tis,
            "name_th": clean_text(record["name_th"]),
            "name_en": clean_text(record["name_en"]),
            "group": clean_text(record["group"]),
            "keywords_th": "|".join(keywords_th),
            "keywords_en": "|".join(keywords_en),
            "exclude_keywords": "|".join(exclude),
            "in_force": "",
            "review_keywords": "|".join(merge(more.get("review", []))),
        }
        for column, cell in row.items():
            if len(cell) > MAX_CELL:
                problems.append(f"{tis}: {column} is {len(cell)} characters, over {MAX_CELL}")
            if any(word[:1] in "=+-@" for word in cell.split("|") if word):
                problems.append(f"{tis}: {column} has a word starting with = + - or @")
        rows.append(row)
    problems += [
        f"{tis}: in keywords.toml but not a verified standard of the reference file" for tis in extra
    ]
    if problems:
        raise BuildError("\n".join(problems))
    return rows


def render(rows: Sequence[dict[str, str]]) -> str:
    """The CSV text: UTF-8 without BOM, ``\\n`` line ends, quoted only where needed."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def build(source: Path, out: Path = OUT, keywords: Path = KEYWORDS) -> int:
    """Write the register built from ``source``; the number of standards written."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.DictReader(handle))
    rows = build_rows(records, tomllib.loads(keywords.read_text(encoding="utf-8")))
    out.write_text(render(rows), encoding="utf-8", newline="")
    return len(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("source", type=Path, help="the reference file tisi_compulsory_standards.csv")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write (default: data/standards.csv)")
    parser.add_argument("--keywords", type=Path, default=KEYWORDS, help="keyword tables (TOML)")
    args = parser.parse_args(argv)
    try:
        count = build(args.source, args.out, args.keywords)
    except BuildError as exc:
        print(f"build_register: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {count} standards to {args.out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
