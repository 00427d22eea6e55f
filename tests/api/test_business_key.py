"""A start form derives the business key from its typed references: a client cannot file an instance
under a key naming someone else's record (which `?business_key=` and message correlation would trust)."""

from __future__ import annotations

import json

import pytest

from tests.api.test_references import CONTRACT, _fields, _opportunity
from tests.bpmn_samples import process
from tests.conftest import deploy_files

INSTANCES = "/api/v1/process-instances"


def _start(api, user: str, opp_id: int, **body):  # noqa: ANN001, ANN003, ANN201
    return api.post(CONTRACT, user, json={**body, "variables": {"opportunity_id": opp_id, "title": "Contract",
                                                                "amount": 5000}})


def _listed(api, key: str) -> list[int]:  # noqa: ANN001
    return [i["id"] for i in api.get(INSTANCES, "admin", query_string={"business_key": key}).get_json()["items"]]


def test_a_business_key_naming_another_record_is_refused(api, app) -> None:  # noqa: ANN001
    mine, bobs = _opportunity(api, "alice"), _opportunity(api, "bob")
    resp = _start(api, "alice", mine["id"], business_key=f"opportunity:{bobs['id']}")
    assert _fields(resp) == ["business_key"]
    assert f"opportunity:{mine['id']}" in resp.get_json()["errors"][0]["message"]
    assert _listed(api, f"opportunity:{bobs['id']}") == []
    assert _fields(_start(api, "alice", mine["id"], business_key="")) == ["business_key"]


@pytest.mark.parametrize("sent", ["same", None])
def test_the_derived_key_is_accepted_sent_or_not(api, app, sent: str | None) -> None:  # noqa: ANN001
    mine = _opportunity(api, "alice")
    key = f"opportunity:{mine['id']}"
    resp = _start(api, "alice", mine["id"], **({"business_key": key} if sent else {}))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["business_key"] == key
    assert _listed(api, key) == [resp.get_json()["id"]]


def test_a_flow_without_a_template_keeps_the_clients_key(api, app) -> None:  # noqa: ANN001
    resp = api.post("/api/v1/process-definitions/leave_request/start", "alice", json={
        "business_key": "leave:free-text", "variables": {"leave_type": "annual", "start_date": "2027-03-01",
                                                         "end_date": "2027-03-01", "reason": "rest"}})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["business_key"] == "leave:free-text"


def _deploy_with_template(api, template) -> object:  # noqa: ANN001
    form = {"type": "object", "x-oaflow-business-key": template, "required": ["opp"], "properties": {
        "opp": {"type": "integer", "x-oaflow-ref": "crm.opportunity"}, "note": {"type": "string"}}}
    bpmn = process("keyed", """
  <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property
    name="formJsonSchemaFilename" value="keyed_start.json" /></spiffworkflow:properties>
    </bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />""")
    return deploy_files(api, "grace", {"keyed.bpmn": bpmn, "keyed_start.json": json.dumps(form).encode()})


@pytest.mark.parametrize("template", ["deal:{deal_id}", "note:{note}", "opp:{opp.__class__}", "opp:{opp!r}",
                                      "fixed", 42, "x" * 300])
def test_a_bad_template_is_a_deploy_problem(api, app, template) -> None:  # noqa: ANN001
    resp = _deploy_with_template(api, template)
    assert resp.status_code == 422, resp.get_json()
    assert any("x-oaflow-business-key" in json.dumps(e) for e in resp.get_json()["errors"]), resp.get_json()
    assert api.get("/api/v1/process-definitions/keyed", "grace").status_code == 404


def test_a_good_template_deploys_and_derives_the_key(api, app) -> None:  # noqa: ANN001
    assert _deploy_with_template(api, "deal-{opp}").status_code == 201
    opp = _opportunity(api, "alice")
    resp = api.post("/api/v1/process-definitions/keyed/start", "alice", json={"variables": {"opp": opp["id"]}})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["business_key"] == f"deal-{opp['id']}"
