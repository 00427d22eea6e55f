"""engine-rest as Camunda's REST reference documents it: history filters and counts, typed Long/Date round
trips, bpmnError variables, external task fields, unclaim of an assigned task, variables in a correlation
result; lists filtered in SQL by the caller's access (issue #17)."""

from __future__ import annotations

from tests.api.test_camunda_external_tasks import external_process
from tests.bpmn_samples import message_process, message_start_process, user_task_process
from tests.conftest import deploy_files

R = "/engine-rest"


def _start(api, key: str, user: str = "alice", business_key: str | None = None, **variables) -> dict:  # noqa: ANN001, ANN003
    resp = api.post(f"{R}/process-definition/key/{key}/start", user,
                    json={"businessKey": business_key, "variables": variables})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _ids(resp) -> list[str]:  # noqa: ANN001
    assert resp.status_code == 200, resp.get_json()
    return sorted(i["id"] for i in resp.get_json())


def test_history_filters_counts_and_one_instance(api) -> None:  # noqa: ANN001
    model = user_task_process("hist_a", 'camunda:assignee="carol"')
    assert deploy_files(api, "grace", {"h.bpmn": model}).status_code == 201
    first = _start(api, "hist_a", "alice", "bk-1")
    second = _start(api, "hist_a", "bob", "bk-2")
    [task] = api.get(f"{R}/task", "carol", query_string={"processInstanceId": first["id"]}).get_json()
    assert api.post(f"{R}/task/{task['id']}/complete", "carol", json={}).status_code == 204
    url = f"{R}/history/process-instance"
    admin = "admin"
    assert _ids(api.get(url, admin, query_string={"finished": "true", "processDefinitionKey": "hist_a"})) == \
        [first["id"]]
    assert _ids(api.get(url, admin, query_string={"unfinished": "true", "processDefinitionKey": "hist_a"})) == \
        [second["id"]]
    assert _ids(api.get(url, admin, query_string={"startedBy": "bob", "processDefinitionKey": "hist_a"})) == \
        [second["id"]]
    assert _ids(api.get(url, admin, query_string={"businessKey": "bk-1"})) == [first["id"]]
    assert _ids(api.get(url, admin, query_string={"processInstanceBusinessKey": "bk-2"})) == [second["id"]]
    assert _ids(api.get(url, admin, query_string={"superProcessInstanceId": first["id"]})) == []
    count = api.get(f"{url}/count", admin, query_string={"processDefinitionKey": "hist_a"}).get_json()
    assert count == {"count": 2}
    # access: alice reads her own instance only, in the list, the count and by id
    assert _ids(api.get(url, "alice", query_string={"processDefinitionKey": "hist_a"})) == [first["id"]]
    assert api.get(f"{url}/count", "alice", query_string={"processDefinitionKey": "hist_a"}).get_json() == {"count": 1}
    one = api.get(f"{url}/{first['id']}", "alice")
    assert one.status_code == 200 and one.get_json()["state"] == "COMPLETED" and one.get_json()["endTime"]
    assert api.get(f"{url}/{second['id']}", "alice").status_code == 404
    assert api.get(f"{R}/process-definition/count", "alice", query_string={"key": "hist_a"}).get_json() == {"count": 1}
    assert api.get(f"{R}/task/count", "bob", query_string={"processDefinitionKey": "hist_a"}).get_json() == \
        {"count": 0}  # the task of bob's instance is carol's
    assert api.get(f"{R}/task/count", "carol", query_string={"processDefinitionKey": "hist_a"}).get_json() == \
        {"count": 1}
    assert _ids(api.get(url, "carol", query_string={"processDefinitionKey": "hist_a"})) == \
        sorted([first["id"], second["id"]])  # she had or has a task in both
    assert api.get(f"{R}/process-instance/count", "bob", query_string={"processDefinitionKey": "hist_a"}).get_json() \
        == {"count": 1}


def test_long_and_date_variables_come_back_as_declared(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"t.bpmn": user_task_process("typed_back")}).status_code == 201
    inst = _start(api, "typed_back", small={"value": 5, "type": "Long"}, short={"value": 7, "type": "Short"},
                  when={"value": "2013-06-30T21:33:31.000+0200", "type": "Date"}, plain={"value": 5, "type": "Integer"})
    got = api.get(f"{R}/process-instance/{inst['id']}/variables", "alice").get_json()
    assert (got["small"]["type"], got["small"]["value"]) == ("Long", 5)
    assert (got["short"]["type"], got["short"]["value"]) == ("Short", 7)
    assert (got["when"]["type"], got["when"]["value"]) == ("Date", "2013-06-30T21:33:31.000+0200")
    assert got["plain"]["type"] == "Integer"
    [task] = api.get(f"{R}/task", "alice", query_string={"processInstanceId": inst["id"]}).get_json()
    done = api.post(f"{R}/task/{task['id']}/complete", "alice",
                    json={"variables": {"small": {"value": 6, "type": "Integer"}}, "withVariablesInReturn": True})
    assert done.get_json()["small"]["type"] == "Integer" and done.get_json()["when"]["type"] == "Date"


def test_external_task_fields_get_by_id_and_bpmn_error_variables(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"e.bpmn": external_process("ext_fields", "fields")}).status_code == 201
    inst = _start(api, "ext_fields", business_key="order-7", amount={"value": 9, "type": "Long"})
    fetch = {"workerId": "w", "maxTasks": 1, "topics": [{"topicName": "fields", "lockDuration": 10_000}]}
    [task] = api.post(f"{R}/external-task/fetchAndLock", "admin", json=fetch).get_json()
    assert task["businessKey"] == "order-7" and task["processDefinitionId"].startswith("ext_fields:1:")
    assert task["variables"]["amount"] == {"value": 9, "type": "Long", "valueInfo": {}}
    one = api.get(f"{R}/external-task/{task['id']}", "admin")
    assert one.status_code == 200 and one.get_json()["id"] == task["id"] and one.get_json()["businessKey"] == "order-7"
    assert api.get(f"{R}/external-task/{task['id']}", "alice").status_code == 403  # workers and admins only
    assert api.get(f"{R}/external-task/no-such-task", "admin").status_code == 404
    error = api.post(f"{R}/external-task/{task['id']}/bpmnError", "admin", json={
        "workerId": "w", "errorCode": "card_declined", "variables": {"reason": {"value": "expired", "type": "String"},
                                                                     "code": {"value": 51, "type": "Long"}}})
    assert error.status_code == 204, error.get_json()
    got = api.get(f"{R}/process-instance/{inst['id']}/variables", "alice").get_json()
    assert got["reason"]["value"] == "expired" and (got["code"]["type"], got["code"]["value"]) == ("Long", 51)


def test_unclaim_an_assigned_task_is_204_and_keeps_it_reachable(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"u.bpmn": user_task_process("unclaim_me")}).status_code == 201
    inst = _start(api, "unclaim_me")
    [task] = api.get(f"{R}/task", "alice", query_string={"processInstanceId": inst["id"]}).get_json()
    assert api.post(f"{R}/task/{task['id']}/unclaim", "alice").status_code == 204
    again = api.get(f"{R}/task/{task['id']}", "alice").get_json()
    assert again["assignee"] is None
    assert api.post(f"{R}/task/{task['id']}/unclaim", "alice").status_code == 204  # none to reset: still 204
    assert api.post(f"{R}/task/{task['id']}/claim", "alice", json={"userId": "alice"}).status_code == 204
    assert api.post(f"{R}/task/{task['id']}/unclaim", "bob").status_code == 404  # bob cannot see it


def test_correlation_returns_variables_when_asked(api) -> None:  # noqa: ANN001
    files = {"m.bpmn": message_process("corr_vars", "paid_v"), "s.bpmn": message_start_process("corr_start", "go_v")}
    assert deploy_files(api, "grace", files).status_code == 201
    _start(api, "corr_vars", business_key="cv-1", note={"value": "x", "type": "String"})
    resp = api.post(f"{R}/message", "admin", json={
        "messageName": "paid_v", "businessKey": "cv-1", "resultEnabled": True, "variablesInResultEnabled": True,
        "processVariables": {"paid": {"value": 12, "type": "Long"}}})
    assert resp.status_code == 200, resp.get_json()
    [result] = resp.get_json()
    assert result["resultType"] == "Execution" and result["variables"]["paid"] == {"value": 12, "type": "Long",
                                                                                 "valueInfo": {}}
    started = api.post(f"{R}/message", "admin", json={"messageName": "go_v", "resultEnabled": True,
                                                      "variablesInResultEnabled": True,
                                                      "processVariables": {"n": {"value": 1, "type": "Integer"}}})
    [result] = started.get_json()
    assert result["resultType"] == "ProcessDefinition" and result["variables"]["n"]["value"] == 1


def test_instance_lists_filter_by_access_in_the_database(api) -> None:  # noqa: ANN001
    """Paging happens after the access filter: alice's one instance is her first result even when older
    instances she may not read come first (they used to be read, 1000 at most, and dropped in Python)."""
    model = user_task_process("paged", 'camunda:assignee="carol"')
    assert deploy_files(api, "grace", {"p.bpmn": model}).status_code == 201
    hidden = [_start(api, "paged", "bob")["id"] for _ in range(3)]
    mine = _start(api, "paged", "alice")["id"]
    for url in (f"{R}/process-instance", f"{R}/history/process-instance"):
        page = api.get(url, "alice", query_string={"processDefinitionKey": "paged", "maxResults": "1"})
        assert _ids(page) == [mine], url
        assert _ids(api.get(url, "bob", query_string={"processDefinitionKey": "paged"})) == sorted(hidden)
    listed = api.get("/api/v1/process-instances", "alice", query_string={"key": "paged"}).get_json()["items"]
    assert [str(i["id"]) for i in listed] == [mine]
