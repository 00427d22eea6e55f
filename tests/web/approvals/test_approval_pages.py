"""The approval pages: tasks, forms, requests, the process view — happy paths, who may see what, and bad
input shown on the field."""

from __future__ import annotations

import re

from tests.web.conftest import LEAVE, Web


def _start_leave(web: Web, **over: str) -> str:
    resp = web.post("/start/leave_request", {**LEAVE, **over}, csrf_from="/start/leave_request")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    return resp.headers["Location"]


def _first_task_id(web: Web) -> str:
    html = web.get("/approvals?tab=todo").get_data(as_text=True)
    found = re.search(r"/tasks/([0-9a-f-]{36})", html)
    assert found, html[:2000]
    return found.group(1)


def test_leave_request_start_approve_and_diagram(web: Web) -> None:
    web.login("alice")
    catalogue = web.get("/start").get_data(as_text=True)
    assert 'data-key="leave_request"' in catalogue
    form = web.get("/start/leave_request").get_data(as_text=True)
    assert '<select id="f-leave_type"' in form and 'type="date"' in form and '<select id="f-start_half"' in form
    assert 'name="v:days"' not in form  # the working days are computed, not typed
    location = _start_leave(web)
    assert web.get(location).status_code == 200
    assert "Manager approval" in web.get("/requests").get_data(as_text=True)
    web.logout()

    web.login("bob")
    task_id = _first_task_id(web)
    page = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "family trip" in page and 'value="true" class="primary approve"' in page
    resp = web.post(f"/tasks/{task_id}/complete", {"v:approved": "true", "v:comment": "enjoy"},
                    csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 302
    html = web.get(location).get_data(as_text=True)
    assert 'data-outcome="approved"' in html and "enjoy" in html
    html = web.get(location + "?view=diagram").get_data(as_text=True)  # the diagram is one click away
    done = re.search(r'data-done="([^"]*)"', html).group(1)
    assert "manager_approval" in done and "mark_approved" in done and "approved_end" in done
    assert "mark_rejected" not in done
    flows = re.search(r'data-done-flows="([^"]*)"', html).group(1)
    assert "flow_short_leave" in flows and "flow_manager_rejected" not in flows


def test_reject_and_task_filters(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice")
    web.login("bob")
    assert "Manager approval" in web.get("/approvals?tab=todo&key=leave_request").get_data(as_text=True)
    assert "Nothing here." in web.get("/approvals?tab=todo&key=expense_claim").get_data(as_text=True)
    assert "Nothing here." in web.get("/approvals?tab=todo&due=overdue").get_data(as_text=True)
    assert "Manager approval" in web.get("/approvals?tab=todo&due=week").get_data(as_text=True)
    # the old task list sends its filters on to the approval centre
    old = web.get("/tasks?key=leave_request&due=week")
    assert old.status_code == 302
    assert old.headers["Location"] == "/approvals?tab=todo&key=leave_request&due=week"
    assert web.get("/tasks").headers["Location"] == "/approvals?tab=todo"
    task_id = _first_task_id(web)
    resp = web.post(f"/tasks/{task_id}/complete", {"v:approved": "false", "v:comment": "no cover that week",
                                                   "confirmed": "reject"}, csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 302
    assert "Nothing here." in web.get("/approvals?tab=todo").get_data(as_text=True)


def test_bad_filters_name_the_field(web: Web) -> None:
    web.login("alice")
    resp = web.get("/tasks?due=yesterday")
    assert resp.status_code == 422 and "due" in resp.get_data(as_text=True)
    resp = web.get("/approvals?tab=todo&due=yesterday")
    assert resp.status_code == 422 and "due" in resp.get_data(as_text=True)
    resp = web.get("/tasks?colour=red")
    assert resp.status_code == 422 and "colour" in resp.get_data(as_text=True)
    assert web.get("/requests?status=lost").status_code == 422


def test_start_form_errors_are_shown_on_the_fields(web: Web) -> None:
    web.login("alice")
    resp = web.post("/start/leave_request", {**LEAVE, "v:end_date": "2026-11-30"}, csrf_from="/start/leave_request")
    html = resp.get_data(as_text=True)  # the start check (computed days) names the field like the form does
    assert resp.status_code == 422 and 'id="err-end_date"' in html and "must not be before start_date" in html
    assert ">family trip</textarea>" in html  # what was typed is kept
    resp = web.post("/start/leave_request", {**LEAVE, "v:start_date": "lots", "v:reason": ""},
                    csrf_from="/start/leave_request")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'id="err-start_date"' in html and 'id="err-reason"' in html
    resp = web.post("/start/leave_request", {**LEAVE, "v:leave_type": "holiday"}, csrf_from="/start/leave_request")
    assert resp.status_code == 422 and 'id="err-leave_type"' in resp.get_data(as_text=True)
    assert web.get("/requests").get_data(as_text=True).count("/instances/") == 0


def test_task_form_errors_and_comment(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice")
    web.login("bob")
    task_id = _first_task_id(web)
    resp = web.post(f"/tasks/{task_id}/complete", {"v:approved": "maybe"}, csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 422 and 'id="err-approved"' in resp.get_data(as_text=True)
    resp = web.post(f"/tasks/{task_id}/complete", {}, csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 422 and "is required" in resp.get_data(as_text=True)
    resp = web.post(f"/tasks/{task_id}/comment", {"text": "please add dates"}, csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 302
    assert "please add dates" in web.get(f"/tasks/{task_id}").get_data(as_text=True)
    resp = web.post(f"/tasks/{task_id}/comment", {"text": " "}, csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 422 and "text" in resp.get_data(as_text=True)


def test_other_peoples_tasks_and_instances_are_not_found(web: Web, api) -> None:  # noqa: ANN001
    inst = api.start_leave("alice").get_json()
    task_id = api.tasks("bob")[0]["id"]
    web.login("carol")
    assert web.get(f"/tasks/{task_id}").status_code == 404
    assert web.post(f"/tasks/{task_id}/complete", {"v:approved": "true"}).status_code == 404
    assert web.get(f"/instances/{inst['id']}").status_code == 404
    assert web.get("/tasks/not-a-task").status_code == 404
    assert web.post(f"/requests/{inst['id']}/withdraw").status_code == 404
    web.logout()
    # the starter sees the task page but may not work it
    web.login("alice")
    page = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "task-form" not in page
    assert web.post(f"/tasks/{task_id}/complete", {"v:approved": "true"}).status_code == 403


def test_group_task_claim_and_unclaim(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice", days=5)
    bob_task = api.tasks("bob")[0]["id"]
    assert api.post(f"/api/v1/tasks/{bob_task}/complete", "bob", json={"variables": {"approved": True}}).status_code \
        == 200
    web.login("erin")
    task_id = _first_task_id(web)
    assert "Take it" in web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert web.post(f"/tasks/{task_id}/claim").status_code == 302
    assert "Give back to the group" in web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert web.post(f"/tasks/{task_id}/unclaim").status_code == 302


def test_withdraw_my_request(web: Web) -> None:
    web.login("alice")
    location = _start_leave(web)
    instance_id = int(location.rsplit("/", 1)[1])
    resp = web.post(f"/requests/{instance_id}/withdraw", csrf_from="/requests")
    assert resp.status_code == 302
    assert "s-cancelled" in web.get(location).get_data(as_text=True)
    assert web.post(f"/requests/{instance_id}/withdraw", csrf_from="/requests").status_code == 409


def test_batch_approve_from_the_task_list(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice")
    api.start_leave("alice")
    ids = [t["id"] for t in api.tasks("bob")]
    web.login("bob")
    assert 'name="task_ids"' in web.get("/approvals?tab=todo").get_data(as_text=True)
    resp = web.post("/tasks/batch", {"task_ids": ids, "approved": "true", "comment_text": "all fine"},
                    csrf_from="/approvals?tab=todo")
    assert resp.status_code == 302
    assert "Nothing here." in web.get("/approvals?tab=todo").get_data(as_text=True)
    resp = web.post("/tasks/batch", {"approved": "true"}, csrf_from="/approvals")
    assert resp.status_code == 422 and "task_ids" in resp.get_data(as_text=True)
    web.logout()
    web.login("carol")
    assert web.post("/tasks/batch", {"task_ids": ids, "approved": "true"}).status_code == 404


def test_transfer_and_urge(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice")
    task_id = api.tasks("bob")[0]["id"]
    web.login("alice")
    resp = web.post(f"/tasks/{task_id}/urge", csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 302
    web.logout()
    web.login("bob")
    resp = web.post(f"/tasks/{task_id}/transfer", {"to": ""}, csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 422 and "to" in resp.get_data(as_text=True)
    resp = web.post(f"/tasks/{task_id}/transfer", {"to": "dave"}, csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 302
    assert api.tasks("dave")[0]["id"] == task_id
    assert web.post(f"/tasks/{task_id}/explode", csrf_from="/").status_code == 404


def test_no_page_links_to_the_old_task_list(web: Web, api) -> None:  # noqa: ANN001
    """The navigation, the home tiles and the centre link to /approvals; only a task's own page is /tasks/<id>."""
    api.start_leave("alice")
    web.login("bob")
    for path in ("/", "/approvals", "/approvals?tab=done", "/requests", "/notifications"):
        html = web.get(path).get_data(as_text=True)
        assert not re.search(r'href="/tasks(\?[^"]*)?"', html), path
    home = web.get("/").get_data(as_text=True)
    assert 'href="/approvals?tab=todo&amp;due=overdue"' in home


def test_my_requests_names_the_waiting_group_in_the_readers_language(web: Web, api) -> None:  # noqa: ANN001
    inst = api.post("/api/v1/process-definitions/expense_claim/start", "alice", json={"variables": {"items": [
        {"category": "travel", "amount": 120, "date": "2026-11-20", "description": "taxi"}]}}).get_json()
    task = next(t for t in api.tasks("bob", assignee="me") if t["instance_id"] == inst["id"])
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": True}}).status_code == 200
    web.login("alice")
    web.get("/lang/zh_CN")
    row = web.get("/requests").get_data(as_text=True)
    assert "(财务)" in row, row  # the finance group, not its key
    assert "(finance)" not in row
