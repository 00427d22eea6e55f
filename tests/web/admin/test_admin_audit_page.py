"""The administration changes made on the admin pages are on /admin/audit beside the CRM and process
trails: each names the acting admin, filters by object type, action, actor and dates work, labels are
translated, a user's display name is escaped, no secret is written, and non-admins cannot see the page."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from tests.web.conftest import ESCAPED, PAYLOAD, RAW, Web


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


def _trail(web: Web, query: str = "") -> str:
    resp = web.get("/admin/audit" + query)
    assert resp.status_code == 200
    return _html(resp).split('id="audit"')[1]


def _rows(app) -> list[dict]:  # noqa: ANN001
    from api.extensions import db
    from oa.models import AdminAuditEntry
    with app.app_context():
        rows = db.session.scalars(select(AdminAuditEntry).order_by(AdminAuditEntry.id)).all()
        return [{c.name: getattr(r, c.name) for c in AdminAuditEntry.__table__.columns} for r in rows]


def _user_id(api, name: str) -> int:  # noqa: ANN001
    return next(u["id"] for u in api.get("/api/v1/users", "admin", query_string={"q": name,
                                                                                "include_inactive": "true"})
                .get_json()["items"] if u["username"] == name)


def test_admin_page_changes_are_on_the_audit_trail(web: Web, api, app) -> None:  # noqa: ANN001
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    web.login("admin")
    resp = web.post("/admin/users/new", {"username": "zoe", "display_name": PAYLOAD, "roles": "employee"},
                    csrf_from="/admin/users/new", follow_redirects=True)
    assert resp.status_code == 200
    first = re.search(r'id="one-time-password"><code>([^<]+)</code>', _html(resp)).group(1)
    zoe = _user_id(api, "zoe")
    page = f"/admin/users/{zoe}"
    assert web.post(f"{page}/active", {"active": "0"}, csrf_from=page).status_code == 302
    assert web.post(f"{page}/active", {"active": "1"}, csrf_from=page).status_code == 302
    resp = web.post(f"{page}/password", {}, csrf_from=page, follow_redirects=True)
    second = re.search(r'id="one-time-password"><code>([^<]+)</code>', _html(resp)).group(1)
    assert web.post(f"{page}/password", {"password": "typed-Secret-9"}, csrf_from=page).status_code == 303
    assert web.post(f"{page}/unlock", csrf_from=page).status_code == 302
    assert web.post(page, {"display_name": PAYLOAD, "roles": ["employee", "designer"], "manager": "dave"},
                    csrf_from=page).status_code == 302
    assert web.post("/admin/org/departments", {"name": "R&D"}, csrf_from="/admin/org").status_code == 302
    assert web.post("/admin/org/groups", {"name": "auditors"}, csrf_from="/admin/org").status_code == 302
    group = next(g for g in api.get("/api/v1/groups", "admin").get_json()["items"] if g["name"] == "auditors")
    assert web.post(f"/admin/org/groups/{group['id']}/members", {"members": "alice\ncarol"},
                    csrf_from="/admin/org").status_code == 302
    resp = web.post("/admin/api-keys", {"name": "erp", "user": "alice", "scopes": "read:crm"},
                    csrf_from="/admin/api-keys", follow_redirects=True)
    key = re.search(r'id="new-secret"><code>([^<]+)</code>', _html(resp)).group(1)
    key_id = api.get("/api/v1/api-keys", "admin").get_json()["items"][-1]["id"]
    assert web.post(f"/admin/api-keys/{key_id}/revoke", csrf_from="/admin/api-keys").status_code == 302
    resp = web.post("/admin/webhooks", {"url": "http://127.0.0.1:9/hook", "events": "task.created"},
                    csrf_from="/admin/webhooks", follow_redirects=True)
    hook_secret = re.search(r'id="new-secret"><code>([^<]+)</code>', _html(resp)).group(1)
    hook_id = api.get("/api/v1/webhooks", "admin").get_json()["items"][0]["id"]
    assert web.post(f"/admin/webhooks/{hook_id}/delete", csrf_from="/admin/webhooks").status_code == 302

    rows = _rows(app)
    assert {r["actor"] for r in rows} == {"admin"}
    zoe_actions = [r["action"] for r in rows if r["object_type"] == "user" and r["object_id"] == zoe]
    assert zoe_actions == ["created", "deactivated", "reactivated", "password_reset", "password_reset",
                           "unlocked", "updated"]
    assert [(r["object_type"], r["action"]) for r in rows if r["object_type"] != "user"] == [
        ("department", "created"), ("group", "created"), ("group", "members_changed"), ("api_key", "created"),
        ("api_key", "revoked"), ("webhook", "created"), ("webhook", "deleted")]
    members = next(r for r in rows if r["action"] == "members_changed")
    assert members["changes"] == {"members": [[], ["alice", "carol"]]}
    alice_rows = [r for r in rows if r["object_type"] == "user" and r["object_id"] == _user_id(api, "alice")]
    assert "auditors" in alice_rows[0]["changes"]["groups"][1]
    for row in rows:
        text = json.dumps(row, default=str)
        for secret in (first, second, "typed-Secret-9", key, key[-20:], hook_secret):
            assert secret not in text

    # on the page: escaped name, labels, links, filters
    html = _trail(web, "?object_type=user")
    assert ESCAPED in html and RAW not in html and "<script>" not in html
    assert f'href="/admin/users/{zoe}"' in html and "Password reset" in html and "Unlocked" in html
    assert "Reactivated" in html and "Deactivated" in html
    assert "No entries match" not in _trail(web, "?object_type=webhook")
    assert "127.0.0.1:9/hook" in _trail(web, "?object_type=webhook")
    only_resets = _trail(web, "?action=password_reset")
    assert only_resets.count("Password reset") == 2 and "Unlocked" not in only_resets
    assert "No entries match" in _trail(web, "?actor=alice&object_type=user")
    assert "No entries match" in _trail(web, "?object_type=api_key&to=2000-01-01")
    assert "Revoked" in _trail(web, "?object_type=api_key&from=2000-01-01")
    web.get("/lang/zh_CN")
    chinese = _trail(web, "?object_type=user")
    assert "重置密码" in chinese and "解除锁定" in chinese and "用户" in chinese


def test_non_admins_cannot_read_the_trail(web: Web, api) -> None:  # noqa: ANN001
    api.post("/api/v1/groups", "admin", json={"name": "auditors"})
    for who in ("alice", "bob"):
        web.login(who)
        assert web.get("/admin/audit").status_code == 403
        assert web.get("/admin/audit?object_type=group").status_code == 403
        web.logout()
    assert web.get("/admin/audit").status_code in (302, 401, 403)


def test_a_refused_web_change_writes_nothing(web: Web, api, app) -> None:  # noqa: ANN001
    web.login("admin")
    me = _user_id(api, "admin")
    page = f"/admin/users/{me}"
    assert web.post(page, {"roles": "employee"}, csrf_from=page).status_code == 422
    assert web.post(f"{page}/active", {"active": "0"}, csrf_from=page).status_code == 409
    assert web.post(f"{page}/password", {"password": "x"}, csrf_from=page).status_code == 422
    assert web.post("/admin/users/new", {"username": "bob", "roles": "employee"},
                    csrf_from="/admin/users/new").status_code == 409
    assert web.post("/admin/org/groups/1/members", {"members": "ghost"}, csrf_from="/admin/org").status_code == 422
    assert web.post("/admin/api-keys", {"name": "x", "scopes": "root:all"},
                    csrf_from="/admin/api-keys").status_code == 422
    assert _rows(app) == []
