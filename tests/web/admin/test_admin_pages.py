"""The admin console: only administrators open it (alice, bob → 403 page); instances with filters, an incident
fixed and retried, cancel with confirmation; the audit trail; users (create with a one-time password, deactivate,
reactivate, unlock, reset password); departments and groups; API keys (secret shown once); webhooks and their
delivery log. Every bad input is named on the same page."""

from __future__ import annotations

import re

import pytest

from tests.bpmn_samples import script_process
from tests.conftest import deploy_files
from tests.web.conftest import ESCAPED, PAYLOAD, RAW, Web

ADMIN_PAGES = ["/admin", "/admin/instances", "/admin/instances/1", "/admin/audit", "/admin/users",
               "/admin/users/new", "/admin/users/1", "/admin/org", "/admin/api-keys", "/admin/webhooks",
               "/admin/webhooks/1"]
ADMIN_POSTS = ["/admin/instances/1/retry", "/admin/instances/1/variables", "/admin/instances/1/cancel",
               "/admin/users/new", "/admin/users/1", "/admin/users/1/active", "/admin/users/1/unlock",
               "/admin/users/1/password", "/admin/org/departments", "/admin/org/groups",
               "/admin/org/groups/1/members", "/admin/api-keys", "/admin/api-keys/1/revoke", "/admin/webhooks",
               "/admin/webhooks/1/delete"]


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


def _failed_instance(api) -> dict:  # noqa: ANN001
    assert deploy_files(api, "grace", {"div.bpmn": script_process("divide", "ratio = 10 / count")}).status_code == 201
    inst = api.post("/api/v1/process-definitions/divide/start", "alice",
                    json={"variables": {"count": 0}, "business_key": "DIV-1"}).get_json()
    assert inst["status"] == "error"
    return inst


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_non_admins_get_403_on_every_admin_page_and_action(web: Web, api, who: str) -> None:  # noqa: ANN001
    _failed_instance(api)
    web.login(who)
    assert "nav-admin" not in _html(web.get("/"))
    for path in ADMIN_PAGES:
        assert web.get(path).status_code == 403, path
    for path in ADMIN_POSTS:
        assert web.post(path, {"name": "x", "value": "1", "reason": "x", "confirm": "yes"}).status_code == 403, path
    # nothing happened: the instance is still in error and not cancelled
    assert api.get("/api/v1/process-instances/1", "admin").get_json()["status"] == "error"


def test_admin_sees_the_console_link_and_instances_with_filters(web: Web, api) -> None:  # noqa: ANN001
    inst = _failed_instance(api)
    api.start_leave("bob")
    web.login("admin")
    assert 'id="nav-admin"' in _html(web.get("/"))
    html = _html(web.get("/admin/instances"))
    assert f'href="/admin/instances/{inst["id"]}"' in html and "ZeroDivisionError" in html
    only_errors = _html(web.get("/admin/instances?status=error"))
    assert "divide" in only_errors and "Leave request" not in only_errors.split('id="instances"')[1]
    by_starter = _html(web.get("/admin/instances?started_by=bob")).split('id="instances"')[1]
    assert "Leave request" in by_starter and "divide" not in by_starter
    assert "DIV-1" in _html(web.get("/admin/instances?business_key=DIV-1"))
    none = _html(web.get("/admin/instances?from=2099-01-01")).split('id="instances"')[1]
    assert f'/admin/instances/{inst["id"]}"' not in none
    bad = web.get("/admin/instances?status=exploded&from=yesterday")
    assert bad.status_code == 200  # the page still shows, with the bad filters named
    assert bad.get_data(as_text=True).count('class="field-error"') == 2
    assert web.get("/admin/instances?page=0").status_code == 200
    assert web.get("/admin/instances/99999").status_code == 404


def test_instance_history_names_the_steps(web: Web, api) -> None:  # noqa: ANN001
    """The console's history says the step's name (translated in zh-CN), the element id only as a tooltip."""
    inst = api.start_leave("alice").get_json()
    web.login("admin")
    history = _html(web.get(f"/admin/instances/{inst['id']}")).split('id="history"')[1]
    assert 'title="manager_approval">Manager approval</span>' in history, history[:3000]
    web.get("/lang/zh_CN")
    history = _html(web.get(f"/admin/instances/{inst['id']}")).split('id="history"')[1]
    assert 'title="manager_approval">经理审批</span>' in history, history[:3000]


def test_admin_fixes_a_variable_and_retries_the_incident(web: Web, api) -> None:  # noqa: ANN001
    inst = _failed_instance(api)
    web.login("admin")
    page = f"/admin/instances/{inst['id']}"
    html = _html(web.get(page))
    assert 'id="incident"' in html and "ZeroDivisionError" in html and "<code>script</code>" in html
    assert f'href="/instances/{inst["id"]}"' in html  # the diagram one click away
    # "Edit" on a variable fills the form with its name and JSON value
    edit = _html(web.get(f"{page}?edit=count"))
    assert 'value="count"' in edit and ">0</textarea>" in edit
    assert "edit=initiator" not in edit  # a platform variable is not offered for editing
    resp = web.post(f"{page}/variables", {"name": "initiator", "value": '"mallory"'}, csrf_from=page)
    assert resp.status_code == 422  # and refused if posted anyway
    # validation: bad name, bad JSON, reserved-looking name → inline, nothing changes
    resp = web.post(f"{page}/variables", {"name": "1bad", "value": "2"}, csrf_from=page)
    assert resp.status_code == 422 and 'id="err-name"' in _html(resp)
    resp = web.post(f"{page}/variables", {"name": "count", "value": "{not json"}, csrf_from=page)
    assert resp.status_code == 422 and "not valid JSON" in _html(resp)
    resp = web.post(f"{page}/variables", {"name": "count", "value": "1" * 100_001}, csrf_from=page)
    assert resp.status_code == 422
    # retry with the same data fails again, shown on the page
    resp = web.post(f"{page}/retry", csrf_from=page, follow_redirects=True)
    assert resp.status_code == 200
    assert api.get(f"/api/v1/process-instances/{inst['id']}", "admin").get_json()["status"] == "error"
    # fix the data, retry: the instance runs on
    resp = web.post(f"{page}/variables", {"name": "count", "value": "4"}, csrf_from=page, follow_redirects=True)
    assert resp.status_code == 200
    history = api.get(f"/api/v1/process-instances/{inst['id']}/history", "admin").get_json()["items"]
    changed = [h for h in history if h["type"] == "variables_changed"]
    assert changed and changed[0]["user"] == "admin"
    web.post(f"{page}/retry", csrf_from=page)
    after = api.get(f"/api/v1/process-instances/{inst['id']}", "admin").get_json()
    assert after["status"] != "error" and after["variables"]["ratio"] == 2.5
    # the variable form now refuses (the instance is no longer in error), inline
    resp = web.post(f"{page}/variables", {"name": "count", "value": "5"}, csrf_from=page)
    assert resp.status_code == 409


def test_cancel_needs_a_reason_and_a_confirmation(web: Web, api) -> None:  # noqa: ANN001
    inst = api.start_leave("alice").get_json()
    web.login("admin")
    page = f"/admin/instances/{inst['id']}"
    resp = web.post(f"{page}/cancel", {"reason": "duplicate"}, csrf_from=page)
    assert resp.status_code == 422 and 'role="alert"' in _html(resp)
    assert api.get(f"/api/v1/process-instances/{inst['id']}", "admin").get_json()["status"] == "running"
    resp = web.post(f"{page}/cancel", {"reason": "duplicate", "confirm": "yes"}, csrf_from=page)
    assert resp.status_code == 302
    assert api.get(f"/api/v1/process-instances/{inst['id']}", "admin").get_json()["status"] == "cancelled"
    assert web.client.post(f"{page}/cancel", data={"reason": "x", "confirm": "yes"}).status_code == 400  # no CSRF


def test_audit_trail_with_filters(web: Web, api, crm: dict) -> None:  # noqa: ANN001
    inst = api.start_leave("bob").get_json()
    web.login("admin")
    html = _html(web.get("/admin/audit"))
    assert 'id="audit"' in html and f'/admin/instances/{inst["id"]}' in html
    region = "north" if crm["mine"]["region"] != "north" else "south"
    assert api.client.patch(f"/api/v1/customers/{crm['mine']['id']}", headers=api.headers("alice"),
                            json={"region": region}).status_code == 200
    crm_only = _html(web.get("/admin/audit?object_type=customer")).split('id="audit"')[1]
    assert "/admin/instances/" not in crm_only and "Alice (Sales Rep)" in crm_only
    old_label = {"north": "North", "south": "South", "east": "East", "west": "West"}.get(crm["mine"]["region"], "—")
    expected = f"<strong>Region</strong>: {old_label} → {region.title()}"
    assert expected in crm_only, crm_only[:3000]  # the change with its values, not the bare field name
    bob = _html(web.get("/admin/audit?actor=bob&object_type=instance")).split('id="audit"')[1]
    assert "Bob (Head of Sales)" in bob and "Alice (Sales Rep)" not in bob
    started = _html(web.get("/admin/audit?action=started")).split('id="audit"')[1]
    assert "Started" in started and "Task created" not in started
    assert "No entries match" in _html(web.get("/admin/audit?to=2000-01-01"))
    bad = web.get("/admin/audit?object_type=<b>&from=x")
    assert bad.status_code == 422 and _html(bad).count('class="field-error"') == 2
    web.get("/lang/zh_CN")
    chinese = _html(web.get("/admin/audit?object_type=instance")).split('id="audit"')[1]
    assert "发起" in chinese and "started" not in chinese and "Started" not in chinese


def test_user_create_with_one_time_password_and_account_actions(web: Web, api) -> None:  # noqa: ANN001
    web.login("admin")
    resp = web.post("/admin/users/new", {"username": "zoe", "display_name": "Zoe", "roles": "employee"},
                    csrf_from="/admin/users/new")
    assert resp.status_code == 303  # POST-redirect-GET: reloading the answer page posts nothing again
    resp = web.get(resp.headers["Location"])
    password = re.search(r'id="one-time-password"><code>([^<]+)</code>', _html(resp)).group(1)
    assert "pbkdf2" not in _html(resp) and "scrypt" not in _html(resp)
    assert api.client.post("/api/v1/auth/token", json={"username": "zoe", "password": password}).status_code == 200
    zoe = next(u for u in api.get("/api/v1/users", "admin", query_string={"q": "zoe"}).get_json()["items"])
    page = f"/admin/users/{zoe['id']}"
    assert password not in _html(web.get(page))  # never shown again
    # taken name and bad email are named on the form
    resp = web.post("/admin/users/new", {"username": "zoe", "roles": "employee", "email": "nope"},
                    csrf_from="/admin/users/new")
    assert resp.status_code == 422 and 'id="err-email"' in _html(resp)
    resp = web.post("/admin/users/new", {"username": "zoe", "roles": "employee"}, csrf_from="/admin/users/new")
    assert resp.status_code == 409 and "taken" in _html(resp)
    # deactivate: zoe can no longer log in; reactivate
    assert web.post(f"{page}/active", {"active": "0"}, csrf_from=page).status_code == 302
    assert api.client.post("/api/v1/auth/token", json={"username": "zoe", "password": password}).status_code == 401
    assert web.post(f"{page}/active", {"active": "1"}, csrf_from=page).status_code == 302
    # reset: a typed password is set and not shown; a generated one is shown once
    resp = web.post(f"{page}/password", {"password": "a-new-secret-1"}, csrf_from=page, follow_redirects=True)
    assert resp.status_code == 200 and "a-new-secret-1" not in _html(resp) and "you typed was set" in _html(resp)
    assert api.client.post("/api/v1/auth/token", json={"username": "zoe",
                                                       "password": "a-new-secret-1"}).status_code == 200
    resp = web.post(f"{page}/password", {}, csrf_from=page, follow_redirects=True)
    assert 'id="one-time-password"' in _html(resp)
    resp = web.post(f"{page}/password", {"password": "x"}, csrf_from=page)
    assert resp.status_code == 422 and "at least" in _html(resp)
    # unlock clears login lockouts
    for _ in range(6):
        api.client.post("/api/v1/auth/token", json={"username": "zoe", "password": "wrong"})
    resp = web.post(f"{page}/unlock", csrf_from=page, follow_redirects=True)
    assert resp.status_code == 200 and "Unlocked" in _html(resp)
    # roles, department and manager; an admin cannot drop their own admin role
    resp = web.post(page, {"display_name": PAYLOAD, "roles": ["employee", "designer"], "manager": "dave"},
                    csrf_from=page)
    assert resp.status_code == 302
    html = _html(web.get("/admin/users?q=zoe"))
    assert ESCAPED in html and RAW not in html
    me = next(u for u in api.get("/api/v1/users", "admin", query_string={"q": "admin"}).get_json()["items"]
              if u["username"] == "admin")
    resp = web.post(f"/admin/users/{me['id']}", {"roles": "employee"}, csrf_from=page)
    assert resp.status_code == 422 and "your own admin role" in _html(resp)
    resp = web.post(page, {"roles": "employee", "manager": "nobody-here"}, csrf_from=page)
    assert resp.status_code == 422 and 'id="err-manager"' in _html(resp)


def test_departments_and_group_membership(web: Web, api) -> None:  # noqa: ANN001
    web.login("admin")
    assert web.post("/admin/org/departments", {"name": "R&D"}, csrf_from="/admin/org").status_code == 302
    assert "R&amp;D" in _html(web.get("/admin/org"))
    assert web.post("/admin/org/departments", {"name": "R&D"}, csrf_from="/admin/org").status_code == 409
    assert web.post("/admin/org/groups", {"name": "auditors"}, csrf_from="/admin/org").status_code == 302
    group = next(g for g in api.get("/api/v1/groups", "admin").get_json()["items"] if g["name"] == "auditors")
    url = f"/admin/org/groups/{group['id']}/members"
    resp = web.post(url, {"members": "alice\nghost"}, csrf_from="/admin/org")
    assert resp.status_code == 422 and "ghost" in _html(resp)
    assert web.post(url, {"members": "alice\ncarol"}, csrf_from="/admin/org").status_code == 302
    group = next(g for g in api.get("/api/v1/groups", "admin").get_json()["items"] if g["name"] == "auditors")
    assert group["members"] == ["alice", "carol"]
    assert web.post(url, {"members": "carol"}, csrf_from="/admin/org").status_code == 302
    group = next(g for g in api.get("/api/v1/groups", "admin").get_json()["items"] if g["name"] == "auditors")
    assert group["members"] == ["carol"]


def test_api_key_secret_is_shown_once(web: Web, api) -> None:  # noqa: ANN001
    web.login("admin")
    resp = web.post("/admin/api-keys", {"name": "erp", "user": "alice", "scopes": "read:crm", "expires": "30d"},
                    csrf_from="/admin/api-keys")
    assert resp.status_code == 303
    resp = web.get(resp.headers["Location"])
    assert resp.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-secret"><code>([^<]+)</code>', _html(resp)).group(1)
    assert api.client.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listing = _html(web.get("/admin/api-keys"))
    assert secret not in listing and "erp" in listing and "read:crm" in listing
    bad = web.post("/admin/api-keys", {"name": "x", "scopes": "root:all", "expires": "forever", "user": "ghost"},
                   csrf_from="/admin/api-keys")
    assert bad.status_code == 422 and 'id="err-scopes"' in _html(bad) and 'id="err-expires"' in _html(bad)
    key = api.get("/api/v1/api-keys", "admin").get_json()["items"][-1]
    assert web.post(f"/admin/api-keys/{key['id']}/revoke", csrf_from="/admin/api-keys").status_code == 302
    assert api.client.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_webhooks_and_their_delivery_log(web: Web, api, app) -> None:  # noqa: ANN001
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    web.login("admin")
    bad = web.post("/admin/webhooks", {"url": "ftp://x", "events": "no such event!"}, csrf_from="/admin/webhooks")
    assert bad.status_code == 422 and 'id="err-url"' in _html(bad)
    resp = web.post("/admin/webhooks", {"url": "http://127.0.0.1:9/hook", "events": "instance.completed task.created"},
                    csrf_from="/admin/webhooks")
    assert resp.status_code == 303 and 'id="new-secret"' in _html(web.get(resp.headers["Location"]))
    assert 'id="new-secret"' not in _html(web.get("/admin/webhooks"))  # once
    hook = api.get("/api/v1/webhooks", "admin").get_json()["items"][0]
    assert hook["events"] == ["instance.completed", "task.created"]
    api.start_leave("alice")  # task.created → a delivery queued
    from api.scheduler import deliver_webhooks_once
    deliver_webhooks_once(app)  # nothing listens on port 9: the attempt fails and is logged
    html = _html(web.get(f"/admin/webhooks/{hook['id']}"))
    assert "task.created" in html and 'id="deliveries"' in html
    api_log = api.get(f"/api/v1/webhooks/{hook['id']}/deliveries", "admin").get_json()["items"]
    assert api_log and all(str(d["attempts"]) in html for d in api_log)
    assert hook["secret"] if "secret" in hook else True
    assert web.post(f"/admin/webhooks/{hook['id']}/delete", csrf_from="/admin/webhooks").status_code == 302
    removed = api.get("/api/v1/webhooks", "admin").get_json()["items"][0]
    assert removed["active"] is False and removed["url"] == "http://127.0.0.1:9/hook"  # nothing to mask here


def test_a_removed_webhook_is_listed_with_its_url_credentials_masked(api) -> None:  # noqa: ANN001
    api.app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    url = "http://127.0.0.1:9/hooks/T0K3N-abc?sig=s3cr3t"
    hook = api.post("/api/v1/webhooks", "admin", json={"url": url}).get_json()
    assert api.get("/api/v1/webhooks", "admin").get_json()["items"][0]["url"] == \
        "http://127.0.0.1:9/hooks/T0K3N-abc?sig=***"  # in use: where it goes, without the query's token
    assert api.client.delete(f"/api/v1/webhooks/{hook['id']}", headers=api.headers("admin")).status_code == 204
    [listed] = api.get("/api/v1/webhooks", "admin").get_json()["items"]
    assert listed["url"] == "http://127.0.0.1:9/hooks/***?sig=***"
    assert api.get(f"/api/v1/webhooks/{hook['id']}/deliveries", "admin").status_code == 200  # the log stays
    web = Web(api.app)
    web.login("admin")
    for page in ("/admin/webhooks", f"/admin/webhooks/{hook['id']}"):
        html = _html(web.get(page))
        assert "T0K3N-abc" not in html and "s3cr3t" not in html and "/hooks/***" in html, page


def test_hostile_data_is_escaped_on_admin_pages(web: Web, hostile: dict) -> None:
    web.login("admin")
    for path in ("/admin/instances", f"/admin/instances/{hostile['instance']}", "/admin/audit",
                 "/admin/users?include_inactive=true"):
        html = _html(web.get(path))
        assert RAW not in html, path
    assert ESCAPED in _html(web.get(f"/admin/instances/{hostile['instance']}"))  # the leave reason variable


def test_huge_inputs_are_refused_on_the_page(web: Web) -> None:
    web.login("admin")
    resp = web.post("/admin/org/groups", {"name": "g" * 101}, csrf_from="/admin/org")
    assert resp.status_code == 422 and 'role="alert"' in _html(resp)
    web.post("/admin/org/groups", {"name": "big"}, csrf_from="/admin/org")
    resp = web.post("/admin/org/groups/1/members", {"members": "x\n" * 60_000}, csrf_from="/admin/org")
    assert resp.status_code == 422
    resp = web.post("/admin/users/new", {"username": "u" * 101, "roles": "employee"}, csrf_from="/admin/users/new")
    assert resp.status_code == 422 and 'id="err-username"' in _html(resp)
    resp = web.post("/admin/users/new", {"username": "ok", "roles": "emperor"}, csrf_from="/admin/users/new")
    assert resp.status_code == 422 and "emperor" in _html(resp)
    resp = web.post("/admin/api-keys", {"name": "n" * 101}, csrf_from="/admin/api-keys")
    assert resp.status_code == 422 and 'id="err-name"' in _html(resp)
    assert web.get("/admin/audit?actor=" + "a" * 5000).status_code == 422


def test_two_admins_cancelling_at_once_cancel_once(web: Web, app, api) -> None:  # noqa: ANN001
    from tests.conftest import run_in_threads
    inst = api.start_leave("alice").get_json()
    page = f"/admin/instances/{inst['id']}"
    clients = [Web(app), Web(app)]
    tokens = []
    for client in clients:
        client.login("admin")
        tokens.append(client.csrf(page))
    statuses: list[int] = [0, 0]

    def cancel(i: int) -> None:
        statuses[i] = clients[i].client.post(f"{page}/cancel", data={
            "reason": f"duplicate {i}", "confirm": "yes", "csrf_token": tokens[i]}).status_code

    run_in_threads(2, cancel)
    assert 302 in statuses and set(statuses) <= {302, 409}, statuses
    history = api.get(f"/api/v1/process-instances/{inst['id']}/history", "admin").get_json()["items"]
    assert [h["type"] for h in history].count("cancelled") == 1


def test_department_rename_head_and_deactivate(web: Web, api) -> None:  # noqa: ANN001
    web.login("admin")
    web.post("/admin/org/departments", {"name": "Temp"}, csrf_from="/admin/org")
    dept = next(d for d in api.get("/api/v1/departments", "admin").get_json()["items"] if d["name"] == "Temp")
    url = f"/admin/org/departments/{dept['id']}"
    assert web.post(url, {"name": "Ops", "head": "carol", "active": "true"}, csrf_from="/admin/org").status_code == 302
    got = api.get(f"/api/v1/departments/{dept['id']}", "admin").get_json()
    assert got["name"] == "Ops" and got["head"] == "carol" and got["active"] is True
    resp = web.post(url, {"name": "Ops", "head": "nobody", "active": "true"}, csrf_from="/admin/org")
    assert resp.status_code == 422 and "head" in _html(resp)
    resp = web.post(url, {"name": "Ops", "parent_id": str(dept["id"]), "active": "true"}, csrf_from="/admin/org")
    assert resp.status_code == 422  # its own parent
    assert web.post(url, {"name": "Ops"}, csrf_from="/admin/org").status_code == 302  # unticked: deactivated
    assert api.get(f"/api/v1/departments/{dept['id']}", "admin").get_json()["active"] is False
    alice = next(u for u in api.get("/api/v1/users", "admin", query_string={"q": "alice"}).get_json()["items"])
    sales = alice["department"]  # has active members: cannot be deactivated, said on the page
    resp = web.post(f"/admin/org/departments/{sales['id']}", {"name": sales["name"]}, csrf_from="/admin/org")
    assert resp.status_code == 409 and "active user" in _html(resp)
