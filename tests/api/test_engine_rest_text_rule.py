"""/engine-rest holds the text rule of /api/v1 (attacker finding 2): a NUL or a lone UTF-16 surrogate in a
variable value (at any depth), a variable name, a business key, a comment or a completion is a 400
InvalidRequestException naming the field, nothing is stored, and no request is a bare 500."""

from __future__ import annotations

import json

import pytest

from tests.conftest import leave_span

START = "/engine-rest/process-definition/key/leave_request/start"


def _leave(reason: object) -> dict:
    span = leave_span(1)
    return {"leave_type": {"value": "annual"}, "start_date": {"value": span["start_date"]},
            "end_date": {"value": span["end_date"]}, "reason": reason}


def _raw(api, path: str, user: str, body: str):  # noqa: ANN001, ANN202
    """POST a body as written: json= would not let a test send a lone surrogate escape."""
    return api.client.post(path, data=body.encode(), headers=api.headers(user), content_type="application/json")


def _refused(resp, field: str) -> None:  # noqa: ANN001
    assert resp.status_code == 400, (resp.status_code, resp.get_data(as_text=True)[:300])
    problem = resp.get_json()
    assert problem["type"] == "InvalidRequestException", problem
    assert problem["message"].startswith(f"{field}:"), problem
    assert "NUL" in problem["message"] or "surrogate" in problem["message"], problem


def _instances(api) -> int:  # noqa: ANN001
    return len(api.get("/engine-rest/history/process-instance", "admin").get_json())


@pytest.mark.parametrize("value", ['"\\u0000\\ud800"', '"x\\udfff"', '"a\\u0000b"'])
def test_start_with_unstorable_reason_is_a_400_naming_the_variable(api, value: str) -> None:  # noqa: ANN001
    before = _instances(api)
    body = json.dumps({"variables": _leave({"value": "@@"})}).replace('"@@"', value)
    _refused(_raw(api, START, "alice", body), "variables.reason.value")
    assert _instances(api) == before  # nothing stored


def test_nested_values_names_business_keys_and_completions_are_refused(api) -> None:  # noqa: ANN001
    head = json.dumps({"variables": _leave({"value": "trip"})})[:-2]  # the variables object left open
    nested = head + ', "extra": {"value": {"a": [1, {"b": "\\ud800"}]}, "type": "Json"}}}'
    _refused(_raw(api, START, "alice", nested), "variables.extra.value.a.1.b")
    in_a_name = head + ', "x\\u0000": {"value": 1}}}'
    _refused(_raw(api, START, "alice", in_a_name), "variables.x\\u0000".replace("\\u0000", "\x00"))
    key = head + '}, "businessKey": "bk\\ud800\\u0000"}'
    _refused(_raw(api, START, "alice", key), "businessKey")

    started = api.post(START, "alice", json={"variables": _leave({"value": "trip"})})
    assert started.status_code == 200, started.get_json()
    [task] = [t for t in api.get("/engine-rest/task", "bob").get_json()
              if t["processInstanceId"] == started.get_json()["id"]]
    complete = f"/engine-rest/task/{task['id']}/complete"
    _refused(_raw(api, complete, "bob", '{"variables": {"approved": {"value": true}, '
                                        '"comment": {"value": "x\\ud800"}}}'), "variables.comment.value")
    assert api.get(f"/engine-rest/task/{task['id']}", "bob").status_code == 200  # still open
    done = api.post(complete, "bob", json={"variables": {"approved": {"value": True},
                                                         "comment": {"value": "ok \U0001F600"}}})
    assert done.status_code == 204, done.get_data(as_text=True)


def test_query_filters_and_cancel_reasons_are_checked_too(api) -> None:  # noqa: ANN001
    for path in ("/engine-rest/process-instance?businessKey=a%00b",
                 "/engine-rest/history/process-instance?processDefinitionKey=%00",
                 "/engine-rest/task?assignee=bob%00"):
        resp = api.get(path, "alice")
        assert resp.status_code == 400, (path, resp.get_data(as_text=True)[:300])
        assert resp.get_json()["type"] == "InvalidRequestException"
    started = api.post(START, "alice", json={"variables": _leave({"value": "trip"})}).get_json()
    resp = api.client.delete(f"/engine-rest/process-instance/{started['id']}?deleteReason=no%00pe",
                             headers=api.headers("alice"))
    assert resp.status_code == 400 and resp.get_json()["message"].startswith("deleteReason:"), resp.get_data()
    assert api.get(f"/engine-rest/process-instance/{started['id']}", "alice").status_code == 200  # still running


def test_ids_and_keys_in_the_path_are_checked_in_camunda_shape(api) -> None:  # noqa: ANN001
    """PostgreSQL refuses a NUL in a query parameter: named by the text rule, answered as Camunda answers."""
    for path in ("/engine-rest/task/a%00b", "/engine-rest/task/a%00b/variables",
                 "/engine-rest/external-task/a%00b", "/engine-rest/process-definition/key/a%00b"):
        resp = api.get(path, "admin")
        assert resp.status_code == 400, (path, resp.status_code)
        problem = resp.get_json()
        assert set(problem) == {"type", "message"} and problem["type"] == "InvalidRequestException", problem
        assert "NUL" in problem["message"], problem
    resp = api.post("/engine-rest/process-definition/key/a%00b/start", "alice", json={})
    assert resp.status_code == 400 and resp.get_json()["type"] == "InvalidRequestException"
