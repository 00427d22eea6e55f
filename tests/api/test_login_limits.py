"""Login rate limits (429 + Retry-After per client address and username, and per client for failures), the
lockout that stops only the failing client, trusted proxies, the web login, and unlocking."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from api.cli import main
from api.extensions import db
from api.throttle import TrustedProxies
from oa.lockout import LockoutPolicy, locked_clients, register_attempt
from oa.models import LoginFailure
from store.base import utcnow

TOKEN = "/api/v1/auth/token"
ATTACKER = "203.0.113.66"


def _login(client, username: str, password: str, ip: str = "10.0.0.1"):  # noqa: ANN001, ANN202
    return client.post(TOKEN, json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


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


def _locks(app, username: str) -> list[LoginFailure]:  # noqa: ANN001
    with app.app_context():
        rows = locked_clients(db.session, username)
        db.session.expunge_all()
        return rows


def test_an_attacker_failing_for_admin_locks_out_only_itself(app, caplog) -> None:  # noqa: ANN001
    app.config["OAFLOW_LOCKOUT"] = LockoutPolicy(threshold=10, minutes=15)
    app.config["OAFLOW_LOGIN_RATE"] = "1000/minute"  # the lockout alone here
    app.config["OAFLOW_AUTH_FAIL_RATE"] = "1000/minute"
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="oaflow.auth"):
        statuses = [_login(client, "admin", "guess", ip=ATTACKER).status_code for _ in range(12)]
    assert statuses == [401] * 12
    locked = [r for r in caplog.records if getattr(r, "event", None) == "account_locked"]
    assert len(locked) == 1 and locked[0].user == "admin" and locked[0].ip == ATTACKER
    assert "account_locked user=admin" in locked[0].getMessage()
    # the attacker is locked out, even with the right password, with the same answer as a wrong one
    resp = _login(client, "admin", "demo", ip=ATTACKER)
    assert resp.status_code == 401 and resp.get_json()["detail"] == _login(client, "zed", "x").get_json()["detail"]
    [lock] = _locks(app, "admin")
    assert lock.client == ATTACKER and lock.locked_until > utcnow() + timedelta(minutes=14)
    # the real admin, from another address, is not
    assert _login(client, "admin", "demo", ip="10.0.0.5").status_code == 200
    assert _login(client, "bob", "demo", ip=ATTACKER).status_code == 200  # other accounts neither
    # once the lock has expired, the right password works from the attacker's address and clears it
    with app.app_context():
        db.session.execute(db.update(LoginFailure).values(locked_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert _login(client, "admin", "demo", ip=ATTACKER).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_a_success_resets_the_count_of_that_client(app) -> None:  # noqa: ANN001
    app.config["OAFLOW_LOCKOUT"] = LockoutPolicy(threshold=3, minutes=15)
    client = app.test_client()
    assert [_login(client, "alice", "wrong").status_code for _ in range(2)] == [401, 401]
    assert _login(client, "alice", "demo").status_code == 200
    assert [_login(client, "alice", "wrong").status_code for _ in range(2)] == [401, 401]
    assert _login(client, "alice", "demo").status_code == 200  # 2 + 2 failures never made 3 in a row
    assert _locks(app, "alice") == []


def test_entries_past_the_window_are_dropped_but_locks_stay(app) -> None:  # noqa: ANN001
    policy = LockoutPolicy(threshold=2, minutes=15)
    long_ago = utcnow() - timedelta(hours=1)
    with app.app_context():
        register_attempt(db.session, "alice", None, policy, client="10.3.0.1", now=long_ago)  # 1 failure
        for _ in range(2):  # a lock in force
            register_attempt(db.session, "alice", None, policy, client="10.3.0.2")
        register_attempt(db.session, "alice", None, policy, client="10.3.0.3")
        db.session.commit()
        clients = set(db.session.scalars(select(LoginFailure.client).where(LoginFailure.username == "alice")))
    assert clients == {"10.3.0.2", "10.3.0.3"}  # the stale count went; the live lock stayed


def test_the_failing_client_is_throttled_across_usernames(app) -> None:  # noqa: ANN001
    app.config["OAFLOW_AUTH_FAIL_RATE"] = "5/minute"
    client = app.test_client()
    assert [_login(client, f"user{i}", "guess", ip=ATTACKER).status_code for i in range(5)] == [401] * 5
    resp = _login(client, "alice", "demo", ip=ATTACKER)  # refused before the password is even checked
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert _login(client, "alice", "demo", ip="10.0.0.6").status_code == 200


def test_invalid_tokens_and_api_keys_are_throttled_too(app, api) -> None:  # noqa: ANN001
    app.config["OAFLOW_AUTH_FAIL_RATE"] = "5/minute"
    key = api.use_api_key("erp")
    bad = [key[:-4] + "AAAA", "oak_nope_x", "not-a-token", key[:-1] + "B", "forged.token.here"]

    def me(raw: str, ip: str = ATTACKER):  # noqa: ANN202
        return app.test_client().get("/api/v1/users/me", headers={"Authorization": f"Bearer {raw}"},
                                     environ_base={"REMOTE_ADDR": ip})
    assert [me(raw).status_code for raw in bad] == [401] * 5
    resp = me(key[:-2] + "ZZ")
    assert resp.status_code == 429 and resp.mimetype == "application/problem+json" and resp.headers["Retry-After"]
    assert me(key).status_code == 200  # a valid key is never refused
    assert me("not-a-token", ip="10.0.0.7").status_code == 401  # other clients are unaffected


def test_forwarded_for_is_honoured_only_from_trusted_proxies(app) -> None:  # noqa: ANN001
    app.config["OAFLOW_LOGIN_RATE"] = "2/minute"
    app.wsgi_app = TrustedProxies(app.wsgi_app, ["10.9.0.0/16"])
    client = app.test_client()

    def login(peer: str, forwarded: str):  # noqa: ANN202
        return client.post(TOKEN, json={"username": "carol", "password": "x"},
                           headers={"X-Forwarded-For": forwarded}, environ_base={"REMOTE_ADDR": peer})
    # an untrusted client cannot dodge its limit by inventing addresses
    assert [login(ATTACKER, f"1.2.3.{i}").status_code for i in range(3)] == [401, 401, 429]
    # behind the trusted proxy, each real client has its own limit
    assert [login("10.9.0.1", "198.51.100.1").status_code for _ in range(3)] == [401, 401, 429]
    assert login("10.9.0.1", "198.51.100.2").status_code == 401


def _web_login(client, username: str, password: str, ip: str):  # noqa: ANN001, ANN202
    html = client.get("/login", environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip})


def test_the_web_login_is_rate_limited_and_locks_out_only_the_failing_client(app) -> None:  # noqa: ANN001
    app.config["OAFLOW_LOCKOUT"] = LockoutPolicy(threshold=3, minutes=15)
    attacker = app.test_client()
    assert [_web_login(attacker, "admin", "guess", ATTACKER).status_code for _ in range(3)] == [401] * 3
    assert _web_login(attacker, "admin", "demo", ATTACKER).status_code == 401  # locked out
    assert _locks(app, "admin")[0].client == ATTACKER
    assert _web_login(app.test_client(), "admin", "demo", "10.0.0.8").status_code == 302
    for _ in range(6):
        _web_login(attacker, "admin", "guess", ATTACKER)
    resp = _web_login(attacker, "admin", "guess", ATTACKER)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert "Too many login attempts" in resp.get_data(as_text=True)
    assert _web_login(app.test_client(), "admin", "demo", "10.0.0.9").status_code == 302


def test_unlock_by_cli_and_by_an_admin(app, api, database_url: str, tmp_path) -> None:  # noqa: ANN001
    app.config["OAFLOW_LOCKOUT"] = LockoutPolicy(threshold=2, minutes=15)
    client = app.test_client()
    for _ in range(2):
        _login(client, "alice", "wrong", ip=ATTACKER)
    assert _login(client, "alice", "demo", ip=ATTACKER).status_code == 401 and _locks(app, "alice")
    env = {"OAFLOW_DATABASE_URL": database_url, "OAFLOW_SECRET_KEY": "cli-test", "OAFLOW_LOG_FORMAT": "text",
           "OAFLOW_UPLOAD_DIR": str(tmp_path / "cli-uploads")}
    result = CliRunner().invoke(main, ["user", "unlock", "alice"], env=env)
    assert result.exit_code == 0, result.output
    assert "user alice unlocked (1 client entry cleared)" in result.output
    assert _locks(app, "alice") == []
    assert _login(client, "alice", "demo", ip=ATTACKER).status_code == 200
    missing = CliRunner().invoke(main, ["user", "unlock", "nobody"], env=env)
    assert missing.exit_code != 0 and "no user 'nobody'" in missing.output
    # the same over HTTP, for admins only
    for _ in range(2):
        _login(client, "bob", "wrong", ip=ATTACKER)
    assert api.post("/api/v1/users/bob/unlock", "alice").status_code == 403
    assert _locks(app, "bob")
    resp = api.post("/api/v1/users/bob/unlock", "admin")
    assert resp.status_code == 200 and resp.get_json() == {"username": "bob", "cleared": 1}
    assert _locks(app, "bob") == [] and _login(client, "bob", "demo", ip=ATTACKER).status_code == 200
    resp = api.post("/api/v1/users/nobody/unlock", "admin")
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"


def test_bad_login_bodies_are_problems(app) -> None:  # noqa: ANN001
    client = app.test_client()
    assert client.post(TOKEN, data=b"{", content_type="application/json").status_code == 400
    resp = client.post(TOKEN, json={"username": "alice"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "password"
    resp = client.post(TOKEN, json={"username": ["alice"], "password": "demo"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "username"
    resp = client.post(TOKEN, json={"username": "alice", "password": "demo", "admin": True})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "admin"
