"""Shared fixtures: a real app on a real database (SQLite file, or PostgreSQL when
OAFLOW_TEST_DATABASE_URL is set), migrated by Alembic, with the demo organisation and processes/.

The migrated, seeded database is built once per session as a template and copied for each test
(file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL), so every test starts clean.
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.config import ROOT, Settings

PG_URL = os.environ.get("OAFLOW_TEST_DATABASE_URL")
# the tests were written with the company on UTC (stored = local); a test of the company time zone sets its own
# (Settings(timezone=...)); the CLI tests' subprocesses inherit this too
os.environ.setdefault("OAFLOW_TIMEZONE", "UTC")
# demo passwords in tests use a cheap PBKDF2 so hundreds of logins stay fast; production uses scrypt
FAST_HASH = "pbkdf2:sha256:1000"
_counter = itertools.count()


def _prepare(url: str, upload_dir: str) -> None:
    from flask_migrate import upgrade

    from api.cli import deploy_paths
    from api.extensions import db
    from oa.demo import seed_organisation
    app = create_app(Settings(database_url=url, secret_key="test", testing=True, upload_dir=upload_dir,
                              log_json=False))
    with app.app_context():
        upgrade(directory=app.config["OAFLOW_MIGRATIONS_DIR"], revision="heads")
        seed_organisation(db.session, hash_method=FAST_HASH)
        db.session.commit()
    deploy_paths(app, [ROOT / "processes", ROOT / "forms"])
    with app.app_context():
        db.engine.dispose()


@contextmanager
def pg_database(name: str, template: str | None = None) -> Iterator[str]:
    """A new database on the test PostgreSQL server (a copy of `template` if given); dropped afterwards."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def db_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a migrated, seeded, deployed template database."""
    base = tmp_path_factory.mktemp("db")
    if PG_URL:
        with pg_database(f"oaflow_tmpl_{uuid.uuid4().hex[:8]}") as url:
            _prepare(url, str(base / "uploads"))
            yield url
    else:
        path = base / "template.db"
        _prepare(f"sqlite:///{path}", str(base / "uploads"))
        yield f"sqlite:///{path}"


@pytest.fixture
def database_url(db_template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the template database for one test."""
    if PG_URL:
        with pg_database(f"oaflow_t_{os.getpid()}_{next(_counter)}", make_url(db_template).database) as url:
            yield url
    else:
        path = tmp_path / "test.db"
        shutil.copy(db_template[len("sqlite:///"):], path)
        yield f"sqlite:///{path}"


@pytest.fixture
def app(database_url: str, tmp_path: Path):  # noqa: ANN201
    """The oaflow app on a fresh database."""
    application = create_app(Settings(database_url=database_url, secret_key="test", testing=True,
                                      upload_dir=str(tmp_path / "uploads"), log_json=False,
                                      script_timeout=1.0))
    yield application
    from api.extensions import db
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


_NEXT_LEAVE = [date(2031, 1, 6)]  # a Monday; each leave_span moves it past the span it hands out
_LEAVE_LOCK = threading.Lock()


def leave_span(days: float) -> dict:
    """start_date/end_date(/end_half) of a leave of `days` working days starting on a fresh Monday."""
    whole = max(1, math.ceil(days))
    with _LEAVE_LOCK:
        start = end = _NEXT_LEAVE[0]
        left = whole - 1
        while left:
            end += timedelta(days=1)
            left -= end.weekday() < 5
        _NEXT_LEAVE[0] = end + timedelta(days=7 - end.weekday())
    span = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    return {**span, "end_half": "am"} if whole != days else span


class Api:
    """A test client that logs demo users in and sends JSON."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app
        self.client = app.test_client()
        self._tokens: dict[str, str] = {}

    def token(self, username: str, password: str = "demo") -> str:
        """A bearer token for a demo user."""
        if username not in self._tokens:
            resp = self.client.post("/api/v1/auth/token", json={"username": username, "password": password})
            assert resp.status_code == 200, resp.get_json()
            self._tokens[username] = resp.get_json()["access_token"]
        return self._tokens[username]

    def use_api_key(self, username: str) -> str:
        """Create an API key for a service account and send it for `username` from now on."""
        from api.auth import create_api_key
        from api.extensions import db
        from oa.models import User
        with self.app.app_context():
            account = db.session.query(User).filter_by(username=username).one()
            key = create_api_key(account, f"{username}-test")
            db.session.commit()
        self._tokens[username] = key
        return key

    def headers(self, user: str | None, extra: dict | None = None) -> dict:
        """Authorization header for `user` (none if user is None)."""
        headers = {"Authorization": f"Bearer {self.token(user)}"} if user else {}
        headers.update(extra or {})
        return headers

    def get(self, path: str, user: str | None = None, **kw):  # noqa: ANN003, ANN201
        return self.client.get(path, headers=self.headers(user, kw.pop("headers", None)), **kw)

    def post(self, path: str, user: str | None = None, json=None, **kw):  # noqa: ANN001, ANN003, ANN201, A002
        return self.client.post(path, json=json, headers=self.headers(user, kw.pop("headers", None)), **kw)

    # conveniences for the leave flow -------------------------------------------------------------
    def start_leave(self, user: str = "alice", days: float = 2, **extra):  # noqa: ANN003, ANN201
        """Start a leave of `days` working days (the platform computes them from the dates): unless the
        dates are given, a fresh span of weekdays in 2031+ (no holidays), never overlapping an earlier one."""
        variables = {"leave_type": "annual", "reason": "family trip", **leave_span(days)}
        variables.update(extra)
        return self.post("/api/v1/process-definitions/leave_request/start", user, json={"variables": variables})

    def tasks(self, user: str, **query) -> list[dict]:  # noqa: ANN003
        resp = self.get("/api/v1/tasks", user, query_string=query)
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["items"]


@pytest.fixture
def api(app) -> Api:  # noqa: ANN001
    """A logged-in-on-demand client for the demo users."""
    return Api(app)


def run_in_threads(n: int, target) -> None:  # noqa: ANN001
    """Run target(i) for i in range(n) in n threads at once and wait for all (failing if one hangs)."""
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"


def deploy_files(api: Api, user: str, files: dict[str, bytes], path: str = "/api/v1/deployments"):  # noqa: ANN201
    """POST files as a multipart deployment."""
    import io
    data = {"files": [(io.BytesIO(content), name) for name, content in files.items()]}
    return api.client.post(path, data=data, headers=api.headers(user), content_type="multipart/form-data")
