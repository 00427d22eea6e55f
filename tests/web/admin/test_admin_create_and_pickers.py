"""Admin forms a new administrator trips over (issue #15): a successful create answers with a redirect
(POST-redirect-GET), so reloading the answer posts nothing again, while the secret it made (one-time password, API
key, webhook secret) is still shown once; the manager, department head and group member inputs are the task page's
people picker, and the server still refuses an unknown or deactivated person, naming the field."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


def _users(app) -> int:  # noqa: ANN001
    from api.extensions import db
    from oa.models import User
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_creating_a_user_redirects_and_a_reload_creates_nothing(web: Web, app) -> None:  # noqa: ANN001
    web.login("admin")
    before = _users(app)
    resp = web.post("/admin/users/new", {"username": "zoe", "roles": "employee"}, csrf_from="/admin/users/new")
    assert resp.status_code == 303
    answer = resp.headers["Location"]
    page = web.get(answer)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="one-time-password"><code>([^<]+)</code>', _html(page)).group(1)
    assert "User created." in _html(page)
    again = web.get(answer)  # the reload: no form posted again, no password shown again
    assert again.status_code == 302 and password not in _html(web.get(again.headers["Location"]))
    assert _users(app) == before + 1


def test_password_reset_redirects_and_shows_a_generated_password_once(web: Web, api) -> None:  # noqa: ANN001
    web.login("admin")
    alice = next(u for u in api.get("/api/v1/users", "admin", query_string={"q": "alice"}).get_json()["items"])
    page = f"/admin/users/{alice['id']}"
    resp = web.post(f"{page}/password", {}, csrf_from=page)
    assert resp.status_code == 303
    password = re.search(r'id="one-time-password"><code>([^<]+)</code>', _html(web.get(resp.headers["Location"])))
    assert password and web.get(resp.headers["Location"]).status_code == 302
    assert api.client.post("/api/v1/auth/token", json={"username": "alice",
                                                       "password": password.group(1)}).status_code == 200


def test_api_key_and_webhook_creates_redirect_and_show_the_secret_once(web: Web, api, app) -> None:  # noqa: ANN001
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    web.login("admin")
    resp = web.post("/admin/api-keys", {"name": "erp", "user": "alice"}, csrf_from="/admin/api-keys")
    assert resp.status_code == 303
    secret = re.search(r'id="new-secret"><code>([^<]+)</code>', _html(web.get(resp.headers["Location"]))).group(1)
    assert secret not in _html(web.get("/admin/api-keys"))
    assert len(api.get("/api/v1/api-keys", "admin").get_json()["items"]) == 1
    assert api.client.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    resp = web.post("/admin/webhooks", {"url": "http://127.0.0.1:9/hook", "events": "task.created"},
                    csrf_from="/admin/webhooks")
    assert resp.status_code == 303
    hook = api.get("/api/v1/webhooks", "admin").get_json()["items"][0]
    shown = _html(web.get(resp.headers["Location"]))
    assert 'id="new-secret"' in shown and 'id="new-secret"' not in _html(web.get("/admin/webhooks"))
    assert len(api.get("/api/v1/webhooks", "admin").get_json()["items"]) == 1 and hook["id"]


def test_a_secret_is_shown_only_on_its_own_page(web: Web, api) -> None:  # noqa: ANN001
    """The held password of one user never appears on another user's answer page."""
    web.login("admin")
    resp = web.post("/admin/users/new", {"username": "zoe", "roles": "employee"}, csrf_from="/admin/users/new")
    zoe_answer = resp.headers["Location"]
    bob = next(u for u in api.get("/api/v1/users", "admin", query_string={"q": "bob"}).get_json()["items"])
    other = web.get(f"/admin/users/{bob['id']}/password")
    assert other.status_code == 302  # nothing held for bob: his page, no password
    assert web.get(zoe_answer).status_code == 302  # and zoe's was dropped too: shown on no page


def test_person_inputs_are_people_pickers(web: Web, api) -> None:  # noqa: ANN001
    web.login("admin")
    form = _html(web.get("/admin/users/new"))
    assert re.search(r'<span class="person-picker" data-people-url="/people"[^>]*>\s*<input id="f-manager" '
                     r'name="manager"', form)
    bob = next(u for u in api.get("/api/v1/users", "admin", query_string={"q": "bob"}).get_json()["items"])
    edit = _html(web.get(f"/admin/users/{bob['id']}"))
    assert re.search(r'<input id="f-manager" name="manager" value="dave"', edit)
    org = _html(web.get("/admin/org"))
    assert re.search(r'data-multiple="1" data-max="500"[^>]*>\s*<input id="members-\d+" name="members"', org)
    assert re.search(r'<input id="head-\d+" name="head" value="[^"]*" class="person-value"[^>]*form="dept-\d+"', org)


def test_unknown_or_deactivated_people_are_refused_naming_the_field(web: Web, api) -> None:  # noqa: ANN001
    web.login("admin")
    carol = next(u for u in api.get("/api/v1/users", "admin", query_string={"q": "carol"}).get_json()["items"])
    page = f"/admin/users/{carol['id']}"
    assert web.post(f"{page}/active", {"active": "0"}, csrf_from=page).status_code == 302
    resp = web.post("/admin/users/new", {"username": "zoe", "roles": "employee", "manager": "carol"},
                    csrf_from="/admin/users/new")
    html = _html(resp)
    assert resp.status_code == 422 and re.search(r'id="err-manager" role="alert">no active user carol<', html)
    assert 'value="carol"' in html  # the input is kept
    resp = web.post("/admin/users/new", {"username": "zoe", "roles": "employee", "manager": "nobody"},
                    csrf_from="/admin/users/new")
    assert resp.status_code == 422 and 'id="err-manager"' in _html(resp)
    group = next(g for g in api.get("/api/v1/groups", "admin").get_json()["items"] if g["name"] == "sales")
    url = f"/admin/org/groups/{group['id']}/members"
    resp = web.post(url, {"members": ", ".join(group["members"] + ["carol"])}, csrf_from="/admin/org")
    assert resp.status_code == 422 and re.search(rf'id="err-members-{group["id"]}" role="alert">deactivated users: '
                                                 r'carol<', _html(resp))
    # comma-separated, as the picker posts them
    resp = web.post(url, {"members": ", ".join(group["members"] + ["erin"])}, csrf_from="/admin/org")
    assert resp.status_code == 302
    after = next(g for g in api.get("/api/v1/groups", "admin").get_json()["items"] if g["name"] == "sales")
    assert sorted(after["members"]) == sorted(group["members"] + ["erin"])
    # in Chinese the refusal is worded in Chinese
    web.get("/lang/zh_CN")
    resp = web.post("/admin/users/new", {"username": "zoe", "roles": "employee", "manager": "carol"},
                    csrf_from="/admin/users/new")
    assert "没有在职用户 carol" in _html(resp)
