"""Fixtures for the web pages: a browser-like test client that logs in through the login form
(with its CSRF token), and a live server for the Playwright browser tests."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
# the leave request start form as the browser posts it (tests/web/common and tests/web/approvals use it)
LEAVE = {"v:leave_type": "annual", "v:start_date": "2026-12-01", "v:end_date": "2026-12-02",
         "v:reason": "family trip"}
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


# ------------------------------------------------------------------ the browser (Playwright on Debian's chromium)
# Records every Content-Security-Policy violation of the page (init scripts are exempt from the policy).
CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber);
});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One headless chromium for the module."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); "
                    "the browser tests need it and must not be skipped")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server: str) -> Iterator:  # noqa: ANN001
    """A fresh browser context (no cookies) on the live server. Every console message about the
    Content-Security-Policy and every uncaught script error is collected in `pg.problems`; the test
    fails if any is left at the end (inline script anywhere on a visited page fails it)."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_WATCH)
    pg = context.new_page()
    pg.problems = []
    pg.on("console", lambda msg: pg.problems.append(f"{pg.url}: {msg.text}")
          if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
    pg.on("pageerror", lambda err: pg.problems.append(f"{pg.url}: {err}"))
    yield pg
    context.close()
    assert not pg.problems, pg.problems


@pytest.fixture
def english_page(browser, live_server: str) -> Iterator:  # noqa: ANN001
    """A fresh English browser context (locale and Accept-Language) at desktop width; a script error or a
    Content-Security-Policy complaint on any page it visits fails the test."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 860}, locale="en",
                                  extra_http_headers={"Accept-Language": "en"})
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_WATCH)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda err: problems.append(str(err)))
    pg.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield pg
    context.close()
    assert not problems, problems


def page_problems(pg) -> list[str]:  # noqa: ANN001
    """CSP violations seen by the open page plus console CSP errors and script errors so far."""
    return list(pg.problems) + [f"{pg.url}: {v}" for v in (pg.evaluate("window.__csp || []") or [])]


def shot(pg, name: str, full: bool = True) -> None:  # noqa: ANN001
    """Save a screenshot into test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)


def login(pg, username: str) -> None:  # noqa: ANN001
    """Log in through the login form."""
    pg.goto("/login")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", "demo")
    pg.click("button[type=submit]")
    pg.wait_for_url(lambda url: "/login" not in url)


def logout(pg) -> None:  # noqa: ANN001
    """Log out through the header form."""
    pg.click("form[action='/logout'] button")
    pg.wait_for_url("**/login")


# ------------------------------------------------------------------ hostile data for the escaping tests
# Markup that would run script if a page rendered it raw, with a `%` that breaks %-formatting.
PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script> 100% "q"'
ESCAPED = "&lt;img src=x onerror="  # how every page must show the start of PAYLOAD
RAW = "<img src=x"  # what no page may contain
HOSTILE_KEY = "xss_leave"


def hostile_process() -> dict[str, bytes]:
    """The shipped leave request uploaded again under another key, its process name, manager task name
    and start-form titles replaced by PAYLOAD (a designer's markup)."""
    from xml.sax.saxutils import quoteattr
    bpmn = (ROOT / "processes" / "leave_request.bpmn").read_text()
    bpmn = (bpmn.replace('id="leave_request"', f'id="{HOSTILE_KEY}"')
            .replace('bpmnElement="leave_request"', f'bpmnElement="{HOSTILE_KEY}"')
            .replace('name="Leave request"', f"name={quoteattr(PAYLOAD)}")
            .replace('name="Manager approval"', f"name={quoteattr(PAYLOAD)}")
            .replace("leave_request_start.json", "xss_start.json"))
    form = json.loads((ROOT / "forms" / "leave_request_start.json").read_text())
    form["title"] = PAYLOAD
    form["properties"]["reason"]["title"] = PAYLOAD
    form["properties"]["leave_type"]["title"] = PAYLOAD
    # the platform computes `days` only for the shipped leave_request: this copy declares it as a field
    form["properties"]["days"] = {"type": "number", "title": "Days"}
    return {"xss_leave.bpmn": bpmn.encode(), "xss_start.json": json.dumps(form).encode()}


@pytest.fixture
def hostile(api) -> dict:  # noqa: ANN001
    """PAYLOAD stored in every user-editable field a page shows, through the v1 API: a designer's process,
    task and form names; alice's leave reason and comment; her customer (name, industry, region, source),
    opportunity, follow-up, ticket and contract; an announcement; a calendar event; a forum thread that
    mentions alice (a notification); and alice's display name. Bob holds the manager task."""
    from tests.conftest import deploy_files

    def made(resp) -> dict:  # noqa: ANN001
        assert resp.status_code in (200, 201), resp.get_json()
        return resp.get_json()

    made(deploy_files(api, "grace", hostile_process()))
    inst = made(api.post(f"/api/v1/process-definitions/{HOSTILE_KEY}/start", "alice", json={"variables": {
        "leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-02",
        "reason": PAYLOAD}}))
    task = api.tasks("bob", instance_id=inst["id"])[0]
    made(api.post(f"/api/v1/tasks/{task['id']}/comments", "bob", json={"text": PAYLOAD}))
    customer = made(api.post("/api/v1/customers", "alice", json={
        "name": PAYLOAD, "industry": PAYLOAD, "region": PAYLOAD, "source": PAYLOAD, "level": "A"}))
    made(api.post("/api/v1/opportunities", "alice", json={"customer_id": customer["id"], "name": PAYLOAD,
                                                          "amount": "1000", "stage": "qualified"}))
    made(api.post("/api/v1/follow-ups", "alice", json={"customer_id": customer["id"], "type": "call",
                                                       "content": PAYLOAD}))
    made(api.post("/api/v1/tickets", "alice", json={"customer_id": customer["id"], "title": PAYLOAD,
                                                    "priority": "low"}))
    made(api.post("/api/v1/contracts", "alice", json={"customer_id": customer["id"], "title": PAYLOAD,
                                                      "amount": "1000"}))
    made(api.post("/api/v1/announcements", "admin", json={"title": PAYLOAD, "body": PAYLOAD}))
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=None)
    made(api.post("/api/v1/calendar/events", "alice", json={
        "title": PAYLOAD, "location": PAYLOAD, "start": today.isoformat(),
        "end": (today + timedelta(hours=1)).isoformat()}))
    board = made(api.post("/api/v1/forum/boards", "admin", json={"name": "General"}))
    made(api.post(f"/api/v1/forum/boards/{board['id']}/threads", "bob", json={
        "title": PAYLOAD, "body": f"@alice {PAYLOAD}"}))
    alice = next(u for u in made(api.get("/api/v1/users", "admin", query_string={"per_page": 100}))["items"]
                 if u["username"] == "alice")
    made(api.client.patch(f"/api/v1/users/{alice['id']}", json={"display_name": PAYLOAD},
                          headers=api.headers("admin")))
    return {"instance": inst["id"], "task": task["id"], "customer": customer["id"]}
