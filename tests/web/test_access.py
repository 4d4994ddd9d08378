"""Every route checks who is asking: the whole matrix of roles × routes, signing in, CSRF, lock-out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from store.db import Store
from store.models import User
from store.people import PERMISSIONS, ROLES
from tests.web.conftest import PASSWORD, sign_in
from web.app import ROUTERS
from web.guard import PUBLIC


def routes() -> list[tuple[str, str, str | None]]:
    """(method, path, permission) of every route; permission None for a public one."""
    found = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute), route
            permissions = [
                dependency.call.permission
                for dependency in route.dependant.dependencies
                if hasattr(dependency.call, "permission")
            ]
            assert len(permissions) <= 1, route.path
            public = any(route.path == p or route.path.startswith(p + "/") for p in PUBLIC)
            assert permissions or public, f"{route.path} checks nobody"
            for method in sorted(route.methods):
                found.append((method, route.path, permissions[0] if permissions else None))
    return found


ROUTES = routes()
PARAMETERS: dict[str, str] = {
    "username": "viewer",
    "listing_key": "demo-html:1",
    "seller": "x",
    "case_id": "x",
}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PARAMETERS.get(m.group(1), "1"), path)


def call(client: TestClient, method: str, path: str, csrf: str | None) -> Any:
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    return client.request(method, concrete(path), headers=headers, follow_redirects=False)


def test_every_route_is_in_the_matrix() -> None:
    protected = [route for route in ROUTES if route[2] is not None]
    assert len(protected) >= 4
    assert {permission for _, _, permission in protected} <= set(PERMISSIONS)


@pytest.mark.parametrize(("method", "path", "permission"), [r for r in ROUTES if r[2]])
def test_nobody_signed_in_is_refused(client: TestClient, method: str, path: str, permission: str) -> None:
    answer = call(client, method, path, csrf=None)
    if method == "GET":
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")
    else:
        assert answer.status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_its_routes(client: TestClient, role: str) -> None:
    csrf = sign_in(client, role)
    # signing out ends the session the other calls need: it goes last
    for method, path, permission in sorted(ROUTES, key=lambda route: route[1] == "/logout"):
        if permission is None:
            continue
        answer = call(client, method, path, csrf)
        allowed = role in PERMISSIONS[permission]
        if allowed:
            assert answer.status_code != 403, f"{role} refused {method} {path}"
            assert answer.status_code < 500, f"{method} {path}: {answer.text[:300]}"
        else:
            assert answer.status_code == 403, f"{role} allowed {method} {path} ({answer.status_code})"


def test_a_change_without_the_csrf_token_is_refused(client: TestClient, sqlite_store: Store) -> None:
    sign_in(client, "admin")
    answer = client.post("/users/viewer/disable", follow_redirects=False)
    assert answer.status_code == 403
    assert "CSRF" in answer.text
    wrong = client.post("/users/viewer/disable", data={"csrf_token": "nope"}, follow_redirects=False)
    assert wrong.status_code == 403
    with sqlite_store.session() as session:
        assert not session.query(User).filter_by(username="viewer").one().disabled


def test_a_change_from_another_origin_is_refused(client: TestClient) -> None:
    csrf = sign_in(client, "admin")
    answer = client.post(
        "/users/viewer/disable", data={"csrf_token": csrf}, headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 403


def test_admin_disables_a_person_whose_session_ends(client: TestClient, web_app: Any) -> None:
    other = TestClient(web_app)
    sign_in(other, "viewer")
    assert other.get("/", follow_redirects=False).status_code == 200
    csrf = sign_in(client, "admin")
    answer = client.post("/users/viewer/disable", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303
    assert other.get("/", follow_redirects=False).status_code == 303
    refused = other.post("/login", data={"username": "viewer", "password": PASSWORD}, follow_redirects=False)
    assert refused.status_code == 401


def test_session_cookie_is_httponly_and_strict(client: TestClient) -> None:
    answer = client.post("/login", data={"username": "officer", "password": PASSWORD}, follow_redirects=False)
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie  # plain HTTP here; see the TLS test


def test_session_cookie_is_secure_behind_tls(client: TestClient) -> None:
    tls = TestClient(client.app, base_url="https://workspace.example")
    answer = tls.post("/login", data={"username": "officer", "password": PASSWORD}, follow_redirects=False)
    assert "secure" in answer.headers["set-cookie"].lower()


def test_failed_sign_ins_lock_the_account(client: TestClient, sqlite_store: Store) -> None:
    for _ in range(5):
        answer = client.post("/login", data={"username": "officer", "password": "wrong password!"})
        assert answer.status_code == 401
        assert "wrong password!" not in answer.text
    locked = client.post("/login", data={"username": "officer", "password": PASSWORD})
    assert locked.status_code == 401
    assert "ล็อก" in locked.text
    with sqlite_store.session() as session:
        user = session.query(User).filter_by(username="officer").one()
        assert user.failed_logins == 5
        assert user.locked_until is not None


def test_unknown_user_reads_like_a_wrong_password(client: TestClient) -> None:
    unknown = client.post("/login", data={"username": "nobody", "password": PASSWORD})
    wrong = client.post("/login", data={"username": "viewer", "password": "not the password"})
    assert unknown.status_code == wrong.status_code == 401
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in unknown.text
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in wrong.text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil.example"])
def test_sign_in_never_sends_to_another_site(client: TestClient, target: str) -> None:
    answer = client.post(
        "/login", data={"username": "viewer", "password": PASSWORD, "next": target}, follow_redirects=False
    )
    assert answer.headers["location"] == "/"


def test_every_answer_has_the_security_headers(client: TestClient) -> None:
    for path in ("/login", "/static/style.css"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
