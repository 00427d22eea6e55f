"""PostgreSQL: a request that finds every pooled connection in use waits for one (OAFLOW_DB_POOL_WAIT) instead of
failing at once, and answers a clean 503 with Retry-After only when the wait runs out."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from api.app import create_app
from api.config import Settings
from tests.conftest import PG_URL, Api

pytestmark = pytest.mark.skipif(not PG_URL, reason="SQLite requests queue in the write gate instead")

POOL_LIMIT = 30  # pool_size 10 + max_overflow 20 (api.app.create_app)


def _app(database_url: str, tmp_path: Path, wait: float):  # noqa: ANN202
    return create_app(Settings(database_url=database_url, secret_key="test", testing=True, log_json=False,
                               upload_dir=str(tmp_path / "up"), db_pool_wait=wait))


def _hold_every_connection(app) -> list:  # noqa: ANN001
    from api.extensions import db
    with app.app_context():
        return [db.engine.connect() for _ in range(POOL_LIMIT)]


def test_a_request_waits_for_a_pooled_connection_to_come_free(database_url: str, tmp_path: Path) -> None:
    app = _app(database_url, tmp_path, wait=30)
    token = Api(app).token("alice")  # before the pool is full
    held = _hold_every_connection(app)
    answered = threading.Event()
    result: dict = {}

    def ask() -> None:
        resp = app.test_client().get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
        result["status"] = resp.status_code
        answered.set()

    asker = threading.Thread(target=ask)
    asker.start()
    assert not answered.wait(0.5), "answered while every connection was taken"
    held.pop().close()  # one connection comes back: the waiting request takes it
    assert answered.wait(30)
    asker.join(5)
    assert result["status"] == 200
    for conn in held:
        conn.close()
    with app.app_context():
        from api.extensions import db
        db.engine.dispose()


def test_a_request_still_waiting_when_the_wait_runs_out_gets_503_with_retry_after(database_url: str,
                                                                                   tmp_path: Path) -> None:
    app = _app(database_url, tmp_path, wait=0.3)
    token = Api(app).token("alice")
    held = _hold_every_connection(app)
    answered = threading.Event()
    result: dict = {}

    def ask() -> None:
        resp = app.test_client().get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
        result.update(status=resp.status_code, mimetype=resp.mimetype, retry=resp.headers.get("Retry-After"),
                      body=resp.get_json())
        answered.set()

    asker = threading.Thread(target=ask)
    asker.start()
    try:  # the configured 0.3 s, not a built-in longer wait: answered while every connection is still held
        assert answered.wait(8), "still waiting for a connection long after OAFLOW_DB_POOL_WAIT"
        assert result["status"] == 503
        assert result["mimetype"] == "application/problem+json"
        assert result["retry"] == "2"
        assert "retry" in result["body"]["detail"]
    finally:
        for conn in held:
            conn.close()
        asker.join(15)
    resp = app.test_client().get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200  # the pool recovers once connections come back
    with app.app_context():
        from api.extensions import db
        db.engine.dispose()
