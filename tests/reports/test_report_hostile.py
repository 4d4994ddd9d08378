"""Hostile listings: whatever a marketplace sends, the report page runs nothing and links nowhere unsafe,
spreadsheet cells are never formulas, and no file is named after scraped data."""

from __future__ import annotations

import csv
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import openpyxl
import pytest

import reports
from reports.charts import bar_chart
from reports.daily import build_daily_report
from reports.page import evidence_link, web_link
from store.db import Store
from tests.reports.report_builders import DAY1, World, bkk

HUGE = "ก" * 100_000
HOSTILE = [
    # (marketplace id, title, seller, url, licence shown, reason detail)
    ("xss", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(document.cookie)",
     '"><svg onload=alert(1)>', "</li><script>alert(2)</script>"),
    ("formula", '=HYPERLINK("http://evil.test","คลิก")', "+cmd|' /C calc'!A0", " JaVaScRiPt:alert(1)",
     "@SUM(1+1)", "=1+1"),
    ("minus", "-1+1", "@evil", "java\tscript:alert(1)", "-2+3", "+++"),
    ("rtl", "\u202etxt.exe\u202c ปลั๊กพ่วง", "ร้าน\u202eดี", "data:text/html,<script>alert(1)</script>", None,
     "\u202e"),
    ("huge", HUGE, "\x01\x07seller", 'https://shop-a.test/p/huge" onmouseover="alert(1)', None, HUGE),
    ("../../etc/passwd", "../../etc/passwd", "../..", "vbscript:msgbox(1)", None, "C:\\Windows\\system32"),
]  # fmt: skip
ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "h1",
    "h2",
    "h3",
    "p",
    "strong",
    "span",
    "nav",
    "a",
    "main",
    "section",
    "div",
    "figure",
    "figcaption",
    "svg",
    "g",
    "text",
    "rect",
    "article",
    "bdi",
    "ul",
    "li",
    "small",
    "dl",
    "dt",
    "dd",
    "code",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "footer",
    "details",
    "summary",
}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


@pytest.fixture
def hostile_report(any_store: Store, tmp_path: Path) -> tuple[Path, str]:
    with any_store.session() as session:
        world = World(session)
        world.register()
        for key, title, seller, url, licence, detail in HOSTILE:
            listing = world.listing(key, title=title, seller=seller, url=url, site="<b>site</b>")
            reasons = [{"feature": "<b>f</b>", "score": 1, "detail": detail}]
            world.observe(
                listing,
                bkk(DAY1),
                "invalid_licence",
                licence_status="not_found",
                licence_claimed=licence,
                tis_number="<i>2879</i>",
                reasons=reasons,
                warc_file="javascript:alert(1)",
                screenshot_file="../../x y.png",
            )
    out = tmp_path / "report"
    report = build_daily_report(any_store, out, DAY1, evidence_root=tmp_path)
    return out, report.html.read_text(encoding="utf-8")


def test_html_runs_nothing_and_links_only_to_the_web_or_evidence(hostile_report: tuple[Path, str]) -> None:
    _, html = hostile_report
    collector = _Collector()
    collector.feed(html)
    tags = {tag for tag, _ in collector.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert "<script" not in html.lower()
    for tag, attrs in collector.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            if name in ("href", "src"):
                assert urlsplit(value or "").scheme in ("", "http", "https"), value
                assert "javascript" not in (value or "").lower().replace("%3a", "")[:10]
    hrefs = [value for _, attrs in collector.tags for name, value in attrs if name == "href"]
    assert "https://shop-a.test/p/huge&#34; onmouseover=&#34;alert(1)" in html  # quoted inside the attribute
    assert not any(href and href.startswith(("javascript", "data", "vbscript")) for href in hrefs)


def test_html_shows_hostile_text_escaped(hostile_report: tuple[Path, str]) -> None:
    _, html = hostile_report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;/li&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "\u202e" not in html
    assert "\x01" not in html
    assert "\x07" not in html
    assert "javascript:alert(document.cookie)" in html  # shown as text, not as a link
    assert HUGE not in html
    assert "ก" * 400 in html


def test_no_file_is_named_after_scraped_data(hostile_report: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = hostile_report
    assert sorted(p.name for p in out.iterdir()) == [
        "findings.csv",
        "findings.json",
        "report.html",
        "report.xlsx",
    ]
    assert not (tmp_path / "etc").exists()
    assert {p.name for p in tmp_path.rglob("*") if p.is_file()} <= {
        "findings.csv", "findings.json", "report.html", "report.xlsx", "tisiwatch.db", "tisiwatch.db-wal",
        "tisiwatch.db-shm",
    }  # fmt: skip


def test_csv_cells_are_neutralised(hostile_report: tuple[Path, str]) -> None:
    out, _ = hostile_report
    with (out / "findings.csv").open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == len(HOSTILE)
    for row in rows:
        for value in row.values():
            assert value.lstrip()[:1] not in {"=", "+", "-", "@"}, value
            assert "\u202e" not in value
            assert "\x01" not in value
    titles = {row["title"] for row in rows}
    assert "'-1+1" in titles
    assert '\'=HYPERLINK("http://evil.test","คลิก")' in titles
    assert HUGE in titles  # the CSV keeps the whole text


def test_xlsx_cells_are_neutralised(hostile_report: tuple[Path, str]) -> None:
    out, _ = hostile_report
    workbook = openpyxl.load_workbook(out / "report.xlsx")
    strings = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    strings.append(cell.value)
                    assert cell.value.lstrip()[:1] not in {"=", "+", "-", "@"}, cell.value
                    assert len(cell.value) <= 32_767
                    assert "\u202e" not in cell.value
    assert "'@evil" in strings
    assert "'+cmd|' /C calc'!A0" in strings
    assert any(value.startswith("ก" * 1000) for value in strings)  # the huge title, capped
    workbook.close()


LINK_CASES = [
    ("https://shop.test/p/1", "https://shop.test/p/1"),
    ("http://shop.test/p?q=ปลั๊ก", "http://shop.test/p?q=ปลั๊ก"),
    ("  https://shop.test/p/2  ", "https://shop.test/p/2"),
    ("javascript:alert(1)", None),
    ("JAVASCRIPT:alert(1)", None),
    ("java\tscript:alert(1)", None),
    ("\x01javascript:alert(1)", None),
    ("data:text/html,<b>x</b>", None),
    ("//evil.test/x", None),
    ("https:///nohost", None),
    ("http://[::1", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("url", "expected"), LINK_CASES)
def test_web_link(url: str | None, expected: str | None) -> None:
    assert web_link(url) == expected


def test_evidence_links_are_relative_and_cannot_name_a_scheme(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "2025-03-10"
    assert evidence_link("warc/a b.warc.gz", out, tmp_path) == "../../warc/a%20b.warc.gz"
    assert evidence_link("javascript:alert(1)", out, None) == "javascript%3Aalert%281%29"
    assert evidence_link(str(tmp_path / "shots" / "1.png"), out, None) == "../../shots/1.png"
    assert evidence_link(None, out, tmp_path) is None


def test_chart_labels_are_escaped() -> None:
    svg = str(bar_chart("<t>", [("<script>alert(1)</script>", 3), ("\u202eevil", 1), ("x" * 80, 2)]))
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert "\u202e" not in svg
    assert "…" in svg
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")


def test_template_has_no_script_and_never_marks_data_safe() -> None:
    template = (Path(reports.__file__).parent / "templates" / "report.html.j2").read_text(encoding="utf-8")
    assert "<script" not in template.lower()
    assert "|safe" not in template.replace(" ", "")
    assert "http://" not in template.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in template  # nothing loaded from the network
