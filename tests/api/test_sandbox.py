"""Hostile scripts in uploaded BPMN: refused at deploy, or the instance ends in `error` with a clear
message while the server keeps serving and nothing leaks out."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.bpmn_samples import script_process
from tests.conftest import deploy_files

MARKER = Path("/tmp/oaflow-sandbox-marker")

REFUSED_AT_DEPLOY = {
    "subclasses": "x = ().__class__.__base__.__subclasses__()",
    "dunder_import": "os = __import__('os')",
    "import": "import os",
    "open": f"f = open('{MARKER}', 'w')",
}
ERROR_AT_RUN = {
    "endless_loop": "while True:\n    pass",
    "huge_list": "x = [0] * 10**9",
    "huge_range": "x = list(range(10**9))",
    "huge_comprehension": "x = [i for i in range(10**9)]",
    "huge_power": "x = 10**10**10",
    "zero_division": "x = 1 / 0",
}


@pytest.mark.parametrize("name", sorted(REFUSED_AT_DEPLOY))
def test_hostile_script_is_refused_at_deploy(api, name: str) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {f"{name}.bpmn": script_process(f"hostile_{name}", REFUSED_AT_DEPLOY[name])})
    assert resp.status_code == 422, resp.get_json()
    problem = next(p for p in resp.get_json()["errors"] if p["element_id"] == "script")
    assert problem["message"] and problem["line"]
    assert not MARKER.exists()


@pytest.mark.parametrize("name", sorted(ERROR_AT_RUN))
def test_hostile_script_ends_the_instance_in_error(api, name: str) -> None:  # noqa: ANN001
    key = f"runtime_{name}"
    assert deploy_files(api, "grace", {f"{key}.bpmn": script_process(key, ERROR_AT_RUN[name])}).status_code == 201
    started = time.monotonic()
    resp = api.post(f"/api/v1/process-definitions/{key}/start", "alice", json={})
    elapsed = time.monotonic() - started
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()
    assert inst["status"] == "error"
    assert inst["error"]["element_id"] == "script" and len(inst["error"]["message"]) > 10
    assert inst["active_tasks"] == []  # the user task after the script was never reached
    assert elapsed < 10
    history = api.get(f"/api/v1/process-instances/{inst['id']}/history", "alice").get_json()["items"]
    assert history[-1]["type"] == "error" and history[-1]["element_id"] == "script"
    # the server keeps serving: a normal request right after works
    assert api.start_leave("alice").status_code == 201


def test_time_limit_message_is_clear(api) -> None:  # noqa: ANN001
    deploy_files(api, "grace", {"loop.bpmn": script_process("loop_forever", "while True:\n    pass")})
    inst = api.post("/api/v1/process-definitions/loop_forever/start", "alice", json={}).get_json()
    assert "time limit" in inst["error"]["message"]


def test_a_good_script_runs_and_reads_process_data(api) -> None:  # noqa: ANN001
    script = "total = sum(i['amount'] for i in items)\nlabel = initiator + ':' + str(total)"
    deploy_files(api, "grace", {"ok.bpmn": script_process("good_script", script)})
    resp = api.post("/api/v1/process-definitions/good_script/start", "alice",
                    json={"variables": {"items": [{"amount": 10}, {"amount": 32.5}]}})
    inst = resp.get_json()
    assert inst["status"] == "running", inst
    assert inst["variables"]["total"] == 42.5 and inst["variables"]["label"] == "alice:42.5"


def test_admin_retries_an_instance_after_an_incident(api) -> None:  # noqa: ANN001
    deploy_files(api, "grace", {"div.bpmn": script_process("divide", "ratio = 10 / count")})
    inst = api.post("/api/v1/process-definitions/divide/start", "alice", json={"variables": {"count": 0}}).get_json()
    assert inst["status"] == "error" and "ZeroDivisionError" in inst["error"]["message"]
    url = f"/api/v1/process-instances/{inst['id']}/retry"
    assert api.post(url, "alice").status_code == 403
    again = api.post(url, "admin")
    assert again.status_code == 200 and again.get_json()["status"] == "error"  # same data, same failure
    history = api.get(f"/api/v1/process-instances/{inst['id']}/history", "admin").get_json()["items"]
    assert [h["type"] for h in history].count("error") == 2 and "retried" in [h["type"] for h in history]


def test_a_loop_without_a_wait_state_becomes_an_incident(api) -> None:  # noqa: ANN001
    from tests.bpmn_samples import process
    loop = process("busy_loop", """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:exclusiveGateway id="again" default="f3"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:scriptTask id="spin" name="Spin"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    <bpmn:script>n = 1</bpmn:script></bpmn:scriptTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="again" />
  <bpmn:sequenceFlow id="f2" sourceRef="again" targetRef="spin">
    <bpmn:conditionExpression>True</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f3" sourceRef="again" targetRef="end" />
  <bpmn:sequenceFlow id="f4" sourceRef="spin" targetRef="again" />""")
    assert deploy_files(api, "grace", {"loop.bpmn": loop}).status_code == 201
    started = time.monotonic()
    inst = api.post("/api/v1/process-definitions/busy_loop/start", "alice", json={}).get_json()
    assert inst["status"] == "error", inst
    assert "wait state" in inst["error"]["message"]
    assert time.monotonic() - started < 30
    assert api.start_leave("alice").status_code == 201


# A condition that works ~20 allowed but slow big-integer divisions (about 10 ms each, the GIL released
# between them), then asks for modular powers whose single C-level call would hold the GIL for seconds.
HOSTILE_CONDITION = ("len([((1 << 99000) + 7) // ((1 << 50000) + 1) for i in range(20)]"
                     " + [pow(3, 10**30, (1 << 99000) + 1) for i in range(3)]) > 0")


def _hostile_gateway(key: str) -> bytes:
    from xml.sax.saxutils import escape

    from tests.bpmn_samples import process
    return process(key, f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:exclusiveGateway id="decide" default="f3"><bpmn:incoming>f1</bpmn:incoming>
    <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:userTask id="review" name="Review" camunda:assignee="alice">
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide" />
  <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="review">
    <bpmn:conditionExpression>{escape(HOSTILE_CONDITION)}</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f3" sourceRef="decide" targetRef="end" />
  <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="end" />""")


def test_healthz_answers_while_a_hostile_condition_is_refused(api, database_url, tmp_path) -> None:  # noqa: ANN001
    """The real served app with one worker process: while one request evaluates a hostile gateway
    condition, /healthz from another thread keeps answering within a second."""
    import threading

    from tests.faults.conftest import http, login, start_server

    deployed = deploy_files(api, "grace", {"hostile.bpmn": _hostile_gateway("hostile_gateway")})
    assert deployed.status_code == 201, deployed.get_json()
    server = start_server(database_url, tmp_path, workers=1, threads=4)
    try:
        alice = {"Authorization": f"Bearer {login(server.base, 'alice')}"}
        outcome: dict = {}

        def start() -> None:
            outcome["response"] = http("POST", f"{server.base}/api/v1/process-definitions/hostile_gateway/start",
                                       {"variables": {}}, headers=alice, timeout=60)

        starter = threading.Thread(target=start)
        starter.start()
        latencies: list[float] = []
        while starter.is_alive():  # poll /healthz for as long as the hostile request is in flight
            began = time.monotonic()
            status, _, _ = http("GET", f"{server.base}/healthz", timeout=5)
            latencies.append(time.monotonic() - began)
            assert status == 200
        starter.join()
        status, inst, _ = outcome["response"]
        assert status == 201, inst
        assert inst["status"] == "error" and "limit" in inst["error"]["message"], inst
        assert latencies and max(latencies) < 1.0, latencies
        # and the worker process keeps serving ordinary requests
        status, _, _ = http("GET", f"{server.base}/api/v1/tasks?assignee=me", headers=alice)
        assert status == 200
    finally:
        server.kill(15)
