"""A Camunda form's defaultValues pre-fill the start and task forms, and a field left empty takes its default."""

from __future__ import annotations

import re

from tests.bpmn_defaults import PURCHASE
from tests.conftest import deploy_files
from tests.web.conftest import Web


def _input(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="v:{name}"[^>]*>', html)
    assert found, f"no input {name}"
    return re.sub(r"\s+", " ", found.group(0))


def test_defaults_prefill_the_forms_and_fill_empty_fields(web: Web, api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"p.bpmn": PURCHASE}).status_code == 201
    web.login("alice")
    html = web.get("/start/purchase_defaults").get_data(as_text=True)
    assert 'value="1"' in _input(html, "quantity")
    assert 'value="2026-12-24"' in _input(html, "needed_by")
    assert re.search(r'name="v:urgent" value="true"\s+checked', html)
    assert re.search(r'<option value="office"\s+selected>', html)
    assert 'value=""' in _input(html, "note")

    resp = web.post("/start/purchase_defaults", {"v:item": "paper", "v:quantity": "", "v:needed_by": ""},
                    csrf_from="/start/purchase_defaults")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    instance_id = int(resp.headers["Location"].rsplit("/", 1)[-1])
    variables = api.get(f"/api/v1/process-instances/{instance_id}", "alice").get_json()["variables"]
    assert (variables["quantity"], variables["needed_by"], variables["urgent"]) == (1, "2026-12-24", True)

    task = next(t for t in api.tasks("bob") if t["instance_id"] == instance_id)
    web.logout()
    web.login("bob")
    page = web.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert 'value="general"' in _input(page, "budget_line") and 'value="2"' in _input(page, "approved_quantity")
