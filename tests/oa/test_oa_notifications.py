"""Notifications: notify() from domain code and from a BPMN service task, the inbox endpoints."""

from __future__ import annotations

from sqlalchemy import select

from oa.notifications import notify
from oa.record_models import Notification
from tests.bpmn_samples import service_process
from tests.conftest import deploy_files
from tests.oa.conftest import problem_fields, run_service


def test_inbox_lists_own_only_and_marks_read(api, dbs) -> None:  # noqa: ANN001
    with dbs() as s:
        first = notify(s, "alice", "info", "Hello", body="first")
        notify(s, "alice", "info", "Second")
        other = notify(s, "bob", "info", "For bob")
        s.flush()
        first_id, other_id = first.id, other.id
    resp = api.get("/api/v1/notifications", "alice")
    body = resp.get_json()
    assert resp.status_code == 200 and body["total"] == 2 and body["unread_count"] == 2
    assert [n["title"] for n in body["items"]] == ["Second", "Hello"]
    assert all(n["user"] == "alice" for n in body["items"])
    # someone else's notification is invisible: 404, and it stays unread
    assert api.post(f"/api/v1/notifications/{other_id}/read", "alice").status_code == 404
    assert api.post("/api/v1/notifications/999999/read", "alice").status_code == 404
    resp = api.post(f"/api/v1/notifications/{first_id}/read", "alice")
    assert resp.status_code == 200 and resp.get_json()["read_at"]
    unread = api.get("/api/v1/notifications", "alice", query_string={"unread": "true"}).get_json()
    assert [n["title"] for n in unread["items"]] == ["Second"] and unread["unread_count"] == 1
    resp = api.post("/api/v1/notifications/read-all", "alice")
    assert resp.get_json() == {"marked_read": 1}
    assert api.get("/api/v1/notifications", "alice", query_string={"unread": "1"}).get_json()["total"] == 0
    bob = api.get("/api/v1/notifications", "bob", query_string={"unread": "true"}).get_json()
    assert bob["total"] == 1 and bob["items"][0]["id"] == other_id


def test_inbox_bad_input_and_auth(api) -> None:  # noqa: ANN001
    assert api.get("/api/v1/notifications").status_code == 401
    resp = api.get("/api/v1/notifications", "alice", query_string={"unread": "maybe"})
    assert resp.status_code == 422 and problem_fields(resp) == {"unread"}
    resp = api.get("/api/v1/notifications", "alice", query_string={"per_page": "0"})
    assert resp.status_code == 422 and problem_fields(resp) == {"per_page"}
    resp = api.get("/api/v1/notifications", "alice", query_string={"colour": "red"})
    assert resp.status_code == 422 and problem_fields(resp) == {"colour"}


def test_notify_operation_from_a_service_task(api, app, dbs) -> None:  # noqa: ANN001
    resp = run_service(api, "notify", {"user": "'carol'", "title": "'Pay up'", "body": "'now'"})
    assert resp.status_code == 201 and resp.get_json()["status"] == "completed", resp.get_json()
    instance_id = resp.get_json()["id"]
    items = api.get("/api/v1/notifications", "carol").get_json()["items"]
    assert len(items) == 1 and items[0]["title"] == "Pay up" and items[0]["body"] == "now"
    assert items[0]["instance_id"] == instance_id and items[0]["kind"] == "process"


def test_notify_operation_without_title_is_refused_at_deploy(api) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"tell.bpmn": service_process("tell", "notify", {"user": "'carol'"})})
    assert resp.status_code == 422 and "title" in resp.get_data(as_text=True)


def test_notify_validates(dbs) -> None:  # noqa: ANN001
    import pytest

    from store.errors import InvalidData
    with dbs() as s:
        with pytest.raises(InvalidData) as err:
            notify(s, "", "info", " ")
        assert {e["field"] for e in err.value.errors} == {"user", "title"}
        assert s.scalars(select(Notification)).all() == []


def test_notify_and_cc_reach_active_colleagues_only_and_run_no_format_code(api, app) -> None:  # noqa: ANN001
    for who in ("'nobody_such'", "'ADMIN'", "' admin '", "'erp'"):  # unknown, case, spaces, a service account
        resp = run_service(api, "notify", {"user": who, "title": "'Reset your password here'"})
        assert resp.status_code == 201 and resp.get_json()["status"] == "error", (who, resp.get_json())
    assert api.get("/api/v1/notifications", "admin").get_json()["total"] == 0
    ghosts = "'ghostx,erp,' + ','.join('u%d' % i for i in range(40)) + ',bob'"
    resp = run_service(api, "cc", {"users": ghosts})
    assert resp.status_code == 201 and resp.get_json()["status"] == "completed", resp.get_json()
    with app.app_context():
        from api.extensions import db
        from engine.models import InstanceViewer
        viewers = db.session.scalars(select(InstanceViewer.username).where(
            InstanceViewer.instance_id == resp.get_json()["id"])).all()
    assert viewers == ["bob"]  # neither a name someone may take later nor the integration account
    too_many = run_service(api, "cc", {"users": "','.join('u%d' % i for i in range(51))"})
    assert too_many.get_json()["status"] == "error"
    for key in ("{instance:>20000000}", "{instance.__class__.__mro__}", "{0}"):
        resp = run_service(api, "cc", {"users": "'carol'", "title": f'{{"key": "{key}", "params": {{}}}}'})
        assert resp.status_code == 201 and resp.get_json()["status"] == "completed", (key, resp.get_json())
    titles = [n["title"] for n in api.get("/api/v1/notifications", "carol").get_json()["items"]]
    assert sorted(titles) == sorted(["{instance:>20000000}", "{instance.__class__.__mro__}", "{0}"])  # as written
