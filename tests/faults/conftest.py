"""Helpers shared by the fault tests: counting rows, threaded HTTP through the Flask test client,
real `oaflow` subprocesses, free ports and a private PostgreSQL cluster."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.config import ROOT

VENV_BIN = Path(sys.executable).parent


def count_rows(app, model, *where) -> int:  # noqa: ANN001
    """Rows of `model` (optionally filtered) in the app's database."""
    from api.extensions import db
    with app.app_context():
        query = select(func.count()).select_from(model)
        for clause in where:
            query = query.where(clause)
        n = db.session.scalar(query)
        db.session.remove()
        return n


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, headers: dict | None = None,
         timeout: float = 10) -> tuple[int, dict | None, dict]:
    """(status, JSON body or None, headers) of one request; connection failures give status 0."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None, dict(resp.headers)
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return err.code, parsed, dict(err.headers)
    except (urllib.error.URLError, HTTPException, ConnectionError, TimeoutError, OSError):
        return 0, None, {}  # no answer, or one cut off when the server died: not acknowledged


def login(base: str, username: str, password: str = "demo") -> str:
    """A bearer token from a running server."""
    status, body, _ = http("POST", f"{base}/api/v1/auth/token", {"username": username, "password": password})
    assert status == 200, body
    return body["access_token"]


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PrivatePostgres:
    """A throw-away PostgreSQL cluster in a temp dir, on its own port (never the shared 5432)."""

    bindir: Path
    datadir: Path
    port: int
    user: str | None  # OS user that runs the server (postgres when we are root)

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the `postgres` database of this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=60)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.datadir / "server.log"), "-w", "-t", "30",
                  "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir} -c fsync=off "
                        "-c max_connections=200", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`immediate` is a crash: no checkpoint, recovery on start)."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "-t", "30", "stop", check=False)

    def create_database(self, name: str) -> str:
        """Create a database and return its SQLAlchemy URL."""
        from sqlalchemy import create_engine, text
        admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL cluster for tests that kill or restart the database."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.fail("PostgreSQL server binaries not found (install Debian's postgresql, as .ci/run does)")
    root = Path(tempfile.mkdtemp(prefix="oaflow_pg_"))
    datadir = root / "data"
    user = "postgres" if os.geteuid() == 0 else None
    if user:
        shutil.chown(root, user)
    datadir.mkdir()
    if user:
        shutil.chown(datadir, user)
    pg = PrivatePostgres(bindir, datadir, free_port(), user)
    pg._run("initdb", "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
    pg.start()
    yield pg
    pg.stop("immediate")
    shutil.rmtree(root, ignore_errors=True)


def prepare_database(url: str, upload_dir: str) -> None:
    """Migrate, seed the demo organisation and deploy processes/ (as the test template does)."""
    from tests.conftest import _prepare
    _prepare(url, upload_dir)


@dataclass
class Server:
    """An `oaflow serve` subprocess."""

    proc: subprocess.Popen
    base: str
    log: Path

    def wait_ready(self, timeout: float = 180) -> None:
        """Block until /healthz answers 200 (the timeout only guards a hang: a busy machine starts slowly)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-3000:]}")
            status, _, _ = http("GET", f"{self.base}/healthz", timeout=2)
            if status == 200:
                return
            time.sleep(0.2)
        raise AssertionError(f"server not ready: {self.log.read_text()[-3000:]}")

    def kill(self, sig: int) -> None:
        """Send `sig` to the server's whole process group and reap it."""
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)


def start_server(database_url: str, tmp: Path, *, workers: int = 2, threads: int = 8,
                 extra_env: dict | None = None) -> Server:
    """Run `oaflow serve` on a free port in its own process group."""
    port = free_port()
    log = tmp / f"server-{port}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OAFLOW_DATABASE_URL": database_url,
           "OAFLOW_SECRET_KEY": "fault-tests", "OAFLOW_UPLOAD_DIR": str(tmp / "uploads"), "OAFLOW_LOG_FORMAT": "text",
           "OAFLOW_TIMER_POLL": "1", **(extra_env or {})}
    handle = open(log, "ab")  # noqa: SIM115  (owned by the subprocess)
    proc = subprocess.Popen([str(VENV_BIN / "oaflow"), "serve", "--port", str(port), "--workers", str(workers),
                             "--threads", str(threads)], cwd=ROOT, env=env, stdout=handle, stderr=handle,
                            start_new_session=True)
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    server.wait_ready()
    return server
