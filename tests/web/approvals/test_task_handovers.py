"""Hand-overs on the web task page: a delegate is offered only approve and comment, an admin may reassign a
stranded task, the outcome says what happened (with the person's name) on the approval centre, and service
accounts are never offered in the people picker."""

from __future__ import annotations

from tests.web.conftest import Web


def _task_id(api, user: str) -> str:  # noqa: ANN001
    tasks = api.tasks(user, assignee="me")
    assert tasks, f"{user} has no task"
    return tasks[0]["id"]


def test_delegate_sees_only_approve_and_comment(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice", days=1)
    task_id = _task_id(api, "bob")
    assert api.post(f"/api/v1/tasks/{task_id}/delegate", "bob", json={"to": "carol"}).status_code == 200
    web.login("carol")
    page = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="task-form"' in page and "action-transfer" not in page and 'id="unclaim"' not in page
    assert "action-add-signer" not in page and "action-return" not in page
    resp = web.post(f"/tasks/{task_id}/transfer", {"to": "dave"}, csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 409 and 'id="task-form"' in resp.get_data(as_text=True)  # inline, not a dead end
    assert api.tasks("carol", assignee="me")[0]["id"] == task_id


def test_admin_reassigns_and_the_centre_says_what_happened(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice", days=1)
    task_id = _task_id(api, "bob")
    web.login("admin")
    page = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "action-transfer" in page and 'id="task-form"' not in page and 'id="urge"' not in page
    assert web.post(f"/tasks/{task_id}/transfer", {"to": "erp"}, csrf_from=f"/tasks/{task_id}").status_code == 422
    resp = web.post(f"/tasks/{task_id}/transfer", {"to": "dave"}, csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/approvals")
    assert "Transferred to Dave (General Manager)." in web.get("/approvals").get_data(as_text=True)
    assert api.tasks("dave", assignee="me")[0]["id"] == task_id
    web.logout()
    web.login("dave")
    resp = web.post(f"/tasks/{task_id}/complete", {"v:approved": "true"}, csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/approvals")
    assert "Approved." in web.get("/approvals").get_data(as_text=True)


def test_people_picker_offers_no_service_account(web: Web) -> None:
    web.login("alice")
    assert web.get("/people?q=erp").get_json() == []
    assert "erp" not in [p["username"] for p in web.get("/people?q=").get_json()]
    assert "dave" in [p["username"] for p in web.get("/people?q=").get_json()]


def test_added_signers_approval_reads_approved(web: Web, api) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", days=1).get_json()["id"]
    task_id = _task_id(api, "bob")
    assert api.post(f"/api/v1/tasks/{task_id}/add-signer", "bob",
                    json={"user": "dave", "position": "before"}).status_code == 200
    assert api.post(f"/api/v1/tasks/{task_id}/complete", "dave",
                    json={"variables": {"approved": True}}).status_code == 200
    web.login("alice")
    html = web.get(f"/instances/{inst}").get_data(as_text=True)
    assert "Signed" not in html and html.count("Approved") >= 1


def test_batch_approve_from_the_centre_lists_failures(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice", days=1)
    api.start_leave("alice", days=1)
    ids = [t["id"] for t in api.tasks("bob", assignee="me")]
    assert len(ids) == 2
    web.login("bob")
    page = web.get("/approvals?tab=todo").get_data(as_text=True)
    assert 'id="centre-batch"' in page and "data-confirm=" in page and page.count('name="task_ids"') == 2
    assert 'id="centre-batch"' not in web.get("/approvals?tab=mine").get_data(as_text=True)
    assert api.post(f"/api/v1/tasks/{ids[1]}/transfer", "bob", json={"to": "dave"}).status_code == 200
    resp = web.post("/tasks/batch", {"task_ids": ids, "approved": "true"}, csrf_from="/approvals")
    assert resp.status_code == 302 and "/approvals" in resp.headers["Location"]
    html = web.get("/approvals?tab=todo").get_data(as_text=True)
    assert "1 of 2 tasks completed." in html and f"({ids[1][:8]})" in html  # the failed one is named
    assert api.get(f"/api/v1/tasks/{ids[0]}", "bob").get_json()["status"] == "completed"


def test_task_page_names_people_and_says_to_do_or_handled(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice", days=1)
    task_id = _task_id(api, "bob")
    web.login("bob")
    html = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "<dd>Alice (Sales Rep)</dd>" in html and "Bob (Head of Sales)" in html
    assert 'id="task-status">To do<' in html
    assert api.post(f"/api/v1/tasks/{task_id}/complete", "bob", json={"variables": {"approved": True}}) \
        .status_code == 200
    assert 'id="task-status">Handled<' in web.get(f"/tasks/{task_id}").get_data(as_text=True)


def test_the_json_lookups_answer_401_without_a_session(web: Web) -> None:
    for path in ("/people?q=bo", "/pick/crm.customer?q=a"):
        resp = web.client.get(path)
        assert resp.status_code == 401 and resp.mimetype == "application/problem+json", (path, resp.status_code)
    assert web.client.get("/approvals").status_code == 302  # a page still sends the browser to log in
