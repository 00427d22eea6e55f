"""Call activities that call their own process (directly or through a cycle): a deploy warning naming the
cycle, and at run time a call depth cap (a clear incident, not a hang) (issue #17)."""

from __future__ import annotations

import time

from tests.api.test_foreign_models import _caller
from tests.conftest import deploy_files


def _start_stops_quickly_with_an_incident(api, key: str) -> None:  # noqa: ANN001
    began = time.monotonic()
    resp = api.post(f"/api/v1/process-definitions/{key}/start", "alice", json={"variables": {}})
    assert time.monotonic() - began < 5
    assert resp.status_code == 201, resp.get_json()
    inst = api.get(f"/api/v1/process-instances/{resp.get_json()['id']}", "alice").get_json()
    assert inst["status"] == "error", inst
    assert "call depth exceeds 10" in str(inst), inst


def test_self_call_is_a_deploy_warning_and_a_quick_incident(api) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"self.bpmn": _caller("selfish", "selfish")})
    assert resp.status_code == 201, resp.get_json()
    [warning] = resp.get_json()["problems"]
    assert warning["severity"] == "warning" and warning["element_id"] == "call_selfish"
    assert "selfish → selfish" in warning["message"]
    _start_stops_quickly_with_an_incident(api, "selfish")


def test_cycle_in_one_bundle_warns_on_each_call(api) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"a.bpmn": _caller("ping", "pong"), "b.bpmn": _caller("pong", "ping")})
    assert resp.status_code == 201, resp.get_json()
    warnings = {w["element_id"]: w["message"] for w in resp.get_json()["problems"]}
    assert "ping → pong → ping" in warnings["call_pong"] and "pong → ping → pong" in warnings["call_ping"]
    _start_stops_quickly_with_an_incident(api, "ping")


def test_cycle_across_deployments_is_capped_at_run_time(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"a.bpmn": _caller("tick_a", "tock_b")}).status_code == 201
    assert deploy_files(api, "grace", {"b.bpmn": _caller("tock_b", "tick_a")}).status_code == 201
    _start_stops_quickly_with_an_incident(api, "tick_a")


def test_plain_call_chain_is_not_a_warning(api) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"a.bpmn": _caller("outer", "inner"), "b.bpmn": _caller("inner", "leaf")})
    assert not [w for w in resp.get_json()["problems"] if "itself" in w["message"]]
