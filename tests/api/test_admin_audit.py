"""The administration audit trail over the HTTP API and the command line: each user, department, group,
API key and webhook change writes one row naming the acting admin (or API key owner, or `cli`) and the
changed fields; a secret never appears in a row; a refused change writes nothing; only admins read
GET /api/v1/admin-audit."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from api.cli import main


def _all_rows(app) -> list[dict]:  # noqa: ANN001
    """Every administration audit row, every column, straight from the database."""
    from api.extensions import db
    from oa.models import AdminAuditEntry
    with app.app_context():
        rows = db.session.scalars(select(AdminAuditEntry).order_by(AdminAuditEntry.id)).all()
        return [{c.name: getattr(r, c.name) for c in AdminAuditEntry.__table__.columns} for r in rows]


def _count(app) -> int:  # noqa: ANN001
    from api.extensions import db
    from oa.models import AdminAuditEntry
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AdminAuditEntry))


def _row_text(row: dict) -> str:
    return json.dumps(row, default=str, ensure_ascii=False)


def _listed(api, **filters) -> list[dict]:  # noqa: ANN001, ANN003
    resp = api.get("/api/v1/admin-audit", "admin", query_string={"per_page": 200, **filters})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["items"]


def test_org_changes_over_the_api_are_audited_with_actor_and_fields(api, app) -> None:  # noqa: ANN001
    dept = api.post("/api/v1/departments", "admin", json={"name": "Audit Dept", "head": "dave"})
    assert dept.status_code == 201
    dept_id = dept.get_json()["id"]
    made = api.post("/api/v1/users", "admin", json={"username": "zed", "password": "first-Secret-42",
                                                    "display_name": "Zed", "roles": ["employee"],
                                                    "department_id": dept_id, "manager": "bob"})
    assert made.status_code == 201
    zed = made.get_json()["id"]
    assert api.client.patch(f"/api/v1/users/{zed}", headers=api.headers("admin"),
                            json={"roles": ["employee", "designer"], "email": "zed@example.com"}).status_code == 200
    assert api.client.patch(f"/api/v1/users/{zed}", headers=api.headers("admin"),
                            json={"active": False}).status_code == 200
    assert api.client.patch(f"/api/v1/users/{zed}", headers=api.headers("admin"),
                            json={"active": True}).status_code == 200
    assert api.post(f"/api/v1/users/{zed}/reset-password", "admin",
                    json={"password": "second-Secret-43"}).status_code == 200
    assert api.post("/api/v1/users/zed/unlock", "admin").status_code == 200
    assert api.post(f"/api/v1/users/{zed}/deactivate", "admin").status_code == 200
    assert api.client.patch(f"/api/v1/departments/{dept_id}", headers=api.headers("admin"),
                            json={"name": "Audit Department"}).status_code == 200
    assert api.post("/api/v1/groups", "admin", json={"name": "auditors"}).status_code == 201

    rows = _listed(api, object_type="user")
    mine = [r for r in rows if r["object_id"] == zed]
    assert [r["action"] for r in reversed(mine)] == ["created", "updated", "deactivated", "reactivated",
                                                     "password_reset", "unlocked", "deactivated"]
    assert all(r["actor"] == "admin" and r["object_name"] == "zed (Zed)" for r in mine)
    created, updated = mine[-1], mine[-2]
    assert created["changes"]["username"] == {"old": None, "new": "zed"}
    assert created["changes"]["department"]["new"] == "Audit Dept"
    assert created["changes"]["manager"]["new"] == "bob"
    assert created["changes"]["password"] == {"old": None, "new": "set"}
    assert updated["changes"] == {"email": {"old": None, "new": "zed@example.com"},
                                  "roles": {"old": ["employee"], "new": ["designer", "employee"]}}
    assert mine[0]["changes"] == {"active": {"old": True, "new": False}}
    assert mine[2]["changes"]["password"] == {"old": None, "new": "changed"}
    dept_rows = _listed(api, object_type="department")
    assert [(r["action"], r["actor"]) for r in dept_rows[:2]] == [("updated", "admin"), ("created", "admin")]
    assert dept_rows[0]["changes"] == {"name": {"old": "Audit Dept", "new": "Audit Department"}}
    assert dept_rows[1]["changes"]["head"] == {"old": None, "new": "dave"}
    assert _listed(api, object_type="group")[0]["object_name"] == "auditors"
    # the filters: action, actor, date range
    assert {r["action"] for r in _listed(api, action="password_reset")} == {"password_reset"}
    assert _listed(api, actor="nobody") == []
    assert _listed(api, to="2000-01-01") == [] and len(_listed(api, **{"from": "2000-01-01"})) >= 10
    # no password in any row, in any column
    for row in _all_rows(app):
        text = _row_text(row)
        assert "first-Secret-42" not in text and "second-Secret-43" not in text
        assert "pbkdf2" not in text and "scrypt" not in text


def test_refused_changes_write_nothing(api, app) -> None:  # noqa: ANN001
    bob = next(u for u in api.get("/api/v1/users", "admin", query_string={"q": "bob"}).get_json()["items"]
               if u["username"] == "bob")
    admin = next(u for u in api.get("/api/v1/users", "admin", query_string={"q": "admin"}).get_json()["items"]
                 if u["username"] == "admin")
    before = _count(app)
    assert api.post("/api/v1/users", "admin", json={"username": "bob"}).status_code == 409
    assert api.post("/api/v1/users", "admin", json={"username": "x y"}).status_code == 422
    assert api.post(f"/api/v1/users/{bob['id']}/reset-password", "admin",
                    json={"password": "short"}).status_code == 422
    assert api.client.patch(f"/api/v1/users/{bob['id']}", headers=api.headers("admin"),
                            json={"display_name": "Changed", "manager": "nobody-here"}).status_code == 422
    assert api.post(f"/api/v1/users/{admin['id']}/deactivate", "admin").status_code == 409
    assert api.post(f"/api/v1/users/{bob['id']}/deactivate", "alice").status_code == 403
    assert api.post("/api/v1/users/bob/unlock", "alice").status_code == 403
    assert api.post("/api/v1/departments", "admin", json={"name": "New", "parent_id": 99999}).status_code == 422
    assert api.post("/api/v1/api-keys", "alice", json={"name": "k", "user": "bob"}).status_code == 403
    assert api.post("/api/v1/webhooks", "admin", json={"url": "http://127.0.0.1:9/x"}).status_code == 422
    assert _count(app) == before
    assert api.get(f"/api/v1/users/{bob['id']}", "admin").get_json()["display_name"] != "Changed"


def test_api_keys_and_webhooks_are_audited_without_secrets(api, app) -> None:  # noqa: ANN001
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    made = api.post("/api/v1/api-keys", "alice", json={"name": "my-sync", "scopes": ["read:crm"]})
    assert made.status_code == 201
    secret = made.get_json()["key"]
    by_admin = api.post("/api/v1/api-keys", "admin", json={"name": "erp-feed", "user": "bob", "act_as": True})
    assert by_admin.status_code == 201
    admin_secret = by_admin.get_json()["key"]
    assert api.client.delete(f"/api/v1/api-keys/{made.get_json()['id']}",
                             headers=api.headers("alice")).status_code == 204
    hook = api.post("/api/v1/webhooks", "admin",
                    json={"url": "http://127.0.0.1:9/audit", "events": ["task.created"]})
    assert hook.status_code == 201
    hook_secret = hook.get_json()["secret"]
    assert api.client.delete(f"/api/v1/webhooks/{hook.get_json()['id']}",
                             headers=api.headers("admin")).status_code == 204

    keys = _listed(api, object_type="api_key")
    assert [(r["action"], r["actor"], r["object_id"]) for r in keys] == [
        ("revoked", "alice", made.get_json()["id"]), ("created", "admin", by_admin.get_json()["id"]),
        ("created", "alice", made.get_json()["id"])]
    assert keys[2]["changes"]["key"] == {"old": None, "new": "set"}
    assert keys[2]["changes"]["scopes"]["new"] == ["read:crm"] and keys[2]["changes"]["user"]["new"] == "alice"
    assert keys[1]["changes"]["user"]["new"] == "bob" and keys[1]["changes"]["act_as"]["new"] is True
    hooks = _listed(api, object_type="webhook")
    assert [(r["action"], r["actor"]) for r in hooks] == [("deleted", "admin"), ("created", "admin")]
    assert hooks[1]["changes"]["secret"] == {"old": None, "new": "set"}
    assert hooks[1]["changes"]["url"]["new"] == "http://127.0.0.1:9/audit"
    for row in _all_rows(app):
        text = _row_text(row)
        for whole in (secret, admin_secret, hook_secret):
            assert whole not in text and whole[-20:] not in text


def test_shared_notification_channels_are_audited_and_own_ones_are_not(api, app) -> None:  # noqa: ANN001
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    channels = "/api/v1/notification-channels"
    own = api.post(channels, "alice", json={"kind": "email", "target": "alice@example.com"})
    assert own.status_code == 201
    robot = api.post(channels, "admin", json={"kind": "dingtalk", "group": "sales", "secret": "SEC-robot-signing-42",
                                              "target": "http://127.0.0.1:9/robot/send?access_token=tok-9f8e7d"})
    assert robot.status_code == 201, robot.get_json()
    assert api.client.delete(f"{channels}/{robot.get_json()['id']}", headers=api.headers("admin")).status_code == 204
    assert api.client.delete(f"{channels}/{own.get_json()['id']}", headers=api.headers("admin")).status_code == 204
    rows = _listed(api, object_type="notification_channel")
    assert [(r["action"], r["actor"], r["object_id"]) for r in rows] == [
        ("deleted", "admin", own.get_json()["id"]),  # an admin removing alice's channel
        ("deleted", "admin", robot.get_json()["id"]), ("created", "admin", robot.get_json()["id"])]
    created = rows[2]["changes"]
    assert created["group"]["new"] == "sales" and created["kind"]["new"] == "dingtalk"
    assert created["secret"] == {"old": None, "new": "set"}
    assert created["target"]["new"] == "http://127.0.0.1:9/robot/***?access_token=***"
    for row in _all_rows(app):
        assert "tok-9f8e7d" not in _row_text(row) and "SEC-robot-signing-42" not in _row_text(row)


def test_a_key_revoked_with_an_api_key_names_the_key_owner(api, app) -> None:  # noqa: ANN001
    key = api.use_api_key("erp")
    own = api.client.get("/api/v1/api-keys", headers={"Authorization": f"Bearer {key}"}).get_json()["items"][0]
    assert api.client.delete(f"/api/v1/api-keys/{own['id']}",
                             headers={"Authorization": f"Bearer {key}"}).status_code == 204
    row = _listed(api, object_type="api_key", action="revoked")[0]
    assert row["actor"] == "erp" and row["object_id"] == own["id"]


@pytest.mark.parametrize("who", ["alice", "bob", "erp"])
def test_only_admins_read_the_listing(api, who: str) -> None:  # noqa: ANN001
    if who == "erp":
        api.use_api_key("erp")
    assert api.get("/api/v1/admin-audit", who).status_code == 403
    assert api.get("/api/v1/admin-audit").status_code == 401
    bad = api.get("/api/v1/admin-audit", "admin", query_string={"object_type": "<b>", "from": "x"})
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    assert {e["field"] for e in bad.get_json()["errors"]} >= {"object_type", "from"}


def test_command_line_changes_are_audited_as_cli(app, database_url: str, tmp_path) -> None:  # noqa: ANN001
    env = {"OAFLOW_DATABASE_URL": database_url, "OAFLOW_SECRET_KEY": "cli-test",
           "OAFLOW_UPLOAD_DIR": str(tmp_path / "uploads"), "OAFLOW_LOG_FORMAT": "text"}
    runner = CliRunner()
    added = runner.invoke(main, ["user", "add", "ops", "--role", "admin", "--password-stdin", "--group", "night"],
                          input="cli-Secret-77\n", env=env)
    assert added.exit_code == 0, added.output
    assert runner.invoke(main, ["user", "add", "ops", "--role", "employee"], env=env).exit_code == 0
    assert runner.invoke(main, ["user", "unlock", "ops"], env=env).exit_code == 0
    made = runner.invoke(main, ["api-key", "create", "feed"], env=env)
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    key_id = runner.invoke(main, ["api-key", "list", "--user", "feed"], env=env).stdout.split("\t")[0]
    assert runner.invoke(main, ["api-key", "revoke", key_id], env=env).exit_code == 0
    assert runner.invoke(main, ["api-key", "revoke", "99999"], env=env).exit_code != 0

    rows = _all_rows(app)
    prefix = key.split("_")[1]
    assert {r["actor"] for r in rows} == {"cli"}
    seen = [(r["object_type"], r["object_name"], r["action"]) for r in rows]
    assert seen == [("group", "night", "created"), ("user", "ops", "created"), ("user", "ops", "updated"),
                    ("user", "ops", "unlocked"), ("user", "feed (feed)", "created"),
                    ("api_key", f"feed [{prefix}]", "created"), ("api_key", f"feed [{prefix}]", "revoked")]
    assert rows[1]["changes"]["password"] == [None, "set"] and rows[1]["changes"]["groups"][1] == ["night"]
    assert rows[2]["changes"] == {"roles": [["admin"], ["employee"]]}
    for row in rows:
        assert "cli-Secret-77" not in _row_text(row) and key[-20:] not in _row_text(row)


def test_credentials_in_a_webhook_url_are_masked_in_the_trail(api, app) -> None:  # noqa: ANN001
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    url = "http://robot:hunter2pass@127.0.0.1:9/hook?access_token=QUERYSECRET&kind=text#frag"
    hook = api.post("/api/v1/webhooks", "admin", json={"url": url, "events": ["task.created"]})
    assert hook.status_code == 201
    assert api.client.delete(f"/api/v1/webhooks/{hook.get_json()['id']}",
                             headers=api.headers("admin")).status_code == 204
    masked = "http://robot:***@127.0.0.1:9/hook?access_token=***&kind=***"
    rows = _listed(api, object_type="webhook")
    assert [r["object_name"] for r in rows] == [masked, masked]
    assert rows[1]["changes"]["url"]["new"] == masked
    for row in _all_rows(app):
        assert "hunter2pass" not in _row_text(row) and "QUERYSECRET" not in _row_text(row)


@pytest.mark.parametrize(("url", "kept", "secret"), [
    ("https://hooks.slack.com/services/T00/B00/XXXSECRET", "https://hooks.slack.com/services/***/***/***", "XXX"),
    ("https://discord.com/api/webhooks/123/TOKEN9", "https://discord.com/api/***/***/***", "TOKEN9"),
    ("https://h.example/in;token=SEMI7secret", "https://h.example/in;***", "SEMI7"),
    ("https://h.example/in?BARE8secret", "https://h.example/in?***=***", "BARE8"),
    ("https://TOKEN@h.example/hook", "https://***@h.example/hook", "TOKEN"),
])
def test_a_webhook_url_keeps_where_it_goes_and_loses_its_credential(url: str, kept: str, secret: str) -> None:
    from oa.admin_audit import redacted_url
    assert redacted_url(url) == kept and secret not in redacted_url(url)


def test_a_webhook_in_use_is_listed_without_its_password_or_query_tokens(api) -> None:  # noqa: ANN001
    from oa.admin_audit import credentials_masked
    assert credentials_masked("https://user:s3cret@hooks.example.com/h/abc?token=abc&x=1") == \
        "https://user:***@hooks.example.com/h/abc?token=***&x=***"
    api.app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    made = api.post("/api/v1/webhooks", "admin", json={"url": "http://user:s3cret@127.0.0.1:9/hook?token=abc"})
    assert made.status_code == 201, made.get_json()
    [listed] = api.get("/api/v1/webhooks", "admin").get_json()["items"]
    assert "s3cret" not in listed["url"] and "abc" not in listed["url"]
