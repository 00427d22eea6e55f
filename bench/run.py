"""oaflow benchmarks (`make bench`; `--quick` for small counts). Prints figures; not part of `make test`.

1. baseline   the leave lifecycle (start, persist, load, complete, persist) on bare SpiffWorkflow
2. http       the same lifecycle over HTTP against `oaflow serve` on PostgreSQL, with concurrent clients
3. growth     p95 of GET /tasks?assignee=me, start and complete with 1k and with 200k finished instances
4. long       complete latency on an instance that has looped 500 times vs one that ran 5 tasks
5. memory     worker RSS before and after N lifecycles (in-process, Flask test client)

PostgreSQL: OAFLOW_BENCH_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) is used to
create (and drop) scratch databases named oaflow_bench_*.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_DAYS = itertools.count()


def leave() -> dict:
    """Start variables of a one-day leave on a fresh day (approved leave is recorded once per user and day)."""
    day = date(2030, 1, 1) + timedelta(days=next(_DAYS))
    while day.weekday() >= 5:  # a leave needs a working day (the platform computes `days`)
        day = date(2030, 1, 1) + timedelta(days=next(_DAYS))
    return {"leave_type": "annual", "start_date": day.isoformat(), "end_date": day.isoformat(), "reason": "bench"}
START = "/api/v1/process-definitions/leave_request/start"
ADMIN_URL = os.environ.get("OAFLOW_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`, in the same unit."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------------------------------------- 1
def baseline(n: int, persist_url: str | None = None) -> float:
    """Lifecycles per second on bare SpiffWorkflow in this process (spec parsed once, as a cache would).

    With `persist_url` (a PostgreSQL database), "persist" and "load" are what any service built on bare
    SpiffWorkflow does: the serialized workflow is written to a table and committed, read back, and
    written again after the completion (plain psycopg, one connection, no ORM). Without it the state
    only goes to a JSON string in memory: the engine's CPU alone.
    """
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.parser import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    class Engine(PythonScriptEngine):
        """The default script engine; service tasks (recording the leave, calendar, CC) return nothing."""

        def call_service(self, *args, **kwargs) -> str:  # noqa: ANN002, ANN003
            return "null"

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(ROOT / "processes" / "leave_request.bpmn"))
    spec = parser.get_spec("leave_request")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    script_engine = Engine()
    store = _StateTable(persist_url) if persist_url else None

    def lifecycle() -> None:
        wf = BpmnWorkflow(spec, script_engine=script_engine)
        for task in wf.get_tasks(state=TaskState.READY):
            # oaflow computes `days` and the halves at start; bare SpiffWorkflow is handed the values
            task.data.update({**leave(), "days": 1, "start_half": "am", "end_half": "pm", "initiator": "alice"})
        wf.do_engine_steps()
        saved = serializer.serialize_json(wf)
        if store is not None:
            saved = store.load(store.insert(saved))
        wf = serializer.deserialize_json(saved)
        wf.script_engine = script_engine
        task = list(wf.get_tasks(state=TaskState.READY, manual=True))[0]
        task.data.update({"approved": True})
        task.run()
        wf.do_engine_steps()
        assert wf.is_completed()
        saved = serializer.serialize_json(wf)
        if store is not None:
            store.update(store.last_id, saved)

    try:
        for _ in range(min(50, n)):
            lifecycle()
        began = time.perf_counter()
        for _ in range(n):
            lifecycle()
        return n / (time.perf_counter() - began)
    finally:
        if store is not None:
            store.close()


def persisted_baseline(n: int) -> float:
    """The baseline with its state persisted to a scratch PostgreSQL database."""
    with scratch_database(prepare=False) as url:
        return baseline(n, persist_url=url)


class _StateTable:
    """The simplest durable store for bare SpiffWorkflow: one row of JSON text per workflow."""

    def __init__(self, url: str) -> None:
        import psycopg
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = psycopg.connect(dsn)
        self.conn.execute("CREATE TABLE IF NOT EXISTS bare_workflow (id bigserial PRIMARY KEY, state text NOT NULL)")
        self.conn.commit()
        self.last_id = 0

    def insert(self, state: str) -> int:
        self.last_id = self.conn.execute("INSERT INTO bare_workflow (state) VALUES (%s) RETURNING id",
                                         (state,)).fetchone()[0]
        self.conn.commit()
        return self.last_id

    def load(self, row_id: int) -> str:
        state = self.conn.execute("SELECT state FROM bare_workflow WHERE id = %s", (row_id,)).fetchone()[0]
        self.conn.commit()
        return state

    def update(self, row_id: int, state: str) -> None:
        self.conn.execute("UPDATE bare_workflow SET state = %s WHERE id = %s", (state, row_id))
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------------------------------------- setup
@contextmanager
def scratch_database(prepare: bool = True) -> Iterator[str]:
    """A new PostgreSQL database (migrated, seeded and deployed unless `prepare` is False); dropped afterwards."""
    name = f"oaflow_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        if prepare:
            _prepare(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _app(url: str):  # noqa: ANN202
    from api.app import create_app
    from api.config import Settings
    app = create_app(Settings(database_url=url, secret_key="bench", testing=True, log_json=False,
                              upload_dir=tempfile.mkdtemp(prefix="oaflow_bench_")))
    import logging
    logging.getLogger("oaflow").setLevel(logging.WARNING)  # the access log would drown the figures
    return app


def _prepare(url: str) -> None:
    from flask_migrate import upgrade

    from api.cli import deploy_paths
    from api.extensions import db
    from oa.demo import seed_organisation
    app = _app(url)
    with app.app_context():
        upgrade(directory=app.config["OAFLOW_MIGRATIONS_DIR"], revision="heads")
        seed_organisation(db.session)
        db.session.commit()
    deploy_paths(app, [ROOT / "processes", ROOT / "forms", ROOT / "bench" / "looping.bpmn"])
    with app.app_context():
        db.engine.dispose()


class Client:
    """Flask test client with cached bearer tokens."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.client = app.test_client()
        self.tokens: dict[str, str] = {}

    def auth(self, user: str) -> dict:
        if user not in self.tokens:
            resp = self.client.post("/api/v1/auth/token", json={"username": user, "password": "demo"})
            self.tokens[user] = resp.get_json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def lifecycle(self) -> None:
        inst = self.client.post(START, json={"variables": leave()}, headers=self.auth("alice")).get_json()
        task = inst["active_tasks"][0]["id"]
        resp = self.client.post(f"/api/v1/tasks/{task}/complete", json={"variables": {"approved": True}},
                                headers=self.auth("bob"))
        assert resp.status_code == 200, resp.get_json()


def timed(fn: Callable[[], object]) -> float:
    """Milliseconds one call of `fn` takes."""
    began = time.perf_counter()
    fn()
    return (time.perf_counter() - began) * 1000


# ---------------------------------------------------------------------------------------------- 2
def http_load(url: str, lifecycles: int, clients: int, workers: int, threads: int) -> dict:
    """Run `oaflow serve` on `url` and drive leave lifecycles through it from `clients` threads."""
    import http.client
    import json
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OAFLOW_DATABASE_URL": url, "OAFLOW_SECRET_KEY": "bench",
           "OAFLOW_LOG_FORMAT": "text", "OAFLOW_LOGIN_RATE": "1000/minute"}
    log = open(tempfile.mktemp(prefix="oaflow_bench_serve_", suffix=".log"), "wb")  # noqa: SIM115
    proc = subprocess.Popen([str(Path(sys.executable).parent / "oaflow"), "serve", "--port", str(port),
                             "--workers", str(workers), "--threads", str(threads)], cwd=ROOT, env=env, stdout=log,
                            stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    local = threading.local()

    def call(method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        """One request on this thread's keep-alive connection (as an integrator's HTTP pool would)."""
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        try:
            conn.request(method, path, body=json.dumps(body).encode() if body else None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (http.client.HTTPException, OSError):
            local.conn = None  # the server closed an idle connection: once more on a new one
            conn.close()
            return call(method, path, body, token)
        if resp.status >= 400:
            raise RuntimeError(f"{method} {path}: {resp.status} {data[:300]!r}")
        return json.loads(data)

    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        tokens = {u: call("POST", "/api/v1/auth/token", {"username": u, "password": "demo"})["access_token"]
                  for u in ("alice", "bob")}
        latencies: dict[str, list[float]] = {"start": [], "complete": []}
        lock = threading.Lock()
        remaining = [lifecycles]
        failures: list[str] = []

        def worker() -> None:
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                t0 = time.perf_counter()
                try:
                    inst = call("POST", START, {"variables": leave()}, tokens["alice"])
                    t1 = time.perf_counter()
                    call("POST", f"/api/v1/tasks/{inst['active_tasks'][0]['id']}/complete",
                         {"variables": {"approved": True}}, tokens["bob"])
                except RuntimeError as err:
                    failures.append(str(err))
                    continue
                t2 = time.perf_counter()
                with lock:
                    latencies["start"].append((t1 - t0) * 1000)
                    latencies["complete"].append((t2 - t1) * 1000)

        remaining[0] = min(50, lifecycles)  # warm up every worker's spec cache and pool
        threads = [threading.Thread(target=worker) for _ in range(clients)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        latencies = {"start": [], "complete": []}
        remaining[0] = lifecycles
        began = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(clients)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        elapsed = time.perf_counter() - began
        if failures:
            raise RuntimeError(f"{len(failures)} lifecycles failed, e.g. {failures[0]}")
        every = latencies["start"] + latencies["complete"]
        return {"rate": lifecycles / elapsed, "p50": pct(every, 50), "p99": pct(every, 99),
                "start_p50": pct(latencies["start"], 50), "complete_p50": pct(latencies["complete"], 50)}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


# ---------------------------------------------------------------------------------------------- 3
def _bulk_finished(url: str, count: int) -> None:
    """Copy one real finished leave instance (with its task and history rows) `count` times, in SQL."""
    engine = create_engine(url)
    with engine.begin() as conn:
        template = conn.execute(text("SELECT id FROM process_instance WHERE status = 'completed' "
                                     "AND process_key = 'leave_request' ORDER BY id LIMIT 1")).scalar_one()

        def columns(table: str, skip: set[str]) -> list[str]:
            rows = conn.execute(text("SELECT column_name FROM information_schema.columns WHERE table_name = :t "
                                     "ORDER BY ordinal_position"), {"t": table}).scalars()
            return [c for c in rows if c not in skip]

        top = conn.execute(text("SELECT coalesce(max(id), 0) FROM process_instance")).scalar_one()
        pcols = columns("process_instance", {"id"})
        cols = ", ".join(f'"{c}"' for c in pcols)
        conn.execute(text(f"INSERT INTO process_instance ({cols}) SELECT {cols} FROM process_instance, "
                          f"generate_series(1, :n) WHERE id = :t"), {"n": count, "t": template})
        tcols = columns("task", {"id", "instance_id"})
        tc = ", ".join(f'"{c}"' for c in tcols)
        tsel = ", ".join(f't."{c}"' for c in tcols)
        conn.execute(text(f"INSERT INTO task (id, instance_id, {tc}) SELECT gen_random_uuid()::text, p.id, {tsel} "
                          f"FROM process_instance p CROSS JOIN (SELECT * FROM task WHERE instance_id = :t) t "
                          f"WHERE p.id > :top"), {"t": template, "top": top})
        hcols = columns("history_event", {"id", "instance_id"})
        hc = ", ".join(f'"{c}"' for c in hcols)
        hsel = ", ".join(f'h."{c}"' for c in hcols)
        conn.execute(text(f"INSERT INTO history_event (instance_id, {hc}) SELECT p.id, {hsel} FROM process_instance p "
                          f"CROSS JOIN (SELECT * FROM history_event WHERE instance_id = :t) h WHERE p.id > :top"),
                     {"t": template, "top": top})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # the database as it stands after a bulk import has settled (autovacuum and the checkpointer would
        # get there on their own): measured at once, the requests would race the write-back of the load
        conn.execute(text("VACUUM ANALYZE"))
        conn.execute(text("CHECKPOINT"))
    engine.dispose()


def _sample(client: Client, times: dict[str, list[float]]) -> None:
    """One start, one task list and one complete, their milliseconds appended to `times`."""
    inst: dict = {}
    times["start"].append(timed(lambda: inst.update(client.client.post(
        START, json={"variables": leave()}, headers=client.auth("alice")).get_json())))
    times["tasks"].append(timed(lambda: client.client.get("/api/v1/tasks?assignee=me", headers=client.auth("bob"))))
    task = inst["active_tasks"][0]["id"]
    times["complete"].append(timed(lambda: client.client.post(
        f"/api/v1/tasks/{task}/complete", json={"variables": {"approved": True}}, headers=client.auth("bob"))))


def growth(small_url: str, big_url: str, small: int, big: int, samples: int) -> tuple[dict, dict]:
    """p95s (ms) in a database holding `small` finished instances and in one holding `big`.

    Both are loaded and settled first; then samples alternate between them in rounds of ten, so the
    drift of a shared machine's speed over the minutes of a run falls on both figures alike.
    """
    clients = []
    for url, count in ((small_url, small), (big_url, big)):
        client = Client(_app(url))
        client.lifecycle()
        _bulk_finished(url, count - 1)
        clients.append(client)
    times: list[dict[str, list[float]]] = [{"start": [], "tasks": [], "complete": []} for _ in clients]
    for _ in range(20):  # warm-up
        for client in clients:
            _sample(client, {"start": [], "tasks": [], "complete": []})
    for _ in range(max(1, samples // 10)):
        for client, measured in zip(clients, times, strict=True):
            for _ in range(10):
                _sample(client, measured)
    first, second = ({k: pct(v, 95) for k, v in measured.items()} for measured in times)
    return first, second


# ---------------------------------------------------------------------------------------------- 4
def long_instances(url: str, loops: int, samples: int) -> tuple[float, float]:
    """Median complete latency (ms) after 5 tasks and after `loops` tasks of the looping process."""
    app = _app(url)
    client = Client(app)

    def run_to(inst_id: int, done: int, target: int, measure: int) -> list[float]:
        times = []
        while done < target + measure:
            task = client.client.get(f"/api/v1/tasks?assignee=me&instance_id={inst_id}",
                                     headers=client.auth("alice")).get_json()["items"][0]["id"]
            ms = timed(lambda t=task: client.client.post(f"/api/v1/tasks/{t}/complete",
                                                         json={"variables": {"again": True}},
                                                         headers=client.auth("alice")))
            done += 1
            if done > target:
                times.append(ms)
        return times

    start = lambda: client.client.post("/api/v1/process-definitions/bench_loop/start",  # noqa: E731
                                       json={"variables": {"again": True}}, headers=client.auth("alice")).get_json()
    run_to(start()["id"], 0, 5, samples)  # warm-up: caches and compiled statements, so both below are steady
    short = run_to(start()["id"], 0, 5, samples)
    long = run_to(start()["id"], 0, loops, samples)
    return statistics.median(short), statistics.median(long)


# ---------------------------------------------------------------------------------------------- 5
def memory(url: str, lifecycles: int) -> tuple[float, float]:
    """RSS (MiB) of this process after a warm-up and after `lifecycles` more lifecycles."""
    import gc
    app = _app(url)
    client = Client(app)
    for _ in range(200):
        client.lifecycle()
    gc.collect()
    before = rss_mb()
    for _ in range(lifecycles):
        client.lifecycle()
    gc.collect()
    return before, rss_mb()


def main(argv: list[str] | None = None) -> None:
    """Run every benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts (a minute or two)")
    parser.add_argument("--only", nargs="*", choices=["baseline", "http", "growth", "long", "memory"])
    args = parser.parse_args(argv)
    q = args.quick
    only = set(args.only or ["baseline", "http", "growth", "long", "memory"])
    base = persisted = None
    if "baseline" in only or "http" in only:
        base = baseline(200 if q else 2000)
        print(f"1. baseline  bare SpiffWorkflow leave lifecycle, state kept in memory: {base:.0f} lifecycles/s "
              "(one process)")
        persisted = persisted_baseline(200 if q else 2000)
        print(f"1. baseline  bare SpiffWorkflow leave lifecycle, state persisted to PostgreSQL: {persisted:.0f} "
              "lifecycles/s (one process)")
    if "http" in only:
        workers = int(os.environ.get("OAFLOW_BENCH_WORKERS", "2"))
        threads = int(os.environ.get("OAFLOW_BENCH_THREADS", "4"))
        clients = int(os.environ.get("OAFLOW_BENCH_CLIENTS", "8"))
        with scratch_database() as url:
            r = http_load(url, 200 if q else 2000, clients=clients, workers=workers, threads=threads)
        # the persisted baseline waits on commits, whose latency drifts on a shared VM: measure it on both
        # sides of the HTTP run and compare with the mean of the two
        after = persisted_baseline(200 if q else 2000)
        mean = (persisted + after) / 2
        print(f"1. baseline  persisted to PostgreSQL, again after the HTTP run: {after:.0f} lifecycles/s "
              f"(mean of both: {mean:.0f})")
        print(f"2. http      oaflow serve ({workers} workers x {threads} threads, PostgreSQL, {clients} keep-alive "
              f"clients): {r['rate']:.0f} lifecycles/s; per request p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms "
              f"(start p50 {r['start_p50']:.1f}, complete p50 {r['complete_p50']:.1f}); "
              f"ratio to baseline persisted {r['rate'] / mean:.2f} (target >= 0.5; before/after the run: "
              f"{r['rate'] / persisted:.2f}/{r['rate'] / after:.2f}), to baseline in memory {r['rate'] / base:.2f}")
    if "growth" in only:
        with scratch_database() as small_url, scratch_database() as big_url:
            small, big = growth(small_url, big_url, 1000, 20_000 if q else 200_000, 50 if q else 200)
        label = "20k" if q else "200k"
        for k in ("tasks", "start", "complete"):
            print(f"3. growth    p95 {k:<8} 1k: {small[k]:.1f} ms  {label}: {big[k]:.1f} ms  "
                  f"ratio {big[k] / small[k]:.2f} (target <= 1.3)")
    if "long" in only:
        with scratch_database() as url:
            loops = 100 if q else 500
            short, long = long_instances(url, loops, 10)
        print(f"4. long      complete after 5 tasks: {short:.1f} ms; after {loops}: {long:.1f} ms; "
              f"ratio {long / short:.2f}")
    if "memory" in only:
        with scratch_database() as url:
            n = 1000 if q else 20_000
            before, after = memory(url, n)
        print(f"5. memory    RSS after warm-up {before:.0f} MiB, after {n} more lifecycles {after:.0f} MiB "
              f"(+{after - before:.1f} MiB)")


if __name__ == "__main__":
    main()
