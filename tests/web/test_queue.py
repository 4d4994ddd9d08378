"""The review queue page and deciding from it: filters, paging, bulk decisions, the supervisor's check,
who may do what, CSRF, and hostile filter values."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from config import Settings, load_settings
from store.clock import local_day, utcnow
from store.db import Store
from store.models import Decision, DecisionCheck, Listing, User
from tests.reports.report_builders import World, bkk
from tests.reports.test_queue import INJECTIONS
from tests.web.conftest import sign_in
from web.app import create_app


def listings(store: Store, count: int = 6, title: str = "พาวเวอร์แบงค์") -> dict[str, int]:
    """``count`` listings in the queue today (one of them needs review), key → id."""
    today = local_day(utcnow())
    with store.session() as session:
        world = World(session)
        world.register(bkk(today, 0))
        made = {}
        for n in range(count):
            listing = world.listing(f"q{n}/x", title=f"{title} {n}", seller=f"ร้าน {n % 2}")
            listing.first_seen = bkk(today, 1, n)
            world.observe(listing, bkk(today, 2, n), "needs_review" if n == 0 else "no_licence_shown")
            made[listing.listing_key] = listing.id
        return made


def ids_in(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'name="listing_id" value="(\d+)"', html)]


def test_the_queue_lists_rows_linking_to_their_listing_page(client: TestClient, sqlite_store: Store) -> None:
    made = listings(sqlite_store)
    sign_in(client, "viewer")
    answer = client.get("/queue")
    assert answer.status_code == 200
    assert f'href="/listing?key={quote("shop-a:q5/x")}"' in answer.text
    assert "ใหม่วันนี้" in answer.text  # first seen today
    assert 'name="listing_id"' not in answer.text  # a viewer reads but does not decide
    assert 'data-key="c"' not in answer.text
    sign_in(client, "officer")
    page = client.get("/queue").text
    assert sorted(ids_in(page)) == sorted(made.values())
    assert ids_in(page)[0] == made["shop-a:q5/x"]  # first seen last: first
    for key in ("c", "d", "i", "a"):
        assert f'data-key="{key}"' in page


def test_filters_narrow_the_rows_and_htmx_gets_only_the_rows(client: TestClient, sqlite_store: Store) -> None:
    made = listings(sqlite_store)
    sign_in(client, "officer")
    reviews = client.get("/queue", params={"verdict": "needs_review"}).text
    assert ids_in(reviews) == [made["shop-a:q0/x"]]
    sellers = client.get("/queue", params={"seller": "ร้าน 1", "site": "shop-a"})
    assert sorted(ids_in(sellers.text)) == sorted(made[f"shop-a:q{n}/x"] for n in (1, 3, 5))
    fragment = client.get("/queue", params={"seller": "ร้าน 1"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'name="next"' in fragment.text
    assert client.get("/queue", params={"first_seen": "not a day"}).status_code == 400


@pytest.mark.parametrize("text", INJECTIONS)
def test_hostile_filter_values_break_nothing_and_leak_nothing(
    client: TestClient, sqlite_store: Store, text: str
) -> None:
    listings(sqlite_store)
    sign_in(client, "officer")
    for name in (
        "site",
        "standard",
        "verdict",
        "licence_status",
        "seller",
        "first_seen",
        "observed",
        "view",
        "after",
    ):
        answer = client.get("/queue", params={name: text})
        assert answer.status_code in (200, 400), (name, answer.status_code)
        assert "$argon2" not in answer.text  # no password hash ever comes back
        if answer.status_code == 200 and name not in ("view",):
            assert ids_in(answer.text) == [], name
    with sqlite_store.session() as session:
        assert session.scalar(select(func.count()).select_from(Listing)) == 6
        assert session.scalar(select(func.count()).select_from(User)) == 4


def test_pages_turn_by_cursor(tmp_path: Path, sqlite_store: Store, people: dict[str, str]) -> None:
    settings = load_settings(None, {"data_dir": str(tmp_path / "d"), "web": {"page_size": 10}}, environ={})
    made = listings(sqlite_store, count=25)
    with TestClient(create_app(settings, sqlite_store)) as client:
        sign_in(client, "officer")
        seen: list[int] = []
        url = "/queue"
        while url:
            page = client.get(url).text
            seen += ids_in(page)
            found = re.search(r'<a href="([^"]+)"[^>]*data-key="n"', page)
            url = found.group(1).replace("&amp;", "&") if found else ""
    assert len(seen) == 25
    assert set(seen) == set(made.values())


def test_bulk_decisions_are_appended_and_leave_the_queue(client: TestClient, sqlite_store: Store) -> None:
    made = listings(sqlite_store)
    csrf = sign_in(client, "officer")
    chosen = [made["shop-a:q1/x"], made["shop-a:q2/x"], made["shop-a:q3/x"]]
    answer = client.post(
        "/decisions",
        data={"csrf_token": csrf, "decision": "dismissed", "reason": "duplicate", "listing_id": chosen,
              "next": "/queue?view=open"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == "/queue?view=open"
    left = ids_in(client.get("/queue").text)
    assert not set(chosen) & set(left)
    assert len(left) == 3
    again = client.post(
        "/decisions",
        data={"csrf_token": csrf, "decision": "needs_information", "listing_id": chosen[:1], "note": "ขอรูป"},
        headers={"HX-Request": "true"},
    )
    assert again.status_code == 200
    assert "บันทึก" in again.text
    assert "<html" not in again.text
    assert chosen[0] in ids_in(again.text)  # back in the queue, marked
    assert "ขอข้อมูลเพิ่ม" in again.text
    with sqlite_store.session() as session:
        rows = session.scalars(select(Decision).order_by(Decision.id)).all()
        assert sorted((d.listing_id, d.decision) for d in rows[:3]) == [
            (i, "dismissed") for i in sorted(chosen)
        ]
        assert (rows[3].listing_id, rows[3].decision, rows[3].decided_by) == (
            chosen[0],
            "needs_information",
            "officer",
        )
        assert len(rows) == 4


def test_a_dismissal_without_a_reason_is_refused_and_nothing_is_written(
    client: TestClient, sqlite_store: Store
) -> None:
    made = listings(sqlite_store)
    csrf = sign_in(client, "officer")
    data = {"csrf_token": csrf, "decision": "dismissed", "listing_id": list(made.values())}
    answer = client.post("/decisions", data=data, follow_redirects=False)
    assert answer.status_code == 400
    nothing = client.post("/decisions", data=data | {"listing_id": []}, headers={"HX-Request": "true"})
    assert nothing.status_code == 400
    assert "Select listings first" in nothing.text
    fragment = client.post("/decisions", data=data, headers={"HX-Request": "true"})
    assert fragment.status_code == 400
    assert "reason" in fragment.text
    with sqlite_store.session() as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == 0


def test_deciding_needs_the_csrf_token_and_the_role(client: TestClient, sqlite_store: Store) -> None:
    made = listings(sqlite_store)
    data = {"decision": "confirmed", "listing_id": list(made.values())}
    sign_in(client, "officer")
    assert client.post("/decisions", data=data, follow_redirects=False).status_code == 403
    csrf = sign_in(client, "viewer")
    assert (
        client.post("/decisions", data=data | {"csrf_token": csrf}, follow_redirects=False).status_code == 403
    )
    with sqlite_store.session() as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == 0


@pytest.fixture
def qc_app(tmp_path: Path, sqlite_store: Store, people: dict[str, str]) -> FastAPI:
    settings: Settings = load_settings(
        None, {"data_dir": str(tmp_path / "d"), "review": {"qc": True}}, environ={}
    )
    return create_app(settings, sqlite_store)


def test_with_qc_a_supervisor_passes_or_returns_confirmations(qc_app: FastAPI, sqlite_store: Store) -> None:
    made = listings(sqlite_store)
    one, two = made["shop-a:q1/x"], made["shop-a:q2/x"]
    officer, boss = TestClient(qc_app), TestClient(qc_app)
    csrf = sign_in(officer, "officer")
    officer.post("/decisions", data={"csrf_token": csrf, "decision": "confirmed", "listing_id": [one, two]})
    with sqlite_store.session() as session:
        decided = {d.listing_id: d.id for d in session.scalars(select(Decision))}
    to_check = officer.get("/queue", params={"view": "to_check"}).text
    assert sorted(ids_in(to_check)) == sorted([one, two])
    assert "/check" not in to_check  # an officer sees them but cannot check
    refused = officer.post(f"/decisions/{decided[one]}/check", data={"csrf_token": csrf, "result": "passed"})
    assert refused.status_code == 403
    boss_csrf = sign_in(boss, "supervisor")
    page = boss.get("/queue", params={"view": "to_check"}).text
    assert f"/decisions/{decided[one]}/check" in page
    passed = boss.post(
        f"/decisions/{decided[one]}/check",
        data={"csrf_token": boss_csrf, "result": "passed", "next": "/queue?view=to_check"},
        follow_redirects=False,
    )
    assert passed.status_code == 303
    returned = boss.post(
        f"/decisions/{decided[two]}/check", data={"csrf_token": boss_csrf, "result": "returned", "note": "ไม่พอ"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert returned.status_code == 200
    assert ids_in(boss.get("/queue", params={"view": "to_check"}).text) == []
    assert two in ids_in(boss.get("/queue").text)
    assert one not in ids_in(boss.get("/queue").text)
    assert "หัวหน้าส่งกลับ" in boss.get("/queue").text
    # a supervisor overrules by deciding anew
    boss.post("/decisions", data={"csrf_token": boss_csrf, "decision": "dismissed", "reason": "licence_valid",
                                  "listing_id": [one]})  # fmt: skip
    with sqlite_store.session() as session:
        checks = session.scalars(select(DecisionCheck).order_by(DecisionCheck.id)).all()
        assert [(c.decision_id, c.result, c.checked_by) for c in checks] == [
            (decided[one], "passed", "supervisor"), (decided[two], "returned", "supervisor")
        ]  # fmt: skip
        latest = session.scalars(
            select(Decision).where(Decision.listing_id == one).order_by(Decision.id)
        ).all()
        assert [(d.decision, d.decided_by) for d in latest] == [
            ("confirmed", "officer"),
            ("dismissed", "supervisor"),
        ]


def test_only_a_confirmation_is_checked(client: TestClient, sqlite_store: Store) -> None:
    made = listings(sqlite_store)
    csrf = sign_in(client, "supervisor")
    client.post(
        "/decisions",
        data={"csrf_token": csrf, "decision": "needs_information", "listing_id": [made["shop-a:q1/x"]]},
    )
    with sqlite_store.session() as session:
        decision_id = session.scalar(select(Decision.id))
    answer = client.post(f"/decisions/{decision_id}/check", data={"csrf_token": csrf, "result": "passed"})
    assert answer.status_code == 404
    assert (
        client.post("/decisions/999/check", data={"csrf_token": csrf, "result": "maybe"}).status_code == 400
    )
