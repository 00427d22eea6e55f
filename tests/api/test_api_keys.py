"""API keys: created with scopes and an expiry, listed without secrets, revoked; scopes enforced."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from api.extensions import db
from oa.models import ApiKey
from store.base import utcnow
from tests.conftest import leave_span

START = "/api/v1/process-definitions/leave_request/start"


def _key(api, owner: str, **body) -> dict:  # noqa: ANN001, ANN003
    resp = api.post("/api/v1/api-keys", owner, json={"name": "k", **body})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _as_key(api, key: str, method: str, path: str, json=None):  # noqa: ANN001, ANN201, A002
    return api.client.open(path, method=method, json=json, headers={"Authorization": f"Bearer {key}"})


def _leave() -> dict:
    return {"variables": {"leave_type": "annual", "reason": "trip", **leave_span(2)}}


def test_scopes_limit_what_a_key_may_do(api) -> None:  # noqa: ANN001
    starter = _key(api, "alice", scopes=["start:leave_request"])
    assert starter["key"].startswith("oak_") and starter["scopes"] == ["start:leave_request"]
    assert _as_key(api, starter["key"], "POST", START, _leave()).status_code == 201
    other = "/api/v1/process-definitions/expense_claim/start"
    denied = _as_key(api, starter["key"], "POST", other, {"variables": {}})
    assert denied.status_code == 403 and denied.mimetype == "application/problem+json"
    assert _as_key(api, starter["key"], "GET", "/api/v1/customers").status_code == 403
    assert _as_key(api, starter["key"], "GET", "/api/v1/tasks").status_code == 403
    assert _as_key(api, starter["key"], "GET", "/api/v1/api-keys").status_code == 403  # cannot manage keys
    reader = _key(api, "alice", scopes=["read:crm"])
    assert _as_key(api, reader["key"], "GET", "/api/v1/customers").status_code == 200
    assert _as_key(api, reader["key"], "POST", "/api/v1/customers", {"name": "X"}).status_code == 403
    assert _as_key(api, reader["key"], "POST", START, _leave()).status_code == 403
    unscoped = _key(api, "alice")  # no scopes: everything alice may do, as before
    assert _as_key(api, unscoped["key"], "GET", "/api/v1/tasks").status_code == 200
    assert _as_key(api, unscoped["key"], "POST", START, _leave()).status_code == 201


def test_keys_are_listed_without_secrets_and_only_to_their_owner(api, app) -> None:  # noqa: ANN001
    mine = _key(api, "alice", expires="30d")
    _key(api, "bob")
    listed = api.get("/api/v1/api-keys", "alice").get_json()["items"]
    assert [k["id"] for k in listed] == [mine["id"]]
    assert "key" not in listed[0] and "key_hash" not in listed[0] and listed[0]["expires_at"]
    assert len(api.get("/api/v1/api-keys", "admin").get_json()["items"]) == 2
    assert api.client.delete(f"/api/v1/api-keys/{mine['id']}", headers=api.headers("bob")).status_code == 404
    assert _as_key(api, mine["key"], "GET", "/api/v1/tasks").status_code == 200
    assert api.client.delete(f"/api/v1/api-keys/{mine['id']}", headers=api.headers("alice")).status_code == 204
    assert _as_key(api, mine["key"], "GET", "/api/v1/tasks").status_code == 401
    later = _key(api, "alice", expires="1h")
    with app.app_context():
        db.session.execute(update(ApiKey).where(ApiKey.id == later["id"]).values(
            expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert _as_key(api, later["key"], "GET", "/api/v1/tasks").status_code == 401


def test_bad_key_requests_name_the_field(api) -> None:  # noqa: ANN001
    cases = [({"name": "k", "scopes": ["admin:all"]}, "scopes"), ({"name": "k", "expires": "forever"}, "expires"),
             ({"name": "k", "expires": "99999d"}, "expires"), ({"name": "x" * 101}, "name"),
             ({"name": "k", "scopes": ["read:crm"] * 51}, "scopes"), ({"name": "k", "bogus": 1}, "bogus")]
    for body, field in cases:
        resp = api.post("/api/v1/api-keys", "alice", json=body)
        assert resp.status_code == 422, (body, resp.get_json())
        assert field in {e["field"].split(".")[0] for e in resp.get_json()["errors"]}, resp.get_json()
    # only an admin grants act-as or makes keys for someone else
    assert api.post("/api/v1/api-keys", "alice", json={"name": "k", "act_as": True}).status_code == 403
    assert api.post("/api/v1/api-keys", "alice", json={"name": "k", "user": "bob"}).status_code == 403
    made = api.post("/api/v1/api-keys", "admin", json={"name": "k", "user": "erp", "act_as": True})
    assert made.status_code == 201 and made.get_json()["user"] == "erp" and made.get_json()["act_as"]
    assert api.post("/api/v1/api-keys", "admin", json={"name": "k", "user": "nobody"}).status_code == 422


def test_a_key_mints_no_key_stronger_or_longer_lived_than_itself(api) -> None:  # noqa: ANN001
    parent = _key(api, "alice", expires="1d")
    url = "/api/v1/api-keys"
    for body, field in (({"name": "forever"}, "expires"), ({"name": "longer", "expires": "2d"}, "expires")):
        resp = _as_key(api, parent["key"], "POST", url, body)
        assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == field, resp.get_json()
    assert _as_key(api, parent["key"], "POST", url, {"name": "act", "expires": "1h", "act_as": True}).status_code == 403
    child = _as_key(api, parent["key"], "POST", url, {"name": "child", "expires": "12h", "scopes": ["read:crm"]})
    assert child.status_code == 201, child.get_json()
    # a password session is not held to any key
    assert api.post(url, "alice", json={"name": "by password"}).status_code == 201


def test_scopes_of_a_child_key_stay_within_the_parents() -> None:
    from api.key_scopes import within
    assert within(["start:x", "read:crm"], []) and within(["start:x"], ["start:*"])
    assert within(["read:crm"], ["read:crm", "write:crm"])
    assert not within([], ["read:crm"]) and not within(["write:crm"], ["read:crm"])
    assert not within(["start:*"], ["start:x"])


def test_a_key_revokes_only_itself_and_the_keys_it_created(api) -> None:  # noqa: ANN001
    first, sibling = _key(api, "alice"), _key(api, "alice")
    child = _as_key(api, first["key"], "POST", "/api/v1/api-keys", {"name": "child"}).get_json()
    denied = _as_key(api, first["key"], "DELETE", f"/api/v1/api-keys/{sibling['id']}")
    assert denied.status_code == 403 and denied.mimetype == "application/problem+json"
    assert _as_key(api, sibling["key"], "GET", "/api/v1/tasks").status_code == 200
    assert _as_key(api, child["key"], "DELETE", f"/api/v1/api-keys/{first['id']}").status_code == 403
    assert _as_key(api, first["key"], "DELETE", f"/api/v1/api-keys/{child['id']}").status_code == 204
    assert _as_key(api, child["key"], "GET", "/api/v1/tasks").status_code == 401
    assert _as_key(api, first["key"], "DELETE", f"/api/v1/api-keys/{first['id']}").status_code == 204
    # the owner's password session still revokes any of their keys
    assert api.client.delete(f"/api/v1/api-keys/{sibling['id']}", headers=api.headers("alice")).status_code == 204
