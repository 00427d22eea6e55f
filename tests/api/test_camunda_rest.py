"""The Camunda 7 REST subset under /engine-rest, called with plain `requests` as Camunda's reference shows,
against a real `oaflow serve`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.api.camunda_server import Server, serve
from tests.bpmn_samples import message_process, user_task_process
from tests.conftest import leave_span

DEMO = "demo"


@pytest.fixture(scope="module")
def server(db_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module (each test uses its own processes and business keys)."""
    with serve(db_template, tmp_path_factory.mktemp("camunda")) as srv:
        yield srv


def _as(user: str) -> tuple[str, str]:
    return (user, DEMO)


def _leave_variables(days: int = 2) -> dict:
    span = leave_span(days)
    return {"leave_type": {"value": "annual", "type": "String"}, "reason": {"value": "trip", "type": "String"},
            "start_date": {"value": span["start_date"], "type": "String"},
            "end_date": {"value": span["end_date"], "type": "String"}}


def _start_leave(server: Server, business_key: str, days: int = 2) -> dict:
    resp = requests.post(f"{server.base}/process-definition/key/leave_request/start", auth=_as("alice"),
                         json={"businessKey": business_key, "variables": _leave_variables(days)}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _deploy(server: Server, name: str, content: bytes, user: str = "grace") -> requests.Response:
    return requests.post(f"{server.base}/deployment/create", auth=_as(user), timeout=30,
                         data={"deployment-name": name, "enable-duplicate-filtering": "true"},
                         files={"data": (f"{name}.bpmn", content, "application/octet-stream")})


def test_definitions_list_by_key_and_start(server: Server) -> None:
    """GET /process-definition?key=, /process-definition/key/{key}, POST .../start: Camunda's field names."""
    listed = requests.get(f"{server.base}/process-definition", params={"key": "leave_request"}, auth=_as("alice"),
                          timeout=30)
    assert listed.status_code == 200
    [definition] = listed.json()
    assert definition["key"] == "leave_request" and definition["version"] == 1
    assert definition["id"].startswith("leave_request:1:") and definition["suspended"] is False
    by_key = requests.get(f"{server.base}/process-definition/key/leave_request", auth=_as("alice"), timeout=30)
    assert by_key.json() == definition

    started = _start_leave(server, "leave-cam-1")
    assert set(started) >= {"id", "definitionId", "businessKey", "ended", "suspended", "links"}
    assert started["definitionId"] == definition["id"] and started["businessKey"] == "leave-cam-1"
    assert started["ended"] is False and started["suspended"] is False
    assert started["links"][0]["rel"] == "self" and started["links"][0]["href"].endswith(started["id"])

    missing = requests.get(f"{server.base}/process-definition/key/no_such_key", auth=_as("alice"), timeout=30)
    assert missing.status_code == 404
    assert set(missing.json()) == {"type", "message"}


def test_credentials_basic_password_basic_api_key_and_bearer(server: Server) -> None:
    """Basic with a password or an API key, and Bearer, all work; wrong ones get a Camunda-shaped 401."""
    url = f"{server.base}/process-definition/key/leave_request"
    assert requests.get(url, auth=("erp", server.erp_key), timeout=30).status_code == 200
    token = requests.post(server.base.replace("/engine-rest", "/api/v1/auth/token"), timeout=30,
                          json={"username": "bob", "password": DEMO}).json()["access_token"]
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code == 200
    assert requests.get(url, headers={"Authorization": f"Bearer {server.erp_key}"}, timeout=30).status_code == 200
    for auth in (("alice", "wrong"), ("bob", server.erp_key), ("nobody", DEMO)):
        resp = requests.get(url, auth=auth, timeout=30)
        assert resp.status_code == 401, auth
        assert resp.json()["type"] == "AuthenticationException"
    assert requests.get(url, timeout=30).status_code == 401
    garbled = requests.get(url, headers={"Authorization": "Basic !!!"}, timeout=30)
    assert garbled.status_code == 401


def test_task_list_claim_complete_and_variables(server: Server) -> None:
    """bob finds the manager approval by assignee, reads its typed variables and completes it; erin claims the
    HR task by candidate group, unclaims and completes it; the history shows the instance COMPLETED."""
    inst = _start_leave(server, "leave-cam-2", days=5)
    tasks = requests.get(f"{server.base}/task", params={"assignee": "bob", "processInstanceId": inst["id"]},
                         auth=_as("bob"), timeout=30).json()
    [task] = tasks
    assert task["taskDefinitionKey"] == "manager_approval" and task["processInstanceId"] == inst["id"]
    assert task["processDefinitionId"] == inst["definitionId"] and task["assignee"] == "bob"
    got = requests.get(f"{server.base}/task/{task['id']}", auth=_as("bob"), timeout=30).json()
    assert got["id"] == task["id"] and got["name"] == "Manager approval"
    variables = requests.get(f"{server.base}/task/{task['id']}/variables", auth=_as("bob"), timeout=30).json()
    assert variables["leave_type"] == {"value": "annual", "type": "String", "valueInfo": {}}
    assert variables["days"]["type"] in ("Integer", "Double") and variables["days"]["value"] == 5

    done = requests.post(f"{server.base}/task/{task['id']}/complete", auth=_as("bob"), timeout=30,
                         json={"variables": {"approved": {"value": True, "type": "Boolean"},
                                             "comment": {"value": "ok", "type": "String"}}})
    assert done.status_code == 204, done.text
    offered = requests.get(f"{server.base}/task", params={"candidateGroup": "hr", "processInstanceId": inst["id"]},
                           auth=_as("erin"), timeout=30).json()
    [hr] = offered
    assert hr["taskDefinitionKey"] == "hr_approval" and hr["assignee"] is None
    assert requests.get(f"{server.base}/task", params={"candidateUser": "erin", "processInstanceId": inst["id"]},
                        auth=_as("erin"), timeout=30).json() == offered
    for_other = requests.post(f"{server.base}/task/{hr['id']}/claim", json={"userId": "frank"}, auth=_as("erin"),
                              timeout=30)
    assert for_other.status_code == 403 and for_other.json()["type"] == "AuthorizationException"
    claimed = requests.post(f"{server.base}/task/{hr['id']}/claim", json={"userId": "erin"}, auth=_as("erin"),
                            timeout=30)
    assert claimed.status_code == 204
    assert requests.get(f"{server.base}/task/{hr['id']}", auth=_as("erin"), timeout=30).json()["assignee"] == "erin"
    assert requests.post(f"{server.base}/task/{hr['id']}/unclaim", auth=_as("erin"), timeout=30).status_code == 204
    assert requests.get(f"{server.base}/task/{hr['id']}", auth=_as("erin"), timeout=30).json()["assignee"] is None
    assert requests.post(f"{server.base}/task/{hr['id']}/claim", json={"userId": "erin"}, auth=_as("erin"),
                         timeout=30).status_code == 204
    assert requests.post(f"{server.base}/task/{hr['id']}/complete", auth=_as("erin"), timeout=30,
                         json={"variables": {"approved": {"value": True, "type": "Boolean"}}}).status_code == 204

    history = requests.get(f"{server.base}/history/process-instance", params={"processInstanceId": inst["id"]},
                           auth=_as("alice"), timeout=30).json()
    assert [h["state"] for h in history] == ["COMPLETED"]
    assert history[0]["businessKey"] == "leave-cam-2" and history[0]["processDefinitionKey"] == "leave_request"
    assert history[0]["endTime"] is not None and history[0]["durationInMillis"] >= 0
    after = requests.get(f"{server.base}/process-instance/{inst['id']}", auth=_as("alice"), timeout=30).json()
    assert after["ended"] is True


def test_alice_cannot_see_claim_or_complete_bobs_task(server: Server) -> None:
    """Another user's task is a Camunda-shaped 404 everywhere, and absent from her lists; nothing changes."""
    inst = _start_leave(server, "leave-cam-3")
    [task] = requests.get(f"{server.base}/task", params={"processInstanceId": inst["id"]}, auth=_as("bob"),
                          timeout=30).json()
    assert requests.get(f"{server.base}/task", params={"assignee": "bob"}, auth=_as("carol"), timeout=30).json() == []
    for method, path, body in (("post", "complete", {"variables": {"approved": {"value": True,
                                                                                "type": "Boolean"}}}),
                               ("post", "claim", {"userId": "carol"}), ("get", "variables", None)):
        resp = requests.request(method, f"{server.base}/task/{task['id']}/{path}", json=body, auth=_as("carol"),
                                timeout=30)
        assert resp.status_code in (403, 404), (path, resp.text)
        assert set(resp.json()) == {"type", "message"}
    # alice started it: she may read it, but the approval is not hers to complete
    resp = requests.post(f"{server.base}/task/{task['id']}/complete", auth=_as("alice"), timeout=30,
                         json={"variables": {"approved": {"value": True, "type": "Boolean"}}})
    assert resp.status_code in (403, 404) and set(resp.json()) == {"type", "message"}
    still = requests.get(f"{server.base}/task/{task['id']}", auth=_as("bob"), timeout=30)
    assert still.status_code == 200 and still.json()["assignee"] == "bob"
    assert requests.get(f"{server.base}/process-instance/{inst['id']}", auth=_as("carol"),
                        timeout=30).status_code == 404


def test_process_instances_by_business_key_and_delete(server: Server) -> None:
    """GET /process-instance?businessKey=, GET by id, DELETE cancels (history EXTERNALLY_TERMINATED)."""
    inst = _start_leave(server, "leave-cam-4")
    listed = requests.get(f"{server.base}/process-instance", params={"businessKey": "leave-cam-4"},
                          auth=_as("alice"), timeout=30).json()
    assert [i["id"] for i in listed] == [inst["id"]]
    assert requests.get(f"{server.base}/process-instance", params={"businessKey": "leave-cam-4"},
                        auth=_as("carol"), timeout=30).json() == []
    assert requests.delete(f"{server.base}/process-instance/{inst['id']}", auth=_as("carol"),
                           timeout=30).status_code == 404
    assert requests.delete(f"{server.base}/process-instance/{inst['id']}", auth=_as("alice"),
                           timeout=30).status_code == 204
    history = requests.get(f"{server.base}/history/process-instance", params={"processInstanceId": inst["id"]},
                           auth=_as("alice"), timeout=30).json()
    assert history[0]["state"] == "EXTERNALLY_TERMINATED"
    assert requests.get(f"{server.base}/process-instance", params={"businessKey": "leave-cam-4"},
                        auth=_as("alice"), timeout=30).json() == []


def test_deployment_create_and_message_correlation(server: Server) -> None:
    """POST /deployment/create (multipart), start by key, POST /message {messageName, businessKey,
    processVariables} moves the waiting instance on."""
    denied = _deploy(server, "cam_msg", message_process("cam_msg", "cam_paid"), user="alice")
    assert denied.status_code == 403 and denied.json()["type"] == "AuthorizationException"
    deployed = _deploy(server, "cam_msg", message_process("cam_msg", "cam_paid"))
    assert deployed.status_code == 200, deployed.text
    body = deployed.json()
    [(def_id, definition)] = body["deployedProcessDefinitions"].items()
    assert definition["key"] == "cam_msg" and def_id == definition["id"] and body["name"] == "cam_msg"
    inst = requests.post(f"{server.base}/process-definition/key/cam_msg/start", auth=_as("alice"), timeout=30,
                         json={"businessKey": "order-77"}).json()
    # an employee may not move someone's instance on by a message, here as on /api/v1/messages
    employee = requests.post(f"{server.base}/message", auth=_as("carol"), timeout=30,
                             json={"messageName": "cam_paid", "businessKey": "order-77"})
    assert employee.status_code == 403 and employee.json()["type"] == "AuthorizationException", employee.text
    resp = requests.post(f"{server.base}/message", auth=("erp", server.erp_key), timeout=30,
                         json={"messageName": "cam_paid", "businessKey": "order-77",
                               "processVariables": {"amount": {"value": 12.5, "type": "Double"}}})
    assert resp.status_code == 204, resp.text
    [task] = requests.get(f"{server.base}/task", params={"processInstanceId": inst["id"]}, auth=_as("alice"),
                          timeout=30).json()
    assert task["taskDefinitionKey"] == "ship"
    variables = requests.get(f"{server.base}/process-instance/{inst['id']}/variables", auth=_as("alice"),
                             timeout=30).json()
    assert variables["amount"] == {"value": 12.5, "type": "Double", "valueInfo": {}}
    nothing = requests.post(f"{server.base}/message", auth=("erp", server.erp_key), timeout=30,
                            json={"messageName": "cam_paid", "businessKey": "no-such-order"})
    assert 400 <= nothing.status_code < 500 and set(nothing.json()) == {"type", "message"}
    bad = requests.post(f"{server.base}/message", auth=("erp", server.erp_key), timeout=30, json={"businessKey": "x"})
    assert bad.status_code == 400 and "messageName" in bad.json()["message"]


def test_typed_variables_round_trip_and_bad_values(server: Server) -> None:
    """Each Camunda type goes in and comes back typed; a value that does not fit its type is a 400 naming it."""
    assert _deploy(server, "cam_types", user_task_process("cam_types")).status_code == 200
    url = f"{server.base}/process-definition/key/cam_types/start"
    sent = {"s": {"value": "<b>x</b>", "type": "String"}, "i": {"value": 42, "type": "Integer"},
            "l": {"value": 2**40, "type": "Long"}, "d": {"value": 1.5, "type": "Double"},
            "b": {"value": False, "type": "Boolean"}, "n": {"value": None, "type": "Null"},
            "j": {"value": '{"a": [1, 2]}', "type": "Json"},
            "t": {"value": "2013-06-30T21:33:31.000+0200", "type": "Date"}}
    inst = requests.post(url, auth=_as("alice"), json={"variables": sent, "withVariablesInReturn": True},
                         timeout=30).json()
    got = requests.get(f"{server.base}/process-instance/{inst['id']}/variables", auth=_as("alice"),
                       timeout=30).json()
    assert got["s"]["type"] == "String" and got["s"]["value"] == "<b>x</b>"
    assert (got["i"]["type"], got["i"]["value"]) == ("Integer", 42)
    assert (got["l"]["type"], got["l"]["value"]) == ("Long", 2**40)
    assert (got["d"]["type"], got["d"]["value"]) == ("Double", 1.5)
    assert (got["b"]["type"], got["b"]["value"]) == ("Boolean", False)
    assert got["n"]["type"] == "Null"
    assert got["j"]["type"] == "Json" and got["j"]["value"].replace(" ", "") == '{"a":[1,2]}'
    assert (got["t"]["type"], got["t"]["value"]) == ("Date", "2013-06-30T21:33:31.000+0200")  # kept as declared
    assert inst["variables"]["i"]["value"] == 42
    for name, typed in (("i", {"value": 2**40, "type": "Integer"}), ("b", {"value": "maybe", "type": "Boolean"}),
                        ("d", {"value": "x", "type": "Double"}), ("j", {"value": "{", "type": "Json"}),
                        ("t", {"value": "yesterday", "type": "Date"}), ("s", {"value": 1, "type": "String"}),
                        ("x", {"value": 1, "type": "Bytes"})):
        resp = requests.post(url, auth=_as("alice"), json={"variables": {name: typed}}, timeout=30)
        assert resp.status_code == 400, (name, resp.text)
        assert resp.json()["type"] == "InvalidRequestException" and f"variables.{name}" in resp.json()["message"]
    too_many = {f"v{i}": {"value": i, "type": "Integer"} for i in range(201)}
    assert requests.post(url, auth=_as("alice"), json={"variables": too_many}, timeout=30).status_code == 400
    not_json = requests.post(url, auth=_as("alice"), data="[", timeout=30,
                             headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["type"] == "InvalidRequestException"
