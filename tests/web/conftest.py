"""The workspace under test: an app over a migrated store, one person per role, and a real server.

``client`` is Starlette's in-process test client; ``live_server`` runs the same app in uvicorn on a free
loopback port (for Playwright) and stops it after the test.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from config import Settings, load_settings
from crawler.spiders.browser import CHROMIUM, CHROMIUM_ARGS
from store.db import Store
from store.people import ROLES, add_user
from web.app import create_app

PASSWORD = "correct horse battery"
"""Every test person's password (12 characters or more, as the rules want)."""


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    return load_settings(None, {"data_dir": str(tmp_path / "data")}, environ={})


@pytest.fixture
def people(sqlite_store: Store) -> dict[str, str]:
    """One person per role, named after it: role → username."""
    with sqlite_store.session() as session:
        for role in ROLES:
            add_user(session, role, role, PASSWORD, display_name=f"{role.title()} Test")
    return {role: role for role in ROLES}


@pytest.fixture
def web_app(web_settings: Settings, sqlite_store: Store, people: dict[str, str]) -> FastAPI:
    return create_app(web_settings, sqlite_store)


@pytest.fixture
def client(web_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(web_app, base_url="http://testserver") as test_client:
        yield test_client


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign ``client`` in; returns the session's CSRF token (read from a page, as a browser would)."""
    answer = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/").text)


def csrf_of(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@dataclass
class LiveServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(app: FastAPI) -> LiveServer:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the workspace did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)


@pytest.fixture
def live_server(web_app: FastAPI) -> Iterator[LiveServer]:
    """The app in uvicorn on a free loopback port, stopped after the test."""
    running = serve(web_app)
    yield running
    running.server.should_exit = True
    running.thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, launched as the crawler launches it (skipped, saying why,
    where it is not installed)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
