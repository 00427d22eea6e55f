"""Crashes under load, against real `oaflow serve` processes on a private PostgreSQL cluster:
(a) the server is SIGKILLed in the middle of starts and completes; (e) the database restarts.

After recovery every acknowledged request is persisted, none is applied twice (starts carry an
Idempotency-Key, and repeating it returns the first instance), every instance loads and can be
advanced to its end, and the projected task rows agree with each instance's state.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select

from api.app import create_app
from api.config import Settings
from api.extensions import db
from engine.models import HistoryEvent, IdempotentStart, ProcessInstance, Task
from engine.serialization import load_state
from tests.faults.conftest import PrivatePostgres, http, login, prepare_database, start_server

START = "/api/v1/process-definitions/leave_request/start"
ACKNOWLEDGED_BEFORE_KILL = 10  # starts and completes each: the kill lands while work is in flight
_DAYS = itertools.count()


def leave() -> dict:
    """One-day leave on a day no other request uses (approved leave is recorded once per user and day)."""
    day = date(2030, 1, 1) + timedelta(days=next(_DAYS))
    while day.weekday() >= 5:  # the platform refuses a leave without a working day
        day = date(2030, 1, 1) + timedelta(days=next(_DAYS))
    return {"leave_type": "annual", "start_date": day.isoformat(), "end_date": day.isoformat(),
            "reason": "crash test"}


@dataclass
class Load:
    """Starts (alice) and completes (bob) from several threads, remembering what was acknowledged."""

    base: str
    tokens: dict[str, str]
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: dict[str, int] = field(default_factory=dict)  # idempotency key -> instance id (2xx)
    unacknowledged: list[str] = field(default_factory=list)  # keys whose start got no 2xx
    bodies: dict[str, dict] = field(default_factory=dict)  # idempotency key -> the start's variables
    completed: set[str] = field(default_factory=set)  # task ids completed with a 200
    statuses: Counter = field(default_factory=Counter)
    bad_bodies: list = field(default_factory=list)

    def _note(self, status: int, body: dict | None, headers: dict) -> None:
        self.statuses[status] += 1
        if status >= 500 and (status != 503 or not body or body.get("status") != 503
                              or "problem+json" not in headers.get("Content-Type", "")):
            self.bad_bodies.append((status, body))

    def starter(self) -> None:
        while not self.stop.is_set():
            key, variables = uuid.uuid4().hex, leave()
            status, body, headers = http("POST", self.base + START, {"variables": variables}, timeout=10, headers={
                "Authorization": f"Bearer {self.tokens['alice']}", "Idempotency-Key": key})
            with self.lock:
                self.bodies[key] = variables
                self._note(status, body, headers)
                if status in (200, 201):
                    self.started[key] = body["id"]
                else:
                    self.unacknowledged.append(key)
            if status in (0, 503):
                time.sleep(0.2)

    def completer(self) -> None:
        auth = {"Authorization": f"Bearer {self.tokens['bob']}"}
        while not self.stop.is_set():
            status, body, headers = http("GET", self.base + "/api/v1/tasks?assignee=me&per_page=20", headers=auth)
            if status != 200:
                with self.lock:
                    self._note(status, body, headers)
                time.sleep(0.05)
                continue
            for task in body["items"][:3]:
                status, done, headers = http("POST", f"{self.base}/api/v1/tasks/{task['id']}/complete",
                                             {"variables": {"approved": True}}, headers=auth)
                with self.lock:
                    self._note(status, done, headers)
                    if status == 200:
                        self.completed.add(task["id"])

    def run(self, starters: int = 4, completers: int = 2) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.starter) for _ in range(starters)]
        threads += [threading.Thread(target=self.completer) for _ in range(completers)]
        for t in threads:
            t.start()
        return threads

    def acknowledged(self) -> tuple[int, int]:
        """(starts, completes) acknowledged so far."""
        with self.lock:
            return len(self.started), len(self.completed)

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 180) -> None:
        """Block until `condition()` holds (the load keeps running); a generous deadline only guards a hang."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.statuses}"
            time.sleep(0.05)

    def finish(self, threads: list[threading.Thread]) -> None:
        self.stop.set()
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads)


def check_recovered(base: str, load: Load, database_url: str, tmp: Path) -> None:
    """Everything acknowledged is there once; replays are harmless; state and task rows agree;
    every instance can be advanced to its end."""
    alice = {"Authorization": f"Bearer {login(base, 'alice')}"}
    bob = {"Authorization": f"Bearer {login(base, 'bob')}"}
    for key, instance_id in load.started.items():
        status, body, _ = http("GET", f"{base}/api/v1/process-instances/{instance_id}", headers=alice)
        assert status == 200, (instance_id, body)
        status, body, _ = http("POST", base + START, {"variables": load.bodies[key]},
                               headers={**alice, "Idempotency-Key": key})
        assert status == 200 and body["id"] == instance_id, (status, body)  # not started a second time
    for key in load.unacknowledged[:: max(1, len(load.unacknowledged) // 15)]:
        # unknown outcome: a replay either finds it or starts it, once (a sample; the database check
        # below covers all of them: one instance per idempotency key, one `started` event per instance)
        status, body, _ = http("POST", base + START, {"variables": load.bodies[key]},
                               headers={**alice, "Idempotency-Key": key})
        assert status in (200, 201), (status, body)
        again = http("POST", base + START, {"variables": load.bodies[key]}, headers={**alice, "Idempotency-Key": key})
        assert again[0] == 200 and again[1]["id"] == body["id"]
        other = http("POST", base + START, {"variables": leave()}, headers={**alice, "Idempotency-Key": key})
        assert other[0] == 422, other  # the same key with another request is refused, never replayed
    app = create_app(Settings(database_url=database_url, secret_key="fault-tests", testing=True, log_json=False,
                              upload_dir=str(tmp / "check-uploads")))
    with app.app_context():
        session = db.session
        instances = session.scalars(select(ProcessInstance)).all()
        assert session.scalar(select(func.count()).select_from(IdempotentStart)) == len(instances)
        specs = app.extensions["oaflow_engine"].specs
        for inst in instances:
            loaded = specs.get(session, inst.definition)
            wf = load_state(inst.state, loaded.spec, loaded.subprocess_specs)
            ready = {str(t.id) for t in wf.get_tasks(state=TaskState.READY, manual=True)}
            open_rows = set(session.scalars(select(Task.id).where(Task.instance_id == inst.id,
                                                                  Task.status == "open")))
            assert ready == open_rows, (inst.id, inst.status, ready, open_rows)
            assert (inst.status == "completed") == wf.is_completed(), inst.id
            assert inst.status in ("running", "completed"), (inst.id, inst.status, inst.error_message)
        done = Counter(session.scalars(select(HistoryEvent.task_id).where(HistoryEvent.type == "task_completed")))
        assert all(n == 1 for n in done.values()), [t for t, n in done.items() if n > 1]
        completed_rows = set(session.scalars(select(Task.id).where(Task.status == "completed")))
        assert load.completed <= completed_rows and set(done) == completed_rows
        started = Counter(session.scalars(select(HistoryEvent.instance_id).where(HistoryEvent.type == "started")))
        assert all(started[i.id] == 1 for i in instances)
        db.session.remove()
        db.engine.dispose()
    # every instance can still be advanced: approve everything that is open
    for _ in range(50):
        status, body, _ = http("GET", base + "/api/v1/tasks?assignee=me&per_page=200", headers=bob)
        assert status == 200
        if not body["items"]:
            break
        for task in body["items"]:
            status, done, _ = http("POST", f"{base}/api/v1/tasks/{task['id']}/complete",
                                   {"variables": {"approved": True}}, headers=bob)
            assert status == 200, (status, done)
    status, body, _ = http("GET", base + "/api/v1/process-instances?status=running", headers=alice)
    assert status == 200 and body["total"] == 0, body


def test_server_killed_under_load_loses_and_duplicates_nothing(private_pg: PrivatePostgres, tmp_path) -> None:  # noqa: ANN001
    url = private_pg.create_database("crash_a")
    prepare_database(url, str(tmp_path / "uploads"))
    server = start_server(url, tmp_path)
    try:
        load = Load(server.base, {u: login(server.base, u) for u in ("alice", "bob")})
        threads = load.run()
        # kill after N acknowledged starts and completes, however slowly a busy machine gets there
        load.wait_for(lambda: min(load.acknowledged()) >= ACKNOWLEDGED_BEFORE_KILL, "acknowledged requests")
        server.kill(signal.SIGKILL)  # master and workers, mid-request
        # the clients notice: each thread gets a failed request (status 0) before it is stopped
        failed = load.statuses[0]
        load.wait_for(lambda: load.statuses[0] >= failed + 4, "clients to see the dead server")
        load.finish(threads)
        assert load.started and load.completed, load.statuses
        assert load.bad_bodies == [], load.bad_bodies[:3]
        server = start_server(url, tmp_path)
        check_recovered(server.base, load, url, tmp_path)
    finally:
        server.kill(signal.SIGTERM)


def test_database_restart_under_load_gives_503_then_recovers(private_pg: PrivatePostgres, tmp_path) -> None:  # noqa: ANN001
    url = private_pg.create_database("crash_e")
    prepare_database(url, str(tmp_path / "uploads"))
    server = start_server(url, tmp_path)
    try:
        load = Load(server.base, {u: login(server.base, u) for u in ("alice", "bob")})
        threads = load.run()
        load.wait_for(lambda: min(load.acknowledged()) >= ACKNOWLEDGED_BEFORE_KILL, "acknowledged requests")
        before = dict(load.statuses)
        private_pg.stop("immediate")  # a crash: in-flight transactions are lost, recovery on start
        load.wait_for(lambda: load.statuses[503] > before.get(503, 0), "a 503 while the database is down")
        during = Counter(load.statuses)
        during.subtract(before)
        private_pg.start()
        # clients keep going until the service answers again
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, _, _ = http("GET", server.base + "/healthz")
            if status == 200:
                break
            time.sleep(0.2)
        acked_before_restart = len(load.started)
        load.wait_for(lambda: len(load.started) > acked_before_restart, "a start after the database came back")
        load.finish(threads)
        assert during[503] > 0, (before, load.statuses)
        assert load.bad_bodies == [], load.bad_bodies[:3]
        assert set(load.statuses) <= {200, 201, 409, 503}, load.statuses
        assert len(load.started) > acked_before_restart, "no start succeeded after the database came back"
        check_recovered(server.base, load, url, tmp_path)
    finally:
        server.kill(signal.SIGTERM)
