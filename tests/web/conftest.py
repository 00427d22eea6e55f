"""Fixtures for the web pages: a browser-like test client that logs in through the login form
(with its CSRF token), and a live server for the Playwright browser tests."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Web:
    """A cookie-keeping client for the web pages."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app
        self.client = app.test_client()

    def csrf(self, path: str = "/login") -> str:
        """The CSRF token from a page's form."""
        html = self.client.get(path).get_data(as_text=True)
        found = _CSRF.search(html)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def login(self, username: str, password: str = "demo"):  # noqa: ANN201
        """Log in through the form; returns the response."""
        token = self.csrf("/login")
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def logout(self) -> None:
        """Log out through the form."""
        self.client.post("/logout", data={"csrf_token": self.csrf("/")})

    def get(self, path: str, **kw):  # noqa: ANN003, ANN201
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict | None = None, csrf_from: str = "/", **kw):  # noqa: ANN003, ANN201
        """POST a form with a valid CSRF token."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf(csrf_from))
        return self.client.post(path, data=data, **kw)


@pytest.fixture
def web(app) -> Web:  # noqa: ANN001
    """A logged-out browser-like client."""
    return Web(app)


@pytest.fixture
def live_server(app) -> Iterator[str]:  # noqa: ANN001
    """The app served by werkzeug in a thread on a free port; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def crm(api) -> dict:  # noqa: ANN001
    """A few CRM records made through the v1 API: alice's customer with an opportunity and a follow-up,
    and bob's customer (outside alice's scope)."""
    def made(resp) -> dict:  # noqa: ANN001
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    mine = made(api.post("/api/v1/customers", "alice", json={"name": "Acme Robotics", "industry": "manufacturing",
                                                              "region": "east", "level": "A",
                                                              "phone": "+86 21 5555 0101"}))
    other = made(api.post("/api/v1/customers", "bob", json={"name": "Bobcat Foods", "industry": "food",
                                                             "region": "north", "level": "B"}))
    opp = made(api.post("/api/v1/opportunities", "alice", json={"customer_id": mine["id"], "name": "Arm upgrade",
                                                                 "amount": "120000", "stage": "qualified",
                                                                 "expected_close_date": "2026-12-15"}))
    made(api.post("/api/v1/follow-ups", "alice", json={"customer_id": mine["id"], "type": "call",
                                                        "content": "Asked for a quote"}))
    return {"mine": mine, "other": other, "opp": opp}
