"""A form's `pattern` cannot stall the server (attacker finding 3): nested quantifiers are refused at deploy
naming the field, any pattern is matched with a time limit (a 422 naming the field, kind `pattern`, well
before a client gives up), text longer than 1000 characters is not run against a pattern, and /healthz keeps
answering meanwhile."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.bpmn_samples import process
from tests.conftest import deploy_files

SLOW = "a" * 40 + "!"  # ~2^40 steps for Python's re against ^(a|a)+$ or ^(a+)+$


def _probe(key: str) -> bytes:
    return process(key, f"""
  <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>
    <spiffworkflow:property name="formJsonSchemaFilename" value="{key}.json" />
  </spiffworkflow:properties></bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="review" name="Review" camunda:assignee="alice">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
  <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />""")


def _deploy(api, key: str, code: dict):  # noqa: ANN001, ANN202
    form = {"type": "object", "required": ["code"], "additionalProperties": False,
            "properties": {"code": {"type": "string", **code}, "note": {"type": "string"}}}
    return deploy_files(api, "grace", {f"{key}.bpmn": _probe(key), f"{key}.json": json.dumps(form).encode()})


def _start(api, key: str, code: str):  # noqa: ANN001, ANN202
    return api.post(f"/api/v1/process-definitions/{key}/start", "alice", json={"variables": {"code": code}})


@pytest.mark.parametrize("pattern", ["^(a+)+$", r"^(\w+\s?)*$", "(x+x+)+y", "^((ab)*)+$"])
def test_nested_quantifiers_are_refused_at_deploy_naming_the_field(api, pattern: str) -> None:  # noqa: ANN001
    resp = _deploy(api, "probe_form", {"pattern": pattern, "maxLength": 200})
    assert resp.status_code == 422, resp.get_json()
    messages = [e.get("message", "") for e in resp.get_json()["errors"]]
    assert any("'code'" in m and "nests quantifiers" in m for m in messages), messages
    assert api.get("/api/v1/process-definitions/probe_form", "alice").status_code == 404


def test_safe_patterns_deploy_and_still_check(api) -> None:  # noqa: ANN001
    assert _deploy(api, "probe_safe", {"pattern": r"^[a-z]+(-[a-z]+)*$"}).status_code == 201
    assert _start(api, "probe_safe", "abc-def").status_code == 201
    bad = _start(api, "probe_safe", "abc--def")
    assert bad.status_code == 422
    [error] = bad.get_json()["errors"]
    assert error["field"] == "code" and error["kind"] == "pattern", error


def test_a_backtracking_pattern_answers_fast_with_a_422_and_healthz_stays_up(api) -> None:  # noqa: ANN001
    """`^(a|a)+$` has no nested quantifier to refuse at deploy: the time limit answers for it."""
    assert _deploy(api, "probe_slow", {"pattern": "^(a|a)+$", "maxLength": 200}).status_code == 201
    api.token("alice")
    result: dict = {}

    def attack() -> None:
        started = time.monotonic()
        result["resp"] = _start(api, "probe_slow", SLOW)
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=attack)
    thread.start()
    health = api.app.test_client()
    slowest = 0.0
    while thread.is_alive():
        started = time.monotonic()
        assert health.get("/healthz").status_code == 200
        slowest = max(slowest, time.monotonic() - started)
    thread.join()
    assert result["seconds"] < 5, result["seconds"]  # Python's re: hours for 40 characters
    assert slowest < 2, slowest
    resp = result["resp"]
    assert resp.status_code == 422, resp.get_json()
    [error] = resp.get_json()["errors"]
    assert error["field"] == "code" and error["kind"] == "pattern", error
    assert _start(api, "probe_slow", "aaaa").status_code == 201  # a match still starts it


def test_text_past_the_cap_is_not_run_against_a_pattern(api) -> None:  # noqa: ANN001
    assert _deploy(api, "probe_long", {"pattern": "^a(b|b)*$"}).status_code == 201  # no maxLength of its own
    resp = _start(api, "probe_long", "a" + "b" * 5000 + "!")
    assert resp.status_code == 422
    [error] = resp.get_json()["errors"]
    assert error == {"field": "code", "kind": "maxLength", "limit": 1000, "message": error["message"]}, error
