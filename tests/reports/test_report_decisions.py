"""Officers' decisions in the daily report and the findings exports: the cards and the one-line table,
the workspace links (escaped, keys percent-encoded whole), dismissals that hold, and the decision
columns in JSONL, CSV, Parquet and the workbook (formula-neutralised)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq

from reports.daily import build_daily_report
from reports.export import export_findings
from reports.findings import COLUMNS
from reports.page import card_id, workspace_link
from store.db import Store
from store.decisions import decide
from store.models import Listing, User
from tests.reports.report_builders import DAY1, DAY2, World, bkk, two_days

HOSTILE_USER = '=HYPERLINK("https://evil.test","x")'
ODD_KEY = 'a/b"<c>&d?e#f'


def _scenario(store: Store) -> dict[str, Listing]:
    """The two days, with decisions: ``cont`` confirmed (by a user whose name is a formula), ``late``
    dismissed (holds), ``fresh`` dismissed then changed, ``interlude`` needs information; and a hostile
    listing whose key has ``/``, quotes and angle brackets."""
    with store.session() as session:
        world = World(session)
        listings = two_days(world)
        odd = world.listing(
            ODD_KEY, title='<script>alert(1)</script> "ปลั๊ก" \u202eevil', seller='" onmouseover="x'
        )
        world.observe(odd, bkk(DAY2, 8), "no_licence_shown")  # first seen on DAY2: new
        odd2 = world.listing("odd2", title="<img src=x onerror=alert(2)>", seller="\u202eร้าน<b>")
        world.observe(odd2, bkk(DAY1, 9), "no_licence_shown")
        world.observe(odd2, bkk(DAY2, 9), "no_licence_shown")  # continuing
        listings["odd"], listings["odd2"] = odd, odd2
        officer = User(username=HOSTILE_USER, role="officer", password_hash="x")
        session.add(officer)
        session.flush()
        at = bkk(DAY2, 12)
        decide(session, officer, [listings["cont"].id], "confirmed", now=at)
        decide(session, officer, [listings["late"].id], "dismissed", reason="not_controlled", now=at)
        decide(session, officer, [listings["fresh"].id], "dismissed", reason="other", note="=1+1", now=at)
        decide(session, officer, [listings["interlude"].id], "needs_information", note="ask", now=at)
        world.observe(listings["fresh"], bkk(DAY2, 13), "invalid_licence", title="พาวเวอร์แบงค์ รุ่นใหม่")
    return listings


def _section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


def test_workspace_links_encode_the_whole_key() -> None:
    link = workspace_link("https://tisi.example/ws/", 'shop:a/b"<c>&d?e#f x')
    assert link == "https://tisi.example/ws/listing?key=shop%3Aa%2Fb%22%3Cc%3E%26d%3Fe%23f%20x"
    assert workspace_link("javascript:alert(1)", "k") is None
    assert workspace_link(None, "k") is None


def test_cards_table_and_dismissals(any_store: Store, tmp_path: Path) -> None:
    _scenario(any_store)
    report = build_daily_report(any_store, tmp_path / "r", DAY2)
    html = report.html.read_text("utf-8")
    document = json.loads(report.json.read_text("utf-8"))
    counts = document["counts"]
    # "late" is dismissed and the dismissal holds: not a continuing violation, counted as dismissed
    assert counts["dismissed"] == 1
    rows = {f["listing_key"]: f for f in document["findings"]}
    assert rows["shop-a:late"]["officer_decision"] == "dismissed"
    continuing = _section(html, "continuing")
    dismissed = _section(html, "dismissed")
    assert f'id="{card_id("shop-a:late")}"' in dismissed
    assert f'id="{card_id("shop-a:late")}"' not in continuing
    assert counts["continuing"] == continuing.count("<tr id=")  # one row per continuing violation
    assert "<article" not in continuing
    # a continuing row: title linking to the workspace, site, seller, verdict, since, decision
    start = continuing.index(f'<tr id="{card_id("shop-a:cont")}">')
    row = continuing[start : continuing.index("</tr>", start)]
    assert row.count("<td") == 6
    assert '<a href="http://127.0.0.1:8800/listing?key=shop-a%3Acont">' in row
    assert "ยืนยันว่าละเมิด" in row  # confirmed
    # new and resolved as cards; "fresh" was dismissed but changed since: new, and says so
    new = _section(html, "new")
    assert new.count("<article") == counts["new"]
    card = new[new.index(f'id="{card_id("shop-a:fresh")}"') :]
    card = card[: card.index("</article>")]
    assert "ประกาศเปลี่ยนไปหลังถูกยกเลิก" in card
    assert "changed since dismissed" in card
    assert "HYPERLINK" in card  # who decided, escaped
    assert rows["shop-a:fresh"]["status"] == "new"
    assert _section(html, "resolved").count("<article") == counts["resolved"]
    # decisions due: the review queue and the continuing one that needs information
    due = _section(html, "due")
    assert f'id="{card_id("shop-a:review")}"' in due
    assert f'id="{card_id("shop-a:interlude")}"' in due
    assert "ต้องการข้อมูลเพิ่ม" in due
    assert f'id="{card_id("shop-a:late")}"' not in due
    assert counts["decisions_due"] == due.count("<article")


def test_hostile_keys_and_text_in_cards_and_table(sqlite_store: Store, tmp_path: Path) -> None:
    _scenario(sqlite_store)
    html = build_daily_report(sqlite_store, tmp_path / "r", DAY2).html.read_text("utf-8")
    encoded = "http://127.0.0.1:8800/listing?key=shop-a%3Aa%2Fb%22%3Cc%3E%26d%3Fe%23f"
    assert f'href="{encoded}"' in html
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '" onmouseover="x' not in html
    assert "&#34; onmouseover=&#34;x" in html
    assert "\u202e" not in html
    continuing = _section(html, "continuing")
    row = continuing[continuing.index(f'<tr id="{card_id("shop-a:odd2")}">') :]
    row = row[: row.index("</tr>")]
    assert "&lt;img src=x onerror=alert(2)&gt;" in row
    assert "ร้าน&lt;b&gt;" in row


def test_decision_columns_in_every_export(any_store: Store, tmp_path: Path) -> None:
    _scenario(any_store)
    assert COLUMNS[-3:] == ("officer_decision", "decided_by", "decided_at")
    export_findings(any_store, tmp_path / "f.jsonl", "jsonl")
    lines = [json.loads(line) for line in (tmp_path / "f.jsonl").read_text("utf-8").splitlines()]
    by_key = {line["listing_key"]: line for line in lines}
    assert tuple(lines[0]) == COLUMNS
    assert (by_key["shop-a:cont"]["officer_decision"], by_key["shop-a:cont"]["decided_by"]) == (
        "confirmed",
        HOSTILE_USER,
    )
    assert by_key["shop-a:cont"]["decided_at"] == "2025-03-11T05:00:00Z"
    assert by_key["shop-a:interlude"]["officer_decision"] == "needs_information"
    assert by_key["shop-a:fine"]["officer_decision"] is None
    assert by_key["shop-a:fine"]["decided_at"] is None

    export_findings(any_store, tmp_path / "f.csv", "csv")
    with (tmp_path / "f.csv").open(encoding="utf-8-sig", newline="") as stream:
        table = {row["listing_key"]: row for row in csv.DictReader(stream)}
    assert table["shop-a:cont"]["decided_by"] == "'" + HOSTILE_USER  # never a formula
    assert table["shop-a:cont"]["officer_decision"] == "confirmed"
    assert table["shop-a:cont"]["decided_at"] == "2025-03-11T05:00:00Z"
    assert table["shop-a:fine"]["decided_by"] == ""

    export_findings(any_store, tmp_path / "f.parquet", "parquet")
    parquet = pq.read_table(tmp_path / "f.parquet")
    assert parquet.schema.names[-3:] == ["officer_decision", "decided_by", "decided_at"]
    assert str(parquet.schema.field("decided_at").type) == "timestamp[us, tz=UTC]"
    records = {row["listing_key"]: row for row in parquet.to_pylist()}
    assert records["shop-a:late"]["officer_decision"] == "dismissed"
    assert records["shop-a:late"]["decided_at"].isoformat() == "2025-03-11T05:00:00+00:00"
    assert records["shop-a:fine"]["decided_at"] is None


def test_the_workbook_shows_the_decisions(sqlite_store: Store, tmp_path: Path) -> None:
    _scenario(sqlite_store)
    report = build_daily_report(sqlite_store, tmp_path / "r", DAY2)
    book = openpyxl.load_workbook(report.xlsx)
    try:
        for name, key, words in (
            ("continuing", "shop-a:cont", "ยืนยันว่าละเมิด · confirmed"),
            ("dismissed", "shop-a:late", "ไม่ใช่สินค้าควบคุม · not a controlled product"),
            ("new", "shop-a:fresh", "changed since dismissed"),
        ):
            sheet = book[name]
            header = [cell.value for cell in sheet[1]]
            at = {label.split(" · ")[1].split(" (")[0]: n for n, label in enumerate(header) if " · " in label}
            row = next(r for r in sheet.iter_rows(min_row=2) if str(r[at["Evidence"]].value).startswith(key))
            assert words in row[at["Officer's decision"]].value, name
            assert row[at["Decided by"]].value == "'" + HOSTILE_USER  # text, never a formula
            assert row[at["Decided by"]].data_type == "s"
            assert row[at["Decided"]].value is not None
        assert book["new"]["A1"].value
        fresh = next(r for r in book["new"].iter_rows(min_row=2) if "fresh" in str(r[12].value))
        assert fresh[13].value.endswith("\n=1+1")  # the dismissal's note, inside a text cell
        assert fresh[13].data_type == "s"
    finally:
        book.close()
