"""The benchmarks' shared writer of docs/benchmarks.md: one section replaced, its notes and the
other sections kept."""

from __future__ import annotations

from pathlib import Path

from bench.harness import NOTES, write_section

DOC = """# Benchmarks

## First

old figures

{notes}
hand-written comparison

## Second

untouched
"""


def test_a_section_is_replaced_and_its_notes_kept(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(DOC.format(notes=NOTES), encoding="utf-8")
    write_section("## First", "## First\n\nnew figures\n", doc)
    text = doc.read_text(encoding="utf-8")
    assert "old figures" not in text
    assert text == DOC.format(notes=NOTES).replace("old figures", "new figures")


def test_without_notes_the_whole_section_is_replaced(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(DOC.format(notes="not a notes line"), encoding="utf-8")
    write_section("## First", "## First\n\nnew figures\n", doc)
    assert (
        doc.read_text(encoding="utf-8")
        == "# Benchmarks\n\n## First\n\nnew figures\n\n## Second\n\nuntouched\n"
    )


def test_a_new_section_is_appended(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    write_section("## Third", "## Third\n\nfigures\n", doc)
    write_section("## Fourth", "## Fourth\n\nmore\n", doc)
    text = doc.read_text(encoding="utf-8")
    assert text.index("## Third") < text.index("## Fourth")
    assert text.startswith("# Benchmarks")
