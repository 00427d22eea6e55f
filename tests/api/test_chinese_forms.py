"""Forms in Chinese: property names a deployed form declares may be non-ASCII identifiers (`客户`, `金额`)."""

from __future__ import annotations

import json

from tests.bpmn_samples import process
from tests.conftest import deploy_files

FORM = {"type": "object", "required": ["客户", "金额"], "additionalProperties": False,
        "properties": {"客户": {"type": "string", "maxLength": 100}, "金额": {"type": "number"}}}


def _routing_process() -> bytes:
    return process("cn_order", """
  <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>
    <spiffworkflow:property name="formJsonSchemaFilename" value="cn_start.json" />
  </spiffworkflow:properties></bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:exclusiveGateway id="big" default="f_small"><bpmn:incoming>f1</bpmn:incoming>
    <bpmn:outgoing>f_big</bpmn:outgoing><bpmn:outgoing>f_small</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:userTask id="big_review" name="Big" camunda:assignee="alice">
    <bpmn:incoming>f_big</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="small_review" name="Small" camunda:assignee="alice">
    <bpmn:incoming>f_small</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="big" />
  <bpmn:sequenceFlow id="f_big" sourceRef="big" targetRef="big_review">
    <bpmn:conditionExpression>金额 &gt; 5</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f_small" sourceRef="big" targetRef="small_review" />
  <bpmn:sequenceFlow id="f2" sourceRef="big_review" targetRef="end" />
  <bpmn:sequenceFlow id="f3" sourceRef="small_review" targetRef="end" />""")


def _start(api, variables: dict):  # noqa: ANN001, ANN202
    return api.post("/api/v1/process-definitions/cn_order/start", "alice", json={"variables": variables})


def test_chinese_field_names_start_and_route(api) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"cn.bpmn": _routing_process(),
                                       "cn_start.json": json.dumps(FORM, ensure_ascii=False).encode()})
    assert resp.status_code == 201, resp.get_json()
    big = _start(api, {"客户": "x", "金额": 10})
    assert big.status_code == 201, big.get_json()
    assert big.get_json()["active_element_ids"] == ["big_review"]
    small = _start(api, {"客户": "y", "金额": 3})
    assert small.status_code == 201 and small.get_json()["active_element_ids"] == ["small_review"]
    got = api.get(f"/api/v1/process-instances/{big.get_json()['id']}", "alice").get_json()
    assert got["variables"]["金额"] == 10 and got["variables"]["客户"] == "x"


def test_undeclared_private_and_non_identifier_names_are_still_refused(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"cn.bpmn": _routing_process(),
                                       "cn_start.json": json.dumps(FORM).encode()}).status_code == 201
    for bad in ("__class__", "_金额", "金 额", "名字", "1金额"):
        resp = _start(api, {"客户": "x", "金额": 10, bad: 1})
        assert resp.status_code == 422, bad
        assert bad in [e["field"] for e in resp.get_json()["errors"]], (bad, resp.get_json())
