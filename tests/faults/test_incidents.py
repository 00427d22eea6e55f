"""A script that raises stops its instance with an incident an admin can see, fix and retry."""

from __future__ import annotations

from engine.models import HistoryEvent, ProcessInstance, Task
from tests.bpmn_samples import script_process, service_chain_process, service_process
from tests.conftest import deploy_files
from tests.faults.conftest import count_rows

SCRIPT = "total = amount / count"


def _start_failing(api) -> dict:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"avg.bpmn": script_process("average", SCRIPT)})
    assert resp.status_code == 201, resp.get_json()
    resp = api.post("/api/v1/process-definitions/average/start", "alice",
                    json={"variables": {"amount": 10, "count": 0}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_failing_script_is_an_incident_fixed_by_data_and_retry(api, app) -> None:  # noqa: ANN001
    inst = _start_failing(api)
    assert inst["status"] == "error"
    assert inst["error"]["element_id"] == "script" and "ZeroDivisionError" in inst["error"]["message"]
    assert inst["active_tasks"] == []
    # the admin sees it in the list of instances in error
    listed = api.get("/api/v1/process-instances", "admin", query_string={"status": "error"}).get_json()
    assert [i["id"] for i in listed["items"]] == [inst["id"]]
    assert listed["items"][0]["error"]["element_id"] == "script"
    # the server keeps serving other work meanwhile
    assert api.start_leave("alice").status_code == 201
    base = f"/api/v1/process-instances/{inst['id']}"
    # fix the data: count = 4
    resp = api.client.put(base + "/variables", json={"variables": {"count": 4}}, headers=api.headers("admin"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "error" and resp.get_json()["variables"]["count"] == 4
    resp = api.post(base + "/retry", "admin")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "running" and body["error"] is None
    assert body["variables"]["total"] == 2.5
    assert [t["element_id"] for t in body["active_tasks"]] == ["review"]
    history = [h["type"] for h in api.get(base + "/history", "admin").get_json()["items"]]
    assert history.index("error") < history.index("variables_changed") < history.index("retried")
    # and the instance finishes normally
    task = api.tasks("alice", assignee="me", instance_id=inst["id"])[0]
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "alice", json={}).status_code == 200
    assert api.get(base, "alice").get_json()["status"] == "completed"


def test_variables_endpoint_guards(api, app) -> None:  # noqa: ANN001
    inst = _start_failing(api)
    base = f"/api/v1/process-instances/{inst['id']}"

    def put(user: str, body: object, path: str = base + "/variables"):  # noqa: ANN202
        return api.client.put(path, json=body, headers=api.headers(user))

    mine = HistoryEvent.instance_id == inst["id"]
    events = count_rows(app, HistoryEvent, mine)
    # not an admin: 403 (even the starter)
    assert put("alice", {"variables": {"count": 1}}).status_code == 403
    assert put("bob", {"variables": {"count": 1}}).status_code == 403
    # unknown instance: 404
    assert put("admin", {"variables": {"count": 1}}, "/api/v1/process-instances/999999/variables").status_code == 404
    # bad bodies name the field
    for body, field in (({}, "variables"), ({"variables": [1]}, "variables"),
                        ({"variables": {"count": 1}, "status": "running"}, "status"),
                        ({"variables": {"initiator": "dave"}}, "initiator"),
                        ({"variables": {"__class__": 1}}, "__class__"),
                        ({"variables": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": {
                            "l": {"m": 1}}}}}}}}}}}}}}, "variables")):
        resp = put("admin", body)
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json", (body, resp.get_json())
        assert field in [e["field"] for e in resp.get_json()["errors"]], (body, resp.get_json())
    resp = api.client.put(base + "/variables", data=b"{not json", headers={**api.headers("admin"),
                                                                           "Content-Type": "application/json"})
    assert resp.status_code == 400
    assert count_rows(app, HistoryEvent, mine) == events
    # a running instance is not in error: 409
    running = api.start_leave("alice").get_json()
    resp = put("admin", {"variables": {"days": 1}}, f"/api/v1/process-instances/{running['id']}/variables")
    assert resp.status_code == 409
    assert count_rows(app, HistoryEvent, mine) == events
    with app.app_context():
        from api.extensions import db
        assert db.session.get(ProcessInstance, inst["id"]).status == "error"
        assert db.session.query(Task).filter_by(instance_id=inst["id"]).count() == 0


def test_a_failed_operation_sends_none_of_its_notifications(api, app) -> None:  # noqa: ANN001
    """Notifications an operation queues go out with its step only if the operation succeeds."""
    def notify_then_fail(call) -> dict:  # noqa: ANN001
        call.notify(["dave"], "info", f"from the operation (fail={call.params['fail']})", "")
        if call.params["fail"]:
            raise RuntimeError("the operation broke after queueing a notification")
        return {"ok": True}

    app.extensions["oaflow_engine"].services.register("test.notify_then_fail", notify_then_fail, params={"fail"})
    model = service_process("notify_then_fail", "test.notify_then_fail", {"fail": "fail"})
    assert deploy_files(api, "grace", {"notify_then_fail.bpmn": model}).status_code == 201
    start = "/api/v1/process-definitions/notify_then_fail/start"
    failed = api.post(start, "alice", json={"variables": {"fail": True}}).get_json()
    assert failed["status"] == "error" and "broke" in failed["error"]["message"]
    done = api.post(start, "alice", json={"variables": {"fail": False}}).get_json()
    assert done["status"] == "completed"
    titles = [n["title"] for n in api.get("/api/v1/notifications", "dave").get_json()["items"]]
    assert "from the operation (fail=False)" in titles and "from the operation (fail=True)" not in titles


def test_a_failed_operation_leaves_none_of_its_writes_and_the_step_before_it_stands(api, app) -> None:  # noqa: ANN001
    """Three operations in one step: the first writes and succeeds; the second writes, then breaks a unique
    constraint (on PostgreSQL that spoils the whole transaction). The instance stops in `error` at the second,
    with the first one's record and history saved and nothing of the second's; the third never runs."""
    from sqlalchemy import insert

    from oa.models import User
    from oa.notifications import notify

    def write(call) -> dict:  # noqa: ANN001
        notify(call.session, "dave", "info", f"written by {call.params['tag']}")
        call.session.flush()
        if call.params["tag"] == "second":
            call.session.execute(insert(User.__table__).values(username="alice", display_name="twin"))
        return {"ok": True}

    app.extensions["oaflow_engine"].services.register("test.write", write, params={"tag"})
    model = service_chain_process("write_chain", [("first", "test.write", {"tag": "'first'"}),
                                                  ("second", "test.write", {"tag": "'second'"}),
                                                  ("third", "test.write", {"tag": "'third'"})])
    assert deploy_files(api, "grace", {"write_chain.bpmn": model}).status_code == 201
    users = count_rows(app, User)
    resp = api.post("/api/v1/process-definitions/write_chain/start", "alice", json={"variables": {}})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()
    assert inst["status"] == "error" and inst["error"]["element_id"] == "second", inst
    assert "test.write" in inst["error"]["message"] and "failed" in inst["error"]["message"]
    assert inst["variables"]["result_first"] == {"ok": True} and "result_second" not in inst["variables"]
    titles = [n["title"] for n in api.get("/api/v1/notifications", "dave").get_json()["items"]]
    assert "written by first" in titles
    assert "written by second" not in titles and "written by third" not in titles
    assert count_rows(app, User) == users
    history = api.get(f"/api/v1/process-instances/{inst['id']}/history", "alice").get_json()["items"]
    called = [h["element_id"] for h in history if h["type"] == "service_called"]
    assert called == ["first"]
    assert [h["element_id"] for h in history if h["type"] == "error"] == ["second"]
    assert [h["type"] for h in history].count("started") == 1  # the re-run left no trace of the first attempt
