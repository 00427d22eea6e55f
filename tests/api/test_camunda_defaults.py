"""camunda:formField defaultValue: typed in the generated schema and used for a field a submission leaves out
(as Camunda does); an expression default has no static value."""

from __future__ import annotations

from tests.bpmn_defaults import PURCHASE
from tests.conftest import deploy_files

START = "/api/v1/process-definitions/purchase_defaults/start"


def test_left_out_fields_take_their_default_value(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"p.bpmn": PURCHASE}).status_code == 201
    resp = api.post(START, "alice", json={"variables": {"item": "paper"}})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()
    variables = api.get(f"/api/v1/process-instances/{inst['id']}", "alice").get_json()["variables"]
    assert {k: variables.get(k) for k in ("item", "quantity", "urgent", "needed_by", "category")} == {
        "item": "paper", "quantity": 1, "urgent": True, "needed_by": "2026-12-24", "category": "office"}
    assert "note" not in variables  # ${initiator} is an expression: no static default

    explicit = api.post(START, "alice", json={"variables": {"item": "pens", "quantity": 7, "urgent": False,
                                                             "category": "it"}}).get_json()
    variables = api.get(f"/api/v1/process-instances/{explicit['id']}", "alice").get_json()["variables"]
    assert (variables["quantity"], variables["urgent"], variables["category"]) == (7, False, "it")

    task = next(t for t in api.tasks("bob") if t["instance_id"] == inst["id"])
    schema = api.get(f"/api/v1/tasks/{task['id']}", "bob").get_json()["form"]["schema"]["properties"]
    assert schema["budget_line"]["default"] == "general" and schema["approved_quantity"]["default"] == 2
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob", json={"variables": {}}).status_code == 200
    history = api.get(f"/api/v1/process-instances/{inst['id']}/history", "alice").get_json()["items"]
    done = next(h for h in history if h["type"] == "task_completed")
    assert done["data"]["variables"] == {"budget_line": "general", "approved_quantity": 2}
