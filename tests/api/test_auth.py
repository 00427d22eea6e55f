"""Password login, expiring tokens, hashed API keys, roles, and 401 vs 403."""

from __future__ import annotations

import hashlib
import time

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from api.app import create_app
from api.config import Settings
from api.extensions import db
from oa.models import ApiKey, User


def test_login_returns_an_expiring_bearer_token(api) -> None:  # noqa: ANN001
    resp = api.client.post("/api/v1/auth/token", json={"username": "alice", "password": "demo"})
    body = resp.get_json()
    assert resp.status_code == 200 and body["token_type"] == "Bearer" and body["expires_in"] > 0
    me = api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200


def test_wrong_password_unknown_user_and_missing_fields(api) -> None:  # noqa: ANN001
    for creds in ({"username": "alice", "password": "wrong"}, {"username": "nobody", "password": "demo"}):
        resp = api.client.post("/api/v1/auth/token", json=creds)
        assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
        assert resp.get_json()["detail"] == "wrong username or password"  # no hint which one
    resp = api.client.post("/api/v1/auth/token", json={"username": "alice"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "password"


def test_passwords_are_hashed_at_rest(app) -> None:  # noqa: ANN001
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.username == "alice"))
    assert stored and "demo" not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_missing_forged_and_expired_tokens_are_401(api, database_url, tmp_path) -> None:  # noqa: ANN001
    assert api.client.get("/api/v1/tasks").status_code == 401
    assert api.client.get("/api/v1/tasks", headers={"Authorization": "Basic YWxpY2U6ZGVtbw=="}).status_code == 401
    forged = URLSafeTimedSerializer("not-the-secret", salt="oaflow-access-token").dumps({"uid": 1, "tv": 1})
    resp = api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {forged}"})
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    short = create_app(Settings(database_url=database_url, secret_key="test", testing=True, token_ttl_seconds=2,
                                upload_dir=str(tmp_path / "u"), log_json=False))
    client = short.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "alice", "password": "demo"}).get_json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/api/v1/tasks", headers=auth).status_code == 200
    resp = _until(lambda: client.get("/api/v1/tasks", headers=auth), lambda r: r.status_code != 200)
    assert resp.status_code == 401 and "expired" in resp.get_json()["detail"]


def _until(call, done, timeout: float = 60):  # noqa: ANN001, ANN202
    """Repeat `call()` until `done(result)` (a deadline only guards against a hang); the last result."""
    deadline = time.monotonic() + timeout
    while not done(result := call()):
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)
    return result


def test_api_keys_are_hashed_shown_once_and_revocable(api, app) -> None:  # noqa: ANN001
    key = api.use_api_key("erp")
    with app.app_context():
        row = db.session.scalar(select(ApiKey).where(ApiKey.name == "erp-test"))
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in row.key_hash
    resp = api.post("/api/v1/process-definitions/leave_request/start", "erp", json={"variables": {
        "leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-01", "days": 1, "reason": "x"}})
    assert resp.status_code == 201 and resp.get_json()["started_by"] == "erp"
    tampered = key[:-2] + ("aa" if not key.endswith("aa") else "bb")
    assert api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    with app.app_context():
        db.session.scalar(select(ApiKey).where(ApiKey.name == "erp-test")).revoked = True
        db.session.commit()
    assert api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_roles_403_versus_401(api) -> None:  # noqa: ANN001
    assert api.get("/api/v1/process-definitions", "alice").status_code == 200
    resp = api.client.post("/api/v1/deployments/validate", headers=api.headers("alice"),
                           data={}, content_type="multipart/form-data")
    assert resp.status_code == 403 and resp.mimetype == "application/problem+json"
    assert api.client.post("/api/v1/deployments/validate").status_code == 401
    assert api.post("/api/v1/process-instances/1/retry", "bob").status_code == 404


def test_a_token_revoked_by_another_worker_stops_working_within_the_ttl(api, database_url, monkeypatch) -> None:  # noqa: ANN001
    """Each worker reads a token's user at most every PRINCIPALS.ttl_seconds; a revocation made elsewhere (here:
    another connection bumping token_version, as `oaflow user` on another host does) applies within that time."""
    from sqlalchemy import create_engine, text

    import api.auth as auth
    monkeypatch.setattr(auth.PRINCIPALS, "ttl_seconds", 0.5)
    headers = api.headers("alice")
    assert api.client.get("/api/v1/users/me", headers=headers).status_code == 200
    other = create_engine(database_url)
    with other.begin() as conn:
        conn.execute(text("UPDATE user_account SET token_version = token_version + 1 WHERE username = 'alice'"))
    other.dispose()
    time.sleep(0.6)
    assert api.client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_an_api_key_stops_at_its_expiry_even_while_its_user_is_cached(api, app, monkeypatch) -> None:  # noqa: ANN001
    from datetime import timedelta

    import api.auth as auth
    from store.base import utcnow
    monkeypatch.setattr(auth.PRINCIPALS, "ttl_seconds", 3600.0)
    key = api.use_api_key("erp")
    with app.app_context():
        expires = utcnow() + timedelta(seconds=2)
        db.session.scalar(select(ApiKey).where(ApiKey.name == "erp-test")).expires_at = expires
        db.session.commit()
    first = api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {key}"})
    assert first.status_code == 200 or utcnow() >= expires  # (a machine stalled past the expiry: no claim)
    resp = _until(lambda: api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {key}"}),
                  lambda r: r.status_code != 200)
    assert resp.status_code == 401 and utcnow() >= expires
