"""Announcements: who may publish to whom, visibility windows and audiences, read tracking."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from oa.models import Department
from store.base import utcnow
from tests.oa.conftest import problem_fields

URL = "/api/v1/announcements"


def _depts(dbs) -> dict[str, int]:  # noqa: ANN001
    with dbs() as s:
        return {d.name: d.id for d in s.scalars(select(Department))}


def _titles(api, user: str, **query) -> list[str]:  # noqa: ANN001, ANN003
    resp = api.get(URL, user, query_string=query)
    assert resp.status_code == 200
    return [a["title"] for a in resp.get_json()["items"]]


def test_audience_and_publication_window(api, dbs) -> None:  # noqa: ANN001
    depts = _depts(dbs)
    now = utcnow()
    assert api.post(URL, "admin", json={"title": "All hands"}).status_code == 201
    assert api.post(URL, "admin", json={"title": "Finance only", "departments": [depts["Finance"]]}
                    ).status_code == 201
    assert api.post(URL, "admin", json={"title": "Management tree", "departments": [depts["Management"]]}
                    ).status_code == 201
    assert api.post(URL, "admin", json={"title": "Later", "publish_at": (now + timedelta(days=1)).isoformat()}
                    ).status_code == 201
    assert api.post(URL, "admin", json={"title": "Gone", "publish_at": (now - timedelta(days=2)).isoformat(),
                                        "expire_at": (now - timedelta(days=1)).isoformat()}).status_code == 201
    # a department head addresses their own department
    resp = api.post(URL, "bob", json={"title": "Sales kick-off", "departments": [depts["Sales"]]})
    assert resp.status_code == 201 and resp.get_json()["audience_all"] is False
    assert set(_titles(api, "alice")) == {"All hands", "Management tree", "Sales kick-off"}
    assert set(_titles(api, "carol")) == {"All hands", "Finance only", "Management tree"}
    assert "Later" in _titles(api, "admin", mine="true") and "Later" not in _titles(api, "admin")


def test_who_may_publish_and_bad_input(api, dbs) -> None:  # noqa: ANN001
    depts = _depts(dbs)
    assert api.post(URL, "alice", json={"title": "Hi"}).status_code == 403  # not a head
    assert api.post(URL, "bob", json={"title": "Hi", "departments": [depts["Finance"]]}).status_code == 403
    resp = api.post(URL, "bob", json={"title": "Everyone"})  # heads may not address the whole company
    assert resp.status_code == 422 and problem_fields(resp) == {"departments"}
    for body, field in (({"title": ""}, "title"), ({"title": "x", "departments": [99999]}, "departments"),
                        ({"title": "x", "publish_at": "noon"}, "publish_at"), ({"title": "x", "pin": True}, "pin"),
                        ({"title": "x", "publish_at": "2026-12-02T00:00:00", "expire_at": "2026-12-01T00:00:00"},
                         "expire_at")):
        resp = api.post(URL, "admin", json=body)
        assert resp.status_code == 422 and {f.split("/")[0] for f in problem_fields(resp)} == {field}, body
    assert api.get(URL, "alice", query_string={"unread": "perhaps"}).status_code == 422


def test_read_tracking(api, dbs) -> None:  # noqa: ANN001
    depts = _depts(dbs)
    sales_note = api.post(URL, "bob", json={"title": "Quota", "departments": [depts["Sales"]]}).get_json()["id"]
    finance_note = api.post(URL, "admin", json={"title": "Audit", "departments": [depts["Finance"]]}
                            ).get_json()["id"]
    assert api.post(f"{URL}/{finance_note}/read", "alice").status_code == 404  # not in the audience
    assert api.get(f"{URL}/{finance_note}", "alice").status_code == 404
    assert api.post(f"{URL}/99999/read", "alice").status_code == 404
    first = api.post(f"{URL}/{sales_note}/read", "alice")
    assert first.status_code == 200
    assert api.post(f"{URL}/{sales_note}/read", "alice").get_json()["read_at"] == first.get_json()["read_at"]
    assert _titles(api, "alice", unread="true") == []
    listed = api.get(URL, "alice").get_json()["items"]
    assert listed[0]["read"] is True
    readers = api.get(f"{URL}/{sales_note}/readers", "bob")
    assert readers.status_code == 200
    assert [r["user"] for r in readers.get_json()["read"]] == ["alice"] and readers.get_json()["unread"] == ["bob"]
    assert api.get(f"{URL}/{sales_note}/readers", "admin").status_code == 200
    assert api.get(f"{URL}/{sales_note}/readers", "alice").status_code == 403  # may read it, not its readers
    assert api.get(f"{URL}/{sales_note}/readers", "carol").status_code == 404  # may not even see it
