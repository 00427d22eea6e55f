"""Login rate limiting (429 + Retry-After per IP and username) and account lockout after failures."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from api.extensions import db
from oa.lockout import LockoutPolicy
from oa.models import User
from store.base import utcnow

TOKEN = "/api/v1/auth/token"


def _login(client, username: str, password: str, ip: str = "10.0.0.1"):  # noqa: ANN001, ANN202
    return client.post(TOKEN, json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def _user(app, username: str) -> User:  # noqa: ANN001
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def test_eleventh_attempt_in_a_minute_is_429_with_retry_after(app) -> None:  # noqa: ANN001
    app.config["OAFLOW_LOCKOUT"] = LockoutPolicy(threshold=0)  # only the rate limit here
    client = app.test_client()
    for _ in range(10):
        assert _login(client, "nobody", "guess").status_code == 401
    resp = _login(client, "nobody", "guess")
    assert resp.status_code == 429 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["status"] == 429 and "too many" in resp.get_json()["detail"]
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    # the bucket is per username and per IP: others are not affected
    assert _login(client, "alice", "demo").status_code == 200
    assert _login(client, "nobody", "guess", ip="10.0.0.2").status_code == 401
    # even the right password waits out the limit for this IP + username
    for _ in range(10):
        _login(client, "bob", "wrong")
    assert _login(client, "bob", "demo").status_code == 429
    assert _login(client, "bob", "demo", ip="10.0.0.3").status_code == 200


def test_the_rate_is_configurable(app) -> None:  # noqa: ANN001
    app.config["OAFLOW_LOGIN_RATE"] = "2/minute"
    client = app.test_client()
    assert [_login(client, "carol", "x").status_code for _ in range(3)] == [401, 401, 429]


def test_lockout_after_consecutive_failures_then_expiry(app, caplog) -> None:  # noqa: ANN001
    app.config["OAFLOW_LOCKOUT"] = LockoutPolicy(threshold=3, minutes=15)
    client = app.test_client()
    assert _login(client, "alice", "wrong").status_code == 401
    assert _login(client, "alice", "demo").status_code == 200  # a success resets the count
    assert _user(app, "alice").failed_logins == 0
    with caplog.at_level(logging.WARNING, logger="oaflow.auth"):
        statuses = [_login(client, "alice", "wrong", ip=f"10.1.0.{i}").status_code for i in range(3)]
    assert statuses == [401, 401, 401]
    locked = [r for r in caplog.records if getattr(r, "event", None) == "account_locked"]
    assert len(locked) == 1 and locked[0].user == "alice" and locked[0].failures == 3
    assert "account_locked user=alice" in locked[0].getMessage()
    account = _user(app, "alice")
    assert account.locked_until is not None and account.locked_until > utcnow() + timedelta(minutes=14)
    # locked: the right password is refused too, with the same answer as a wrong one
    resp = _login(client, "alice", "demo", ip="10.2.0.1")
    assert resp.status_code == 401 and resp.get_json()["detail"] == _login(client, "zed", "x").get_json()["detail"]
    # other accounts are unaffected
    assert _login(client, "bob", "demo").status_code == 200
    # once the lock has expired, the right password works and clears the counters
    with app.app_context():
        db.session.execute(db.update(User).where(User.username == "alice")
                           .values(locked_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert _login(client, "alice", "demo", ip="10.2.0.2").status_code == 200
    account = _user(app, "alice")
    assert account.locked_until is None and account.failed_logins == 0


def test_bad_login_bodies_are_problems(app) -> None:  # noqa: ANN001
    client = app.test_client()
    assert client.post(TOKEN, data=b"{", content_type="application/json").status_code == 400
    resp = client.post(TOKEN, json={"username": "alice"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "password"
    resp = client.post(TOKEN, json={"username": ["alice"], "password": "demo"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "username"
    resp = client.post(TOKEN, json={"username": "alice", "password": "demo", "admin": True})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "admin"
