"""Json variables are capped in nesting depth and size on every entry point (engine-rest and /api/v1): a 400
naming the variable, never a 500 (issue #17: a 50,000-deep value raised RecursionError)."""

from __future__ import annotations

import json

from tests.bpmn_samples import user_task_process
from tests.conftest import deploy_files

DEEP = "[" * 50_000 + "]" * 50_000


def _nested(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


def test_deep_or_huge_json_variables_are_a_400_naming_the_variable(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"j.bpmn": user_task_process("json_caps")}).status_code == 201
    url = "/engine-rest/process-definition/key/json_caps/start"
    for name, typed in (("deep_text", {"value": DEEP, "type": "Json"}),
                        ("deep_value", {"value": _nested(11), "type": "Json"}),
                        ("untyped", {"value": _nested(40)}),
                        ("huge", {"value": json.dumps(["x" * 1000] * 300), "type": "Json"})):
        resp = api.post(url, "alice", json={"variables": {name: typed}})
        assert resp.status_code == 400, (name, resp.get_data(as_text=True)[:300])
        problem = resp.get_json()
        assert problem["type"] == "InvalidRequestException" and f"variables.{name}" in problem["message"]
    ok = api.post(url, "alice", json={"variables": {"fine": {"value": json.dumps(_nested(9)), "type": "Json"}}})
    assert ok.status_code == 200, ok.get_json()


def test_deep_bodies_are_a_400_on_engine_rest_and_api_v1(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"j.bpmn": user_task_process("json_body")}).status_code == 201
    body = '{"variables": {"x": {"value": ' + DEEP + "}}}"
    for url in ("/engine-rest/process-definition/key/json_body/start", "/engine-rest/message",
                "/api/v1/process-definitions/json_body/start", "/api/v1/messages"):
        user = "admin" if "message" in url else "alice"  # correlating needs the integrator or admin role
        resp = api.client.post(url, data=body, content_type="application/json", headers=api.headers(user))
        assert resp.status_code == 400, (url, resp.status_code, resp.get_data(as_text=True)[:300])
    deep_but_parseable = json.dumps({"variables": {"x": _nested(200)}})
    resp = api.client.post("/api/v1/process-definitions/json_body/start", data=deep_but_parseable,
                           content_type="application/json", headers=api.headers("alice"))
    assert resp.status_code == 422 and "nested deeper" in resp.get_data(as_text=True)


def test_huge_values_are_refused_on_api_v1_naming_the_variable(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"j.bpmn": user_task_process("json_v1")}).status_code == 201
    url = "/api/v1/process-definitions/json_v1/start"
    resp = api.post(url, "alice", json={"variables": {"blob": ["x" * 1000] * 300}})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "blob", resp.get_json()
    assert api.post(url, "alice", json={"variables": {"text": "y" * 300_000}}).status_code == 422
    assert api.post(url, "alice", json={"variables": {"blob": ["x" * 1000] * 200}}).status_code == 201
