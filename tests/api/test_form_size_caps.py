"""Form schemas are capped at deploy: file size, option-list length, text length and nesting (issue #17: a
unique 4.8 MB enum deployed without limit). Each refusal names the file (or element) and where."""

from __future__ import annotations

import json

from tests.api.test_foreign_models import SPIFF_FORM_MODEL
from tests.bpmn_samples import process
from tests.conftest import deploy_files


def _deploy_form(api, schema: object | bytes):  # noqa: ANN001, ANN202
    raw = schema if isinstance(schema, bytes) else json.dumps(schema).encode()
    return deploy_files(api, "grace", {"spiff_forms.bpmn": SPIFF_FORM_MODEL, "pick-schema.json": raw,
                                       "pick-uischema.json": b"{}"})


def _color(**extra: object) -> dict:
    return {"type": "object", "properties": {"color": {"type": "string", **extra}}}


def _errors(resp) -> list[dict]:  # noqa: ANN001
    assert resp.status_code == 422, resp.get_json()
    return resp.get_json()["errors"]


def test_huge_or_long_option_lists_are_refused_naming_the_place(api) -> None:  # noqa: ANN001
    huge = _color(enum=[f"option-{i:07d}-" + "x" * 300 for i in range(15_000)])  # ~4.8 MB, unique values
    [error] = _errors(_deploy_form(api, huge))
    assert error["file"] == "pick-schema.json" and "at most 262144" in error["message"]
    [error] = _errors(_deploy_form(api, _color(enum=[str(i) for i in range(1001)])))
    assert "/properties/color/enum: 1001 options; at most 1000" in error["message"]
    many = [{"const": str(i), "title": str(i)} for i in range(1500)]
    assert "/properties/color/anyOf" in _errors(_deploy_form(api, _color(anyOf=many)))[0]["message"]
    assert "/properties/color/title" in _errors(_deploy_form(api, _color(title="t" * 3000)))[0]["message"]
    deep = b'{"a":' * 20_000 + b"1" + b"}" * 20_000
    assert _errors(_deploy_form(api, deep))[0]["file"] == "pick-schema.json"
    assert _deploy_form(api, _color(enum=[str(i) for i in range(1000)])).status_code == 201


def test_camunda_generated_form_with_too_many_values_names_the_element(api) -> None:  # noqa: ANN001
    values = "".join(f'<camunda:value id="v{i}" name="V{i}" />' for i in range(1200))
    model = process("big_enum", f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="choose" name="Choose" camunda:assignee="alice">
    <bpmn:extensionElements><camunda:formData>
      <camunda:formField id="pick" label="Pick" type="enum">{values}</camunda:formField>
    </camunda:formData></bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="choose" />
  <bpmn:sequenceFlow id="f2" sourceRef="choose" targetRef="end" />""")
    [error] = _errors(deploy_files(api, "grace", {"big.bpmn": model}))
    assert error["element_id"] == "choose" and "1200 options" in error["message"]
