"""The check API: tokens, limits, errors that name the field, and verdicts equal to the match stage's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from config import Settings, load_settings
from demo.generator import generate
from demo.listing import DemoListing
from demo.writer import write_registers
from matchers.check import LICENCE_KEY, CheckItem, spec_with_licence
from matchers.match import match_pending
from matchers.register import ensure_default_register, import_register
from matchers.verdict import MATCHER_VERSION
from reports.queue import QueueFilter, queue_page
from store.db import Store
from store.models import ApiToken, Listing, Observation, Site, Verdict
from store.people import token_hash
from store.tokens import TokenError, add_token, revoke_token, site_name
from store.writer import Sighting, ensure_site, start_run, store_sightings
from tests.web.conftest import sign_in
from web.app import create_app

SEED = 5


def register(store: Store, tmp_path: Path) -> Store:
    """The default standards and the demo's licence register and unsafe list."""
    ensure_default_register(store)
    demo = write_registers(tmp_path / "registers", seed=SEED, size=40, last_day=1)
    import_register(store, demo["licences"], kind="licences")
    import_register(store, demo["unsafe"], kind="unsafe")
    return store


@pytest.fixture
def registered(sqlite_store: Store, tmp_path: Path) -> Store:
    return register(sqlite_store, tmp_path)


def api_settings(tmp_path: Path, per_minute: int = 1000) -> Settings:
    return load_settings(
        None, {"data_dir": str(tmp_path / "data"), "web": {"api_requests_per_minute": per_minute}}, environ={}
    )


@pytest.fixture
def app(registered: Store, tmp_path: Path) -> FastAPI:
    return create_app(api_settings(tmp_path), registered)


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def token(registered: Store) -> str:
    with registered.session() as session:
        return add_token(session, "shopee")


def demo_listings() -> list[DemoListing]:
    return generate(seed=SEED, size=40)


def as_sent(listing: DemoListing, **changes: Any) -> dict[str, Any]:
    sent = {
        "id": f"{listing.shop}:{listing.item_id}",
        "title": listing.title,
        "description": listing.description,
        "spec": listing.spec,
        "brand": listing.brand,
        "model": listing.model,
        "image_urls": listing.images,
    }
    return sent | changes


def check(api: TestClient, token: str, listings: list[dict[str, Any]], **body: Any) -> Any:
    return api.post("/api/v1/check", json={"listings": listings, **body},
                    headers={"Authorization": f"Bearer {token}"})  # fmt: skip


def counts(store: Store) -> tuple[int, int, int]:
    with store.session() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(t)) or 0 for t in (Listing, Observation, Verdict)
        )  # type: ignore[return-value]


def test_one_listing_is_judged(api: TestClient, token: str) -> None:
    answer = check(api, token, [{"id": "a1", "title": "พาวเวอร์แบงค์ 20000mAh ชาร์จเร็ว"}])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["matcher_version"] == MATCHER_VERSION
    assert body["register_version"] == 3
    [result] = body["results"]
    assert set(result) == {"id", "verdict", "licence_status", "tis_number", "category_score", "reasons"}
    assert result["id"] == "a1"
    assert result["verdict"] == "no_licence_shown"
    assert result["tis_number"] == "2879-2560"
    assert result["category_score"] > 0.5
    assert any(reason["feature"] == "no_licence_number" for reason in result["reasons"])


def test_the_verdicts_are_the_match_stages(
    api: TestClient, token: str, registered: Store, tmp_path: Path
) -> None:
    listings = demo_listings()
    answer = check(api, token, [as_sent(listing) for listing in listings])
    assert answer.status_code == 200, answer.text
    assert counts(registered) == (0, 0, 0), "the check stored nothing"
    with registered.session() as session:  # the same listings crawled, then judged by match_pending
        site = ensure_site(session, "shop", "html", "http://shop.test")
        run = start_run(session, site)
        store_sightings(session, site, run.id, [
            Sighting(f"{x.shop}:{x.item_id}", f"http://shop.test/{x.item_id}", x.title, x.description,
                     x.brand, x.model, spec=x.spec)
            for x in listings
        ])  # fmt: skip
    match_pending(registered, api_settings(tmp_path))
    with registered.session() as session:
        rows = session.execute(
            select(Listing.marketplace_id, Verdict.verdict, Verdict.licence_status, Verdict.tis_number,
                   Verdict.score, Verdict.reasons).join(Verdict, Verdict.listing_id == Listing.id)
        ).all()  # fmt: skip
    stored = {
        key: (verdict, status, tis, score, reasons) for key, verdict, status, tis, score, reasons in rows
    }
    results = answer.json()["results"]
    assert [r["id"] for r in results] == [f"{x.shop}:{x.item_id}" for x in listings]
    assert {r["id"]: (r["verdict"], r["licence_status"], r["tis_number"], pytest.approx(r["category_score"]),
                      r["reasons"]) for r in results} == stored  # fmt: skip
    assert len({r["verdict"] for r in results}) == 6, "the sample has every verdict"


def test_licence_text_is_read_like_a_row_of_the_spec_table(api: TestClient, token: str) -> None:
    shown = next(x for x in demo_listings() if x.expected_verdict == "licensed" and x.expected_licence_no
                 and x.expected_licence_no not in x.title and "ใบอนุญาต" not in x.title)  # fmt: skip
    bare = as_sent(shown, description="", spec={})
    without = check(api, token, [bare]).json()["results"][0]
    given = check(api, token, [bare | {"licence_text": shown.expected_licence_no}])
    assert without["verdict"] == "no_licence_shown"
    assert given.json()["results"][0]["verdict"] == "licensed"
    assert spec_with_licence({LICENCE_KEY: "own"}, "ท1-1/1") == {
        LICENCE_KEY: "own",
        LICENCE_KEY + " ": "ท1-1/1",
    }
    assert CheckItem("x", "t").spec is None


def test_a_thousand_listings_in_order_and_a_thousand_and_one_refused(api: TestClient, token: str) -> None:
    sent = [{"id": str(n), "title": "ปลั๊กพ่วง 4 ช่อง 3 เมตร" if n % 2 else "เคสโทรศัพท์"} for n in range(1000)]
    answer = check(api, token, sent)
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["id"] for r in results] == [str(n) for n in range(1000)]
    assert {r["verdict"] for r in results[1::2]} == {"no_licence_shown"}
    assert {r["verdict"] for r in results[::2]} == {"not_controlled"}
    refused = check(api, token, [*sent, {"id": "1000", "title": "x"}])
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["field"] == "listings"
    assert check(api, token, []).status_code == 422


@pytest.mark.parametrize(
    ("listing", "field"),
    [
        ({"title": "no id"}, "listings.0.id"),
        ({"id": "1"}, "listings.0.title"),
        ({"id": "1", "title": "t" * 20_001}, "listings.0.title"),
        ({"id": "1", "title": "t", "spec": {"k": 5}}, "listings.0.spec"),
        ({"id": "1", "title": "t", "spec": {"tw_secretkey" * 50: "v"}}, "listings.0.spec"),
        ({"id": "1", "title": "t", "spec": "a table"}, "listings.0.spec"),
        ({"id": "1", "title": "t", "image_urls": ["x"] * 101}, "listings.0.image_urls"),
        ({"id": "1", "title": "t", "licence_text": 7}, "listings.0.licence_text"),
    ],
)
def test_a_bad_field_is_named_and_not_echoed(
    api: TestClient, token: str, listing: dict[str, Any], field: str
) -> None:
    answer = check(api, token, [{"id": "0", "title": "fine"}, listing])
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert field.replace(".0.", ".1.") in [p["field"] for p in problems]
    assert "tw_secret" not in answer.text
    assert "t" * 100 not in answer.text
    assert token not in answer.text


def test_bad_json_is_a_json_error(api: TestClient, token: str) -> None:
    answer = api.post("/api/v1/check", content=b'{"listings": [', headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/json"


def test_the_token_is_kept_hashed(registered: Store, token: str) -> None:
    with registered.session() as session:
        row = session.scalars(select(ApiToken)).one()
        assert row.token_hash == token_hash(token)
        assert row.prefix == token[:10]
        assert token.startswith("tw_")
        assert len(token) > 40
        stored = [str(value) for value in session.execute(select(ApiToken.__table__)).one()]
    assert not any(token in value for value in stored)


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer tw_not-a-token", "Basic dXNlcjpwYXNz", "tw_x"])
def test_no_or_a_bad_token_is_refused_alike(api: TestClient, token: str, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    answer = api.post("/api/v1/check", json={"listings": [{"id": "1", "title": "t"}]}, headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"detail": "a valid bearer token is needed (Authorization: Bearer <token>)"}
    assert answer.headers["www-authenticate"] == "Bearer"


def test_a_revoked_token_is_refused_like_an_unknown_one(
    api: TestClient, token: str, registered: Store
) -> None:
    assert check(api, token, [{"id": "1", "title": "t"}]).status_code == 200
    with registered.session() as session:
        revoke_token(session, "shopee")
    answer = check(api, token, [{"id": "1", "title": "t"}])
    assert answer.status_code == 401
    assert answer.json() == check(api, "tw_" + "x" * 43, [{"id": "1", "title": "t"}]).json()
    assert token not in answer.text


def test_use_is_recorded(api: TestClient, token: str, registered: Store) -> None:
    with registered.session() as session:
        assert session.scalars(select(ApiToken)).one().last_used_at is None
    check(api, token, [{"id": "1", "title": "t"}])
    with registered.session() as session:
        assert session.scalars(select(ApiToken)).one().last_used_at is not None


def test_over_the_rate_limit_is_429_with_retry_after(registered: Store, tmp_path: Path, token: str) -> None:
    with registered.session() as session:
        other = add_token(session, "other")
    with TestClient(create_app(api_settings(tmp_path, per_minute=3), registered)) as api:
        for _ in range(3):
            assert check(api, token, [{"id": "1", "title": "t"}]).status_code == 200
        over = check(api, token, [{"id": "1", "title": "t"}])
        assert over.status_code == 429
        assert 1 <= int(over.headers["retry-after"]) <= 60
        assert check(api, other, [{"id": "1", "title": "t"}]).status_code == 200, "per token"


def test_a_new_register_version_is_judged_under(
    api: TestClient, token: str, registered: Store, tmp_path: Path
) -> None:
    sent = [{"id": "1", "title": "พาวเวอร์แบงค์ 10000mAh", "licence_text": "ท7777-77/2879"}]
    before = check(api, token, sent).json()
    assert before["results"][0]["licence_status"] == "not_found"
    licences = tmp_path / "more.csv"
    licences.write_text("licence_no,tis_number,licensee,status\nท7777-77/2879,2879-2560,บริษัท ก จำกัด,active\n")
    import_register(registered, licences, kind="licences")
    after = check(api, token, sent).json()
    assert after["register_version"] == before["register_version"] + 1
    assert after["results"][0]["verdict"] == "licensed"


def test_without_a_licence_register_the_api_says_so(sqlite_store: Store, tmp_path: Path) -> None:
    ensure_default_register(sqlite_store)
    with sqlite_store.session() as session:
        secret = add_token(session, "x")
    with TestClient(create_app(api_settings(tmp_path), sqlite_store)) as api:
        answer = check(api, secret, [{"id": "1", "title": "t"}])
    assert answer.status_code == 503
    assert "licence register" in answer.json()["detail"]


def test_the_openapi_description_is_the_check_apis(api: TestClient) -> None:
    schema = api.get("/api/v1/openapi.json").json()
    assert list(schema["paths"]) == ["/api/v1/check"]
    operation = schema["paths"]["/api/v1/check"]["post"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "CheckResponse"
    )
    assert {"Listing", "CheckRequest", "CheckResponse", "Result"} <= set(schema["components"]["schemas"])
    assert "stored" in schema["components"]["schemas"]["CheckResponse"]["required"]
    assert (
        "api-<token name>"
        in schema["components"]["schemas"]["CheckRequest"]["properties"]["store"]["description"]
    )
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_a_missing_register_is_read_once_per_version(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matchers import check as checking

    ensure_default_register(sqlite_store)
    loads: list[int | None] = []
    real = checking.load_register
    monkeypatch.setattr(
        checking, "load_register", lambda session, version: loads.append(version) or real(session, version)
    )
    checker = checking.Checker(sqlite_store, api_settings(tmp_path))
    for _ in range(3):
        with pytest.raises(checking.RegisterMissing):
            checker.current()
    assert loads == [1]


# Storing: "store": true with a token made --may-store


@pytest.fixture
def storer(registered: Store) -> str:
    with registered.session() as session:
        return add_token(session, "lazada", may_store=True)


def with_licences(listings: list[DemoListing]) -> list[dict[str, Any]]:
    """The demo listings as sent, the licensed ones' licence number as ``licence_text``."""
    return [
        as_sent(x, licence_text=x.expected_licence_no) if x.expected_licence_no else as_sent(x)
        for x in listings
    ]


def latest_verdicts(store: Store) -> dict[str, tuple[Any, ...]]:
    """id sent → the verdict on its listing's latest observation, as the API answers it."""
    with store.session() as session:
        latest = select(func.max(Observation.id)).group_by(Observation.listing_id)
        rows = session.execute(
            select(Listing.marketplace_id, Verdict.verdict, Verdict.licence_status, Verdict.tis_number,
                   Verdict.score, Verdict.reasons)
            .join(Verdict, Verdict.listing_id == Listing.id)
            .where(Verdict.observation_id.in_(latest))
        ).all()  # fmt: skip
    found = {
        key: (verdict, status, tis, pytest.approx(score), reasons)
        for key, verdict, status, tis, score, reasons in rows
    }
    assert len(found) == len(rows), "one verdict per latest observation"
    return found


def answered(body: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        r["id"]: (r["verdict"], r["licence_status"], r["tis_number"], r["category_score"], r["reasons"])
        for r in body["results"]
    }


def test_storing_needs_a_token_that_may_and_the_request_asking(
    api: TestClient, token: str, storer: str, registered: Store
) -> None:
    sent = [as_sent(demo_listings()[0])]
    refused = check(api, token, sent, store=True)
    assert refused.status_code == 403
    assert refused.json()["detail"] == 'this token may not store listings: send without "store"'
    for body in ({}, {"store": False}):
        answer = check(api, storer, sent, **body)
        assert answer.status_code == 200
        assert answer.json()["stored"] is False
    assert check(api, token, sent).json()["stored"] is False
    assert counts(registered) == (0, 0, 0)
    with registered.session() as session:
        assert session.scalars(select(Site)).all() == []


def test_stored_listings_and_verdicts_are_the_answer(any_store: Store, tmp_path: Path) -> None:
    store = register(any_store, tmp_path)
    with store.session() as session:
        storer = add_token(session, "lazada", may_store=True)
    listings = demo_listings()
    sent = with_licences(listings)
    with TestClient(create_app(api_settings(tmp_path), store)) as api:
        answer = check(api, storer, sent, store=True)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["stored"] is True
    assert latest_verdicts(store) == answered(body)
    assert counts(store) == (len(sent), len(sent), len(sent))
    assert len({r["verdict"] for r in body["results"]}) == 6
    with store.session() as session:
        site = session.scalars(select(Site)).one()
        assert (site.name, site.kind, site.base_url) == ("api-lazada", "api", "")
        rows = session.execute(select(Listing, Observation).join(Observation)).all()
        verdicts = session.scalars(select(Verdict)).all()
        assert {(v.register_version_id, v.matcher_version) for v in verdicts} == {
            (body["register_version"], MATCHER_VERSION)
        }
    by_id = {x["id"]: x for x in sent}
    for listing, observation in rows:
        x = by_id[listing.marketplace_id]
        assert listing.listing_key == f"api-lazada:{x['id']}"
        assert listing.url == observation.url == ""
        assert listing.title == observation.title == x["title"]
        assert (observation.description, observation.brand, observation.model) == (
            x["description"],
            x["brand"],
            x["model"],
        )
        assert observation.spec == spec_with_licence(x["spec"], x.get("licence_text"))
        assert observation.raw["image_urls"] == x["image_urls"]
        assert observation.images == []
        assert observation.warc_file is None
        assert observation.run_id is None
    assert any(LICENCE_KEY in observation.spec for _, observation in rows)
    settings = api_settings(tmp_path)
    assert match_pending(store, settings).judged == 0, "written as the match stage writes verdicts"
    with store.session() as session:
        session.execute(delete(Verdict))
    assert match_pending(store, settings).judged == len(sent)
    assert latest_verdicts(store) == answered(body), "the match stage judges what was stored the same way"


def test_sent_again_unchanged_nothing_new_changed_a_new_observation_and_verdict(
    any_store: Store, tmp_path: Path
) -> None:
    store = register(any_store, tmp_path)
    with store.session() as session:
        storer = add_token(session, "lazada", may_store=True)
    sent = with_licences(demo_listings()[:10])
    with TestClient(create_app(api_settings(tmp_path), store)) as api:
        first = check(api, storer, sent, store=True).json()
        with store.session() as session:
            seen_before = dict(session.execute(select(Listing.marketplace_id, Listing.last_seen)).all())
        again = check(api, storer, sent, store=True).json()
        assert again["stored"] is True
        assert counts(store) == (10, 10, 10)
        with store.session() as session:
            seen_after = dict(session.execute(select(Listing.marketplace_id, Listing.last_seen)).all())
        assert all(seen_after[key] > seen_before[key] for key in seen_before), "seen again"
        changed = [dict(x) for x in sent]
        changed[0]["title"] = "ปลั๊กพ่วง 4 ช่อง 3 เมตร"
        changed[1]["licence_text"] = "ท7777-77/2879"
        third = check(api, storer, changed, store=True).json()
    assert counts(store) == (10, 12, 12)
    assert latest_verdicts(store) == answered(third)
    assert answered(third) != answered(first)
    assert {key for key in answered(first) if answered(third)[key] != answered(first)[key]} <= {
        sent[0]["id"],
        sent[1]["id"],
    }
    with store.session() as session:
        titles = session.scalars(select(Observation.title).order_by(Observation.id.desc()).limit(2)).all()
    assert changed[0]["title"] in titles


def test_ids_are_values_and_one_sent_twice_is_stored_once(
    api: TestClient, storer: str, registered: Store
) -> None:
    hostile = ["../../etc/passwd", "a:b/c?d", "'; DROP TABLE listings;--", '=HYPERLINK("x")', "<b>x</b>"]
    sent = [{"id": key, "title": "พาวเวอร์แบงค์ 10000mAh"} for key in hostile]
    sent.append({"id": hostile[0], "title": "ปลั๊กพ่วง 4 ช่อง"})
    answer = check(api, storer, sent, store=True)
    assert answer.status_code == 200
    assert counts(registered) == (5, 5, 5)
    with registered.session() as session:
        keys = dict(session.execute(select(Listing.marketplace_id, Listing.listing_key)).all())
        title = session.scalar(select(Listing.title).where(Listing.marketplace_id == hostile[0]))
    assert keys == {key: f"api-lazada:{key}" for key in hostile}
    assert title == "ปลั๊กพ่วง 4 ช่อง", "the last one sent"
    assert latest_verdicts(registered) == answered(answer.json()), "of the one sent last"


def test_a_crawled_site_of_the_name_is_not_written_to(
    api: TestClient, storer: str, registered: Store
) -> None:
    with registered.session() as session:
        ensure_site(session, "api-lazada", "api", "https://api.example")
    answer = check(api, storer, [{"id": "1", "title": "พาวเวอร์แบงค์"}], store=True)
    assert answer.status_code == 409
    assert "crawled site" in answer.json()["detail"]
    assert counts(registered) == (0, 0, 0)


def test_a_token_that_may_store_names_a_site(registered: Store) -> None:
    with registered.session() as session:
        for name in ("a.b", "x" * 60):
            with pytest.raises(TokenError, match="site"):
                add_token(session, name, may_store=True)
        add_token(session, "a.b")
        add_token(session, "x" * 59, may_store=True)
    assert site_name("x" * 59) == "api-" + "x" * 59
    with pytest.raises(TokenError):
        site_name("a.b")


def test_stored_violations_are_in_the_review_queue(
    client: TestClient, storer: str, registered: Store
) -> None:
    sent = [
        {"id": "p-1", "title": "พาวเวอร์แบงค์ 20000mAh ชาร์จเร็ว"},
        {"id": "p-2", "title": "เคสโทรศัพท์ ซิลิโคน"},
    ]
    body = check(client, storer, sent, store=True).json()
    assert [r["verdict"] for r in body["results"]] == ["no_licence_shown", "not_controlled"]
    sign_in(client, "officer")
    page = client.get("/queue", params={"site": "api-lazada"})
    assert page.status_code == 200
    assert f'href="/listing?key={quote("api-lazada:p-1")}"' in page.text
    assert "api-lazada:p-2" not in page.text
    assert quote("api-lazada:p-2") not in page.text
    assert client.get("/listing", params={"key": "api-lazada:p-1"}).status_code == 200
    with registered.session() as session:
        found = queue_page(session, QueueFilter(site="api-lazada"))
    assert [(row.listing_key, row.verdict, row.url) for row in found.rows] == [
        ("api-lazada:p-1", "no_licence_shown", "")
    ]
