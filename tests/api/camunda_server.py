"""A real `oaflow serve` on its own copy of the test database, for the /engine-rest tests (not a test module)."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, pg_database


@dataclass
class Server:
    """The base URL of /engine-rest, the database URL and an API key of the `erp` service account."""

    base: str
    database_url: str
    erp_key: str


@contextmanager
def _database(template: str, tmp: Path) -> Iterator[str]:
    if PG_URL:
        with pg_database(f"oaflow_cam_{uuid.uuid4().hex[:8]}", make_url(template).database) as url:
            yield url
    else:
        path = tmp / "camunda.db"
        shutil.copy(template[len("sqlite:///"):], path)
        yield f"sqlite:///{path}"


def _erp_key(url: str, tmp: Path) -> str:
    from api.app import create_app
    from api.auth import create_api_key
    from api.config import Settings
    from api.extensions import db
    from oa.models import User
    app = create_app(Settings(database_url=url, secret_key="test", testing=True, upload_dir=str(tmp / "uploads"),
                              log_json=False))
    with app.app_context():
        key = create_api_key(db.session.query(User).filter_by(username="erp").one(), "camunda-test")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return key


@contextmanager
def serve(template: str, tmp: Path) -> Iterator[Server]:
    """Start `oaflow serve` (no scheduler) and yield once it has printed its ready line."""
    from api.config import ROOT
    with _database(template, tmp) as url:
        key = _erp_key(url, tmp)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**os.environ, "OAFLOW_DATABASE_URL": url, "OAFLOW_UPLOAD_DIR": str(tmp / "uploads"),
               "OAFLOW_LOG_FORMAT": "text", "OAFLOW_SECRET_KEY": "s" * 40}
        proc = subprocess.Popen([str(Path(sys.executable).parent / "oaflow"), "serve", "--port", str(port),
                                 "--no-scheduler"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
        try:
            deadline = time.monotonic() + 180  # a guard against a hang only: we wait for the ready line
            while True:
                assert proc.poll() is None, "oaflow serve exited"
                try:
                    line = lines.get(timeout=1.0)
                except queue.Empty:
                    assert time.monotonic() < deadline, "oaflow serve printed no ready line"
                    continue
                if "ready at" in line:
                    break
            yield Server(f"http://127.0.0.1:{port}/engine-rest", url, key)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
