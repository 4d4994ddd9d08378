"""Exporting the case file from the workspace: confirmed cases only, signed, recorded as sent."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

from fastapi.testclient import TestClient

from config import Settings
from store.clock import utcnow
from store.db import Store
from store.decisions import decide
from store.models import CaseSend, Listing, User
from tests.reports.report_builders import World
from tests.web.conftest import sign_in


def test_nothing_confirmed_says_so_and_leaves_no_file(client: TestClient, web_settings: Settings) -> None:
    csrf = sign_in(client, "officer")
    answer = client.post("/cases/export", data={"csrf_token": csrf})
    assert answer.status_code == 400
    assert "No confirmed cases" in answer.text
    assert not list((web_settings.data_dir / "cases").glob("*.zip"))


def test_the_confirmed_case_downloads_signed_and_is_recorded_as_sent(
    client: TestClient, sqlite_store: Store
) -> None:
    now = utcnow()
    with sqlite_store.session() as session:
        world = World(session)
        world.register(at=now - timedelta(days=3))
        for marketplace_id in ("a1", "a2"):
            listing = world.listing(marketplace_id)
            world.observe(listing, now - timedelta(hours=1), "no_licence_shown")
        officer = session.query(User).filter_by(username="officer").one()
        first = session.query(Listing).filter_by(marketplace_id="a1").one()
        decide(session, officer, [first.id], "confirmed")
    csrf = sign_in(client, "officer")
    answer = client.post("/cases/export", data={"csrf_token": csrf})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert 'filename="cases-' in answer.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        cases = [json.loads(line) for line in archive.read("cases.jsonl").decode().splitlines()]
    assert [case["listing_key"] for case in cases] == ["shop-a:a1"]
    assert cases[0]["officer_decision"] == "confirmed"
    with sqlite_store.session() as session:
        assert [send.case_id for send in session.query(CaseSend)] == [cases[0]["case_id"]]


def test_a_viewer_cannot_export(client: TestClient) -> None:
    csrf = sign_in(client, "viewer")
    assert client.post("/cases/export", data={"csrf_token": csrf}).status_code == 403
