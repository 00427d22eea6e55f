"""The hire date (start_date) on the admin user form: a new user defaults to today in the company time zone, so
the attendance report never counts them absent before they joined; an edited date is saved, listed and on the
audit trail; a bad date is named on the page (422) and nothing is saved; the label is translated."""

from __future__ import annotations

import re

from sqlalchemy import select

from store.clock import company_date
from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


def _user(api, name: str) -> dict:  # noqa: ANN001
    return next(u for u in api.get("/api/v1/users", "admin", query_string={"q": name}).get_json()["items"]
                if u["username"] == name)


def _report_row(api, name: str) -> dict:  # noqa: ANN001
    month = f"{company_date():%Y-%m}"
    report = api.get("/api/v1/reports/attendance", "admin", query_string={"month": month}).get_json()
    return next(u for u in report["users"] if u["user"] == name)


def _audit(app, user_id: int) -> list[dict]:  # noqa: ANN001
    from api.extensions import db
    from oa.models import AdminAuditEntry
    with app.app_context():
        rows = db.session.scalars(select(AdminAuditEntry).where(AdminAuditEntry.object_type == "user",
                                                                AdminAuditEntry.object_id == user_id)
                                  .order_by(AdminAuditEntry.id)).all()
        return [{"action": r.action, "changes": r.changes} for r in rows]


def test_new_user_hire_date_defaults_to_today_and_is_not_absent_before(web: Web, api, app) -> None:  # noqa: ANN001
    web.login("admin")
    form = _html(web.get("/admin/users/new"))
    default = re.search(r'id="f-start_date" name="start_date" type="date" value="([^"]*)"', form).group(1)
    assert default == company_date().isoformat()
    resp = web.post("/admin/users/new", {"username": "nina", "roles": "employee", "start_date": default},
                    csrf_from="/admin/users/new")
    assert resp.status_code == 303
    nina = _user(api, "nina")
    assert nina["start_date"] == default
    # the same month for someone without a hire date counts every past work day absent; nina none of them
    assert api.post("/api/v1/users", "admin", json={"username": "olaf"}).status_code == 201
    olaf, row = _report_row(api, "olaf"), _report_row(api, "nina")
    assert row["absent"] == 0 and row["present"] == 0
    assert row["work_days"] <= olaf["work_days"]
    assert row["work_days"] == olaf["work_days"] - olaf["absent"]  # only today onwards are nina's work days
    assert ["created"] == [e["action"] for e in _audit(app, nina["id"])]
    assert _audit(app, nina["id"])[0]["changes"]["start_date"] == [None, default]
    # a posted form without the date (an old page) still gets today, never "absent since forever"
    assert web.post("/admin/users/new", {"username": "pia", "roles": "employee"},
                    csrf_from="/admin/users/new").status_code == 303
    assert _user(api, "pia")["start_date"] == default


def test_edited_hire_date_is_saved_listed_and_audited(web: Web, api, app) -> None:  # noqa: ANN001
    web.login("admin")
    bob = _user(api, "bob")
    page = f"/admin/users/{bob['id']}"
    before = bob["start_date"]
    resp = web.post(page, {"display_name": bob["display_name"], "roles": bob["roles"], "groups": bob["groups"],
                           "start_date": "2026-11-16"}, csrf_from=page)
    assert resp.status_code == 302
    assert _user(api, "bob")["start_date"] == "2026-11-16"
    assert 'name="start_date" type="date" value="2026-11-16"' in _html(web.get(page))
    row = _html(web.get("/admin/users?q=bob")).split('id="users"')[1]
    assert '<td class="start-date">Nov 16, 2026</td>' in row
    assert _audit(app, bob["id"])[-1]["changes"]["start_date"] == [before, "2026-11-16"]
    # a post without the field leaves the date as it was
    assert web.post(page, {"display_name": "Bob B", "roles": bob["roles"], "groups": bob["groups"]},
                    csrf_from=page).status_code == 302
    assert _user(api, "bob")["start_date"] == "2026-11-16"


def test_bad_hire_date_is_named_and_nothing_is_saved(web: Web, api) -> None:  # noqa: ANN001
    web.login("admin")
    for bad in ("1800-01-01", "last week", "3000-01-01"):
        resp = web.post("/admin/users/new", {"username": "quin", "roles": "employee", "start_date": bad},
                        csrf_from="/admin/users/new")
        assert resp.status_code == 422, bad
        assert 'id="err-start_date"' in _html(resp) and f'value="{bad}"' in _html(resp)
        assert not [u for u in api.get("/api/v1/users", "admin", query_string={"q": "quin"}).get_json()["items"]]
    bob = _user(api, "bob")
    page = f"/admin/users/{bob['id']}"
    for bad in ("1800-01-01", "soon"):
        resp = web.post(page, {"display_name": "Changed", "roles": bob["roles"], "start_date": bad}, csrf_from=page)
        assert resp.status_code == 422 and 'id="err-start_date"' in _html(resp), bad
        assert _user(api, "bob") == bob  # nothing saved, not even the other fields


def test_hire_date_label_in_chinese(web: Web) -> None:
    web.login("admin")
    web.get("/lang/zh_CN")
    assert "入职日期" in _html(web.get("/admin/users/new"))
    assert "入职日期" in _html(web.get("/admin/users"))
    resp = web.post("/admin/users/new", {"username": "quin", "roles": "employee", "start_date": "1800-01-01"},
                    csrf_from="/admin/users/new")
    assert resp.status_code == 422 and "必须在" in _html(resp)
