"""SQLite: writing requests queue in arrival order behind one gate; one kept waiting too long gets a 503."""

from __future__ import annotations

import base64
import re
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from api.app import create_app
from api.config import Settings
from api.sqlite_write_gate import FifoGate
from tests.conftest import PG_URL, Api


def test_gate_hands_over_in_arrival_order() -> None:
    gate = FifoGate()
    assert gate.acquire(1)
    order: list[int] = []

    def wait_then_note(i: int, ready: threading.Event) -> None:
        ready.set()
        assert gate.acquire(10)
        order.append(i)
        gate.release()

    threads = []
    for i in range(5):  # each waiter is queued before the next one starts
        ready = threading.Event()
        t = threading.Thread(target=wait_then_note, args=(i, ready))
        t.start()
        ready.wait(5)
        threads.append(t)
        while len(gate._waiters) < i + 1:  # noqa: SLF001  wait until this waiter is in the queue
            time.sleep(0.001)
    gate.release()
    for t in threads:
        t.join(10)
    assert order == [0, 1, 2, 3, 4]


def test_a_waiter_that_times_out_leaves_the_queue() -> None:
    gate = FifoGate()
    assert gate.acquire(1)
    assert not gate.acquire(0.05)
    assert gate._waiters == type(gate._waiters)()  # noqa: SLF001  no stale turn left behind
    gate.release()
    assert gate.acquire(0.05)  # open again


@pytest.mark.skipif(bool(PG_URL), reason="the gate exists on SQLite only; PostgreSQL locks rows")
def test_a_write_kept_waiting_answers_503_and_reads_go_on(database_url: str, tmp_path: Path) -> None:
    app = create_app(Settings(database_url=database_url, secret_key="test", testing=True, log_json=False,
                              upload_dir=str(tmp_path / "up"), sqlite_write_wait=0.2))
    api = Api(app)
    token = api.token("alice")
    gate = app.extensions["oaflow_sqlite_write_gate"]
    assert gate.acquire(1)  # another writer holds it
    try:
        resp = api.client.post("/api/v1/follow-ups", json={},
                               headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "2"
        assert resp.mimetype == "application/problem+json" and "retry" in resp.get_json()["detail"]
        assert api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        gate.release()
    resp = api.client.post("/api/v1/follow-ups", json={}, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 422  # through the gate again: the body's fault, named



@pytest.mark.skipif(bool(PG_URL), reason="the gate exists on SQLite only; PostgreSQL locks rows")
def test_a_slow_request_body_does_not_hold_other_writers(app) -> None:  # noqa: ANN001
    token = Api(app).token("alice")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    body = b'{"customer_id": 999999, "type": "call", "content": "slow"}'
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=30) as slow:
            slow.sendall(b"POST /api/v1/follow-ups HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Authorization: Bearer " + token.encode() + b"\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:10])
            # the slow client's request is in the server, its body not: another writer goes through meanwhile
            quick = requests.post(f"http://127.0.0.1:{server.server_port}/api/v1/follow-ups", json={}, timeout=30,
                                  headers={"Authorization": f"Bearer {token}"})
            assert quick.status_code == 422
            slow.sendall(body[10:])
            answer = slow.recv(200)
        assert answer.startswith(b"HTTP/1.1 422"), answer  # and the slow one is served once its body is in
    finally:
        server.shutdown()


def _gated_app(database_url: str, tmp_path: Path, **settings):  # noqa: ANN003, ANN202
    return create_app(Settings(database_url=database_url, secret_key="test", testing=True, log_json=False,
                               upload_dir=str(tmp_path / "up"), **settings))


@pytest.mark.skipif(bool(PG_URL), reason="the gate exists on SQLite only; PostgreSQL locks rows")
def test_past_the_queue_cap_a_write_is_refused_at_once_and_reads_go_on(database_url: str, tmp_path: Path) -> None:
    app = _gated_app(database_url, tmp_path, sqlite_max_waiting=1, sqlite_write_wait=30)
    api = Api(app)
    auth = {"Authorization": f"Bearer {api.token('alice')}"}
    gate = app.extensions["oaflow_sqlite_write_gate"]
    assert gate.acquire(1)
    queued: list[int] = []
    waiter = threading.Thread(target=lambda: queued.append(
        app.test_client().post("/api/v1/follow-ups", json={}, headers=auth).status_code))
    try:
        waiter.start()
        while gate.waiting() < 1:  # the first writer is in the queue
            time.sleep(0.001)
        began = time.monotonic()
        refused = app.test_client().post("/api/v1/follow-ups", json={}, headers=auth)
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "2"
        assert "already waiting" in refused.get_json()["detail"] and time.monotonic() - began < 5
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        gate.release()
        waiter.join(30)
    assert queued == [422]  # the queued one went through once the gate opened


@pytest.mark.skipif(bool(PG_URL), reason="the gate exists on SQLite only; PostgreSQL locks rows")
def test_the_access_log_counts_the_time_queued(database_url: str, tmp_path: Path, caplog) -> None:  # noqa: ANN001
    app = _gated_app(database_url, tmp_path, sqlite_write_wait=0.3)
    api = Api(app)
    auth = {"Authorization": f"Bearer {api.token('alice')}"}
    gate = app.extensions["oaflow_sqlite_write_gate"]
    assert gate.acquire(1)
    try:
        with caplog.at_level("INFO", logger="oaflow.access"):
            assert app.test_client().post("/api/v1/follow-ups", json={}, headers=auth).status_code == 503
    finally:
        gate.release()
    [line] = [r for r in caplog.records if r.name == "oaflow.access" and r.getMessage().endswith(" 503")]
    assert line.duration_ms >= 300


@pytest.mark.skipif(bool(PG_URL), reason="the gate exists on SQLite only; PostgreSQL locks rows")
def test_a_scheduler_job_takes_its_turn_with_the_requests(database_url: str, tmp_path: Path, caplog) -> None:  # noqa: ANN001
    from api.scheduler import fire_timers_once
    app = _gated_app(database_url, tmp_path, sqlite_write_wait=0.2)
    gate = app.extensions["oaflow_sqlite_write_gate"]
    assert gate.acquire(1)
    try:
        with caplog.at_level("WARNING", logger="oaflow.scheduler"):
            assert fire_timers_once(app) == 0
        assert any("skipped this round" in r.getMessage() for r in caplog.records)
        assert not any("failed" in r.getMessage() for r in caplog.records)  # no "database is locked" error
    finally:
        gate.release()
    assert fire_timers_once(app) == 0 and gate.waiting() == 0 and gate.acquire(0.1)  # ran and let go
    gate.release()


@pytest.mark.skipif(bool(PG_URL), reason="the gate exists on SQLite only; PostgreSQL locks rows")
def test_one_client_fills_half_the_queue_and_others_still_write_and_log_in(database_url: str,  # noqa: ANN001
                                                                          tmp_path: Path) -> None:
    app = _gated_app(database_url, tmp_path, sqlite_max_waiting=4, sqlite_write_wait=30)
    api = Api(app)
    alice, bob = ({"Authorization": f"Bearer {api.token(u)}"} for u in ("alice", "bob"))
    gate = app.extensions["oaflow_sqlite_write_gate"]
    assert gate.acquire(1)
    done: list[tuple[str, int]] = []

    def write(who: str, auth: dict) -> None:
        done.append((who, app.test_client().post("/api/v1/follow-ups", json={}, headers=auth).status_code))

    threads = [threading.Thread(target=write, args=("alice", alice)) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        while gate.waiting() < 2:  # alice's two writes are queued: her half of the queue
            time.sleep(0.001)
        refused = app.test_client().post("/api/v1/follow-ups", json={}, headers=alice)
        assert refused.status_code == 503 and "of your changes" in refused.get_json()["detail"]
        threads.append(threading.Thread(target=write, args=("bob", bob)))  # bob still gets a place
        threads[-1].start()
        login = threading.Thread(target=lambda: done.append(("login", app.test_client().post(
            "/api/v1/auth/token", json={"username": "carol", "password": "demo"}).status_code)))
        while gate.waiting() < 3:
            time.sleep(0.001)
        login.start()
        threads.append(login)
        while gate.waiting() < 4:  # the log-in queues too (it is never refused for the cap)
            time.sleep(0.001)
    finally:
        gate.release()
        for t in threads:
            t.join(30)
    assert sorted(done) == [("alice", 422), ("alice", 422), ("bob", 422), ("login", 200)]


@pytest.mark.skipif(bool(PG_URL), reason="the gate exists on SQLite only; PostgreSQL locks rows")
def test_a_page_and_a_camunda_client_kept_waiting_get_503_in_their_own_shape(database_url: str,
                                                                           tmp_path: Path) -> None:
    app = _gated_app(database_url, tmp_path, sqlite_write_wait=0.2)
    browser = app.test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").get_data(as_text=True)).group(1)
    form = {"username": "alice", "password": "demo", "csrf_token": csrf}
    basic = {"Authorization": "Basic " + base64.b64encode(b"alice:demo").decode()}
    gate = app.extensions["oaflow_sqlite_write_gate"]
    assert gate.acquire(1)
    try:
        page = browser.post("/login", data=form, headers={"Accept": "text/html"})
        assert page.status_code == 503 and page.headers["Retry-After"] == "2"
        assert page.mimetype == "text/html" and "try again" in page.get_data(as_text=True)  # a page, not JSON
        camunda = app.test_client().post("/engine-rest/process-definition/key/leave_request/start", json={},
                                         headers=basic)
        assert camunda.status_code == 503 and camunda.headers["Retry-After"] == "2"
        assert camunda.mimetype == "application/json"
        assert set(camunda.get_json()) == {"type", "message"} and "retry" in camunda.get_json()["message"]
    finally:
        gate.release()
    assert browser.post("/login", data=form).status_code == 302  # the same form goes through once it is free


def test_a_flood_of_refusals_logs_one_line_then_the_count(caplog) -> None:  # noqa: ANN001
    from api.sqlite_write_gate import RefusalLog
    refusals = RefusalLog(every=3600)
    with caplog.at_level("WARNING", logger="oaflow.api"):
        for i in range(500):
            refusals.note(f"POST /api/v1/follow-ups refused ({i})")
        assert [r.getMessage() for r in caplog.records] == ["POST /api/v1/follow-ups refused (0)"]
        refusals._last -= 3600  # noqa: SLF001  the quiet period is over
        refusals.note("POST /api/v1/follow-ups refused (500)")
    assert caplog.records[-1].getMessage() == ("POST /api/v1/follow-ups refused (500) "
                                               "(499 more refused since the last such line)")
