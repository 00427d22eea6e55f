"""Organisation administration: departments, users, groups; the directory every colleague may read."""

from __future__ import annotations

from api.extensions import db
from oa.models import User
from oa.org import OrgDirectory
from tests.oa.conftest import problem_fields, user_id


def _dept_ids(api) -> dict[str, int]:  # noqa: ANN001
    items = api.get("/api/v1/departments", "alice", query_string={"per_page": 200}).get_json()["items"]
    return {d["name"]: d["id"] for d in items}


def test_department_tree_admin_only_and_no_cycles(api) -> None:  # noqa: ANN001
    depts = _dept_ids(api)
    assert {"Management", "Sales"} <= set(depts)
    body = {"name": "Key Accounts", "parent_id": depts["Sales"], "head": "alice"}
    assert api.post("/api/v1/departments", "alice", json=body).status_code == 403
    resp = api.post("/api/v1/departments", "admin", json=body)
    assert resp.status_code == 201 and resp.get_json()["head"] == "alice"
    key_accounts = resp.get_json()["id"]
    assert api.post("/api/v1/departments", "admin", json=body).status_code == 409
    # Sales under its own child: a cycle, refused naming the field; so is a department under itself
    resp = api.client.patch(f"/api/v1/departments/{depts['Sales']}", json={"parent_id": key_accounts},
                            headers=api.headers("admin"))
    assert resp.status_code == 422 and problem_fields(resp) == {"parent_id"}
    resp = api.client.patch(f"/api/v1/departments/{key_accounts}", json={"parent_id": key_accounts},
                            headers=api.headers("admin"))
    assert resp.status_code == 422 and problem_fields(resp) == {"parent_id"}
    resp = api.client.patch(f"/api/v1/departments/{key_accounts}", json={"name": "KA", "head": None},
                            headers=api.headers("admin"))
    assert resp.status_code == 200 and resp.get_json() == {"id": key_accounts, "name": "KA",
                                                           "parent_id": depts["Sales"], "head": None, "active": True}
    # bad input
    for bad, field in (({"name": ""}, "name"), ({"name": "X", "parent_id": "one"}, "parent_id"),
                       ({"name": "X", "head": "nobody"}, "head"), ({"name": "X", "colour": 1}, "colour"),
                       ({"name": "X", "parent_id": 99999}, "parent_id")):
        resp = api.post("/api/v1/departments", "admin", json=bad)
        assert resp.status_code == 422 and problem_fields(resp) == {field}, (bad, resp.get_json())
    assert api.client.patch("/api/v1/departments/99999", json={"name": "Y"},
                            headers=api.headers("admin")).status_code == 404
    # deactivate: refused while people work there, fine when empty
    assert api.post(f"/api/v1/departments/{depts['Sales']}/deactivate", "admin").status_code == 409
    assert api.post(f"/api/v1/departments/{key_accounts}/deactivate", "bob").status_code == 403
    resp = api.post(f"/api/v1/departments/{key_accounts}/deactivate", "admin")
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    assert "KA" not in _dept_ids(api)


def test_directory_for_everyone_without_secrets(api) -> None:  # noqa: ANN001
    resp = api.get("/api/v1/users", "alice", query_string={"per_page": 200})
    assert resp.status_code == 200
    users = {u["username"]: u for u in resp.get_json()["items"]}
    assert users["alice"] == {"id": users["alice"]["id"], "username": "alice", "display_name": "Alice (Sales Rep)",
                              "department": {"id": users["alice"]["department"]["id"], "name": "Sales"},
                              "manager": "bob"}
    assert "hash" not in resp.get_data(as_text=True) and "roles" not in resp.get_data(as_text=True)
    assert api.get("/api/v1/users", "admin", query_string={"q": "%"}).get_json()["items"] == []  # literal, not LIKE
    admin_view = api.get("/api/v1/users", "admin", query_string={"q": "ali"}).get_json()["items"]
    assert [u["username"] for u in admin_view] == ["alice"] and admin_view[0]["roles"] == ["employee"]
    assert "password_hash" not in admin_view[0]
    me = api.get("/api/v1/users/me", "bob").get_json()
    assert me["username"] == "bob" and me["groups"] == ["sales"] and "password_hash" not in me
    assert api.get("/api/v1/users", None).status_code == 401
    resp = api.get("/api/v1/users", "alice", query_string={"department": "sales"})
    assert resp.status_code == 422 and problem_fields(resp) == {"department"}
    assert api.get("/api/v1/users/99999", "alice").status_code == 404


def test_admin_creates_and_changes_users(api, app) -> None:  # noqa: ANN001
    depts = _dept_ids(api)
    body = {"username": "hank", "password": "s3cret-pass", "display_name": "Hank", "email": "hank@example.com",
            "roles": ["employee"], "department_id": depts["Sales"], "manager": "bob", "groups": ["sales"]}
    assert api.post("/api/v1/users", "bob", json=body).status_code == 403
    resp = api.post("/api/v1/users", "admin", json=body)
    assert resp.status_code == 201, resp.get_json()
    hank = resp.get_json()
    assert hank["manager"] == "bob" and hank["groups"] == ["sales"] and "password_hash" not in hank
    assert api.post("/api/v1/users", "admin", json=body).status_code == 409
    assert api.token("hank", "s3cret-pass")
    with app.app_context():
        assert OrgDirectory(db.session).nth_manager_of("hank", 2) == "dave"
    # a user cannot end up managing themselves through a chain: dave -> hank -> bob -> dave
    dave = user_id(app, "dave")
    resp = api.client.patch(f"/api/v1/users/{dave}", json={"manager": "hank"}, headers=api.headers("admin"))
    assert resp.status_code == 422 and problem_fields(resp) == {"manager"}
    resp = api.client.patch(f"/api/v1/users/{hank['id']}", json={"manager": "hank"}, headers=api.headers("admin"))
    assert resp.status_code == 422 and problem_fields(resp) == {"manager"}
    resp = api.client.patch(f"/api/v1/users/{hank['id']}", json={"manager": "carol", "groups": ["finance"],
                                                                  "roles": ["employee", "designer"]},
                            headers=api.headers("admin"))
    assert resp.status_code == 200 and resp.get_json()["groups"] == ["finance"]
    assert resp.get_json()["roles"] == ["employee", "designer"]
    for bad, field in (({"roles": ["king"]}, "roles"), ({"groups": ["nope"]}, "groups"),
                       ({"department_id": 99999}, "department_id"), ({"email": "not-mail"}, "email"),
                       ({"manager": "ghost"}, "manager"), ({"password": "x"}, "password")):
        resp = api.client.patch(f"/api/v1/users/{hank['id']}", json=bad, headers=api.headers("admin"))
        assert resp.status_code == 422 and {f.split("/")[0] for f in problem_fields(resp)} == {field}, bad
    resp = api.post("/api/v1/users", "admin", json={"username": "bad name!"})
    assert resp.status_code == 422 and problem_fields(resp) == {"username"}
    resp = api.post("/api/v1/users", "admin", json={"username": "ivy", "password": "short"})
    assert resp.status_code == 422 and problem_fields(resp) == {"password"}
    assert api.client.patch("/api/v1/users/99999", json={"display_name": "x"},
                            headers=api.headers("admin")).status_code == 404


def test_reset_password_and_deactivate_end_sessions(api, app) -> None:  # noqa: ANN001
    alice = user_id(app, "alice")
    old_token = api.token("alice")
    # used once, so this worker holds it as valid: a change here must end it at once all the same
    assert api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {old_token}"}).status_code == 200
    assert api.post(f"/api/v1/users/{alice}/reset-password", "bob", json={"password": "new-password-1"}
                    ).status_code == 403
    resp = api.post(f"/api/v1/users/{alice}/reset-password", "admin", json={"password": "tiny"})
    assert resp.status_code == 422 and problem_fields(resp) == {"password"}
    resp = api.post(f"/api/v1/users/{alice}/reset-password", "admin", json={"password": "new-password-1"})
    assert resp.status_code == 200
    with app.app_context():
        stored = db.session.get(User, alice).password_hash
        assert stored.startswith(("scrypt:", "pbkdf2:")) and "new-password-1" not in stored
    stale = api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {old_token}"})
    assert stale.status_code == 401
    api._tokens.pop("alice")
    assert api.token("alice", "new-password-1")
    assert api.client.get("/api/v1/users/me", headers=api.headers("alice")).status_code == 200
    admin = user_id(app, "admin")
    assert api.post(f"/api/v1/users/{admin}/deactivate", "admin").status_code == 409
    assert api.post(f"/api/v1/users/{alice}/deactivate", "alice").status_code == 403
    resp = api.post(f"/api/v1/users/{alice}/deactivate", "admin")
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    assert api.client.get("/api/v1/users/me", headers=api.headers("alice")).status_code == 401
    names = [u["username"] for u in api.get("/api/v1/users", "bob", query_string={"per_page": 200}
                                            ).get_json()["items"]]
    assert "alice" not in names
    assert api.get(f"/api/v1/users/{alice}", "bob").status_code == 404


def test_groups(api) -> None:  # noqa: ANN001
    assert api.post("/api/v1/groups", "alice", json={"name": "support"}).status_code == 403
    resp = api.post("/api/v1/groups", "admin", json={"name": "support"})
    assert resp.status_code == 201
    assert api.post("/api/v1/groups", "admin", json={"name": "Support"}).status_code == 409
    resp = api.post("/api/v1/groups", "admin", json={"name": ""})
    assert resp.status_code == 422 and problem_fields(resp) == {"name"}
    groups = {g["name"]: g for g in api.get("/api/v1/groups", "alice").get_json()["items"]}
    assert groups["sales"]["members"] == ["alice", "bob"] and groups["support"]["members"] == []
