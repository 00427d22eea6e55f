"""Webhooks are scoped to what their owner may read, cannot be pointed inside the network, follow no
redirects, and accept a flow's own events."""

from __future__ import annotations

import json
import socket

import pytest
from sqlalchemy import select

from api.extensions import db
from api.scheduler import deliver_webhooks_once
from engine import webhook_targets
from engine.models import WebhookDelivery
from tests.conftest import deploy_files
from tests.webhook_receiver import receiver


def _deliveries(app) -> list[WebhookDelivery]:  # noqa: ANN001
    with app.app_context():
        rows = list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        db.session.expunge_all()
        return rows


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://localhost:8080/", "http://10.1.2.3/", "http://192.168.0.10/",
    "http://172.16.5.5/", "http://169.254.169.254/latest/meta-data", "http://0.0.0.0/", "http://224.0.0.1/",
    "http://[::1]/", "http://[fe80::1]/", "http://[fc00::1]/", "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/", "http://[64:ff9b::a00:1]/", "http://2130706433/", "http://0x7f.1/",
    "https://[2002:7f00:1::]/", "http://100.64.0.1/", "http://192.0.0.8/", "http://192.88.99.1/"])
def test_inside_targets_are_refused_at_registration(api, url: str) -> None:  # noqa: ANN001
    api.use_api_key("erp")
    resp = api.post("/api/v1/webhooks", "erp", json={"url": url})
    assert resp.status_code == 422, resp.get_json()
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert resp.get_json()["errors"][0]["field"] == "url"


def test_public_address_is_accepted_and_private_ones_only_when_the_operator_allows(api, app) -> None:  # noqa: ANN001
    api.use_api_key("erp")
    assert api.post("/api/v1/webhooks", "erp", json={"url": "https://93.184.215.14/hook"}).status_code == 201
    assert api.post("/api/v1/webhooks", "erp", json={"url": "http://127.0.0.1:9/"}).status_code == 422
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    assert api.post("/api/v1/webhooks", "erp", json={"url": "http://127.0.0.1:9/"}).status_code == 201


def test_the_address_is_checked_again_at_delivery(api, app) -> None:  # noqa: ANN001
    with receiver() as (server, received):
        app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
        assert api.post("/api/v1/webhooks", "admin", json={"url": f"http://127.0.0.1:{server.server_port}/hook",
                                                           "events": ["task.created"]}).status_code == 201
        app.config["OAFLOW_SETTINGS"].webhook_allow_private = False  # e.g. DNS now points inside
        assert api.start_leave("alice").status_code == 201
        assert deliver_webhooks_once(app) == 0
        assert received == []
        [delivery] = _deliveries(app)
        assert delivery.status == "pending" and "not allowed" in delivery.last_error


def test_redirects_are_not_followed(api, app) -> None:  # noqa: ANN001
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    with receiver() as (inside, inside_received):
        with receiver(redirect_to=f"http://127.0.0.1:{inside.server_port}/secret") as (server, received):
            api.post("/api/v1/webhooks", "admin", json={"url": f"http://127.0.0.1:{server.server_port}/hook",
                                                        "events": ["task.created"]})
            api.start_leave("alice")
            assert deliver_webhooks_once(app) == 0
            assert [path for path, _ in received] == ["/hook"]
        assert inside_received == []
    [delivery] = _deliveries(app)
    assert delivery.last_error == "HTTP 302" and delivery.status == "pending"


def test_delivery_connects_to_the_address_it_checked(monkeypatch) -> None:  # noqa: ANN001
    """One resolution per delivery: the connection goes to the checked address, not to a second lookup."""
    calls: list[str] = []
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls.append(host)
        if host == "hooks.invalid":  # a name only this resolution knows
            return real("127.0.0.1", port, *args, **kw)
        return real(host, port, *args, **kw)

    monkeypatch.setattr(webhook_targets.socket, "getaddrinfo", resolve)
    with receiver() as (server, received):
        url = f"http://hooks.invalid:{server.server_port}/hook"
        with pytest.raises(webhook_targets.TargetRefused):
            webhook_targets.safe_post(url, b"{}", {"Content-Type": "application/json"})
        assert received == [] and calls == ["hooks.invalid"]
        status = webhook_targets.safe_post(url, b"{}", {"Content-Type": "application/json"}, allow_private=True)
        assert status == 204 and [c for c in calls if c != "127.0.0.1"] == ["hooks.invalid", "hooks.invalid"]
        assert received == [("/hook", {})]


def test_an_integrator_receives_only_what_its_user_may_read(api, app) -> None:  # noqa: ANN001
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    with receiver() as (server, received):
        api.use_api_key("erp")
        url = f"http://127.0.0.1:{server.server_port}"
        assert api.post("/api/v1/webhooks", "erp", json={"url": f"{url}/erp"}).status_code == 201
        assert api.post("/api/v1/webhooks", "admin", json={"url": f"{url}/admin",
                                                           "events": ["task.created"]}).status_code == 201
        mine = api.start_leave("erp").get_json()  # erp's own request: its webhook may see it
        theirs = api.start_leave("alice").get_json()  # alice's: not erp's business
        deliver_webhooks_once(app)
        erp_got = [body for path, body in received if path == "/erp"]
        assert erp_got and {b["data"].get("instance_id") for b in erp_got} == {mine["id"]}
        assert all(b["data"].get("user") in (None, "erp") for b in erp_got)  # no one else's notifications
        admin_got = {b["data"]["instance_id"] for path, b in received if path == "/admin"}
        assert admin_got == {mine["id"], theirs["id"]}
        refused = [d for d in _deliveries(app) if d.status == "refused"]
        assert refused and all(d.payload.get("instance_id") == theirs["id"] or d.payload.get("user") not in
                               (None, "erp") for d in refused)
        assert not any("family trip" in json.dumps(b) for path, b in received
                       if path == "/erp" and b["data"].get("instance_id") == theirs["id"])


CUSTOM_EVENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_ce"
  targetNamespace="http://oaflow.example/t">
  <bpmn:process id="custom_event" name="Posts its own event" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="post" name="Tell the ERP">
      <bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="webhook.post" resultVariable="posted">
        <spiffworkflow:parameters>
          <spiffworkflow:parameter id="event" type="any" value='"invoice.paid:v2"' />
          <spiffworkflow:parameter id="payload" type="any" value='{"amount": 42}' />
        </spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="post" />
    <bpmn:sequenceFlow id="f2" sourceRef="post" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_flow_s_own_event_can_be_subscribed_to(api, app) -> None:  # noqa: ANN001
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    api.use_api_key("erp")
    for bad in ("Invoice Paid", "x" * 101, "<script>", ""):
        resp = api.post("/api/v1/webhooks", "erp", json={"url": "http://127.0.0.1:9/", "events": [bad]})
        assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"].startswith("events")
    assert api.post("/api/v1/webhooks", "erp", json={"url": "http://127.0.0.1:9/",
                                                     "events": ["a"] * 51}).status_code == 422
    assert deploy_files(api, "grace", {"custom.bpmn": CUSTOM_EVENT}).status_code == 201
    with receiver() as (server, received):
        resp = api.post("/api/v1/webhooks", "erp", json={"url": f"http://127.0.0.1:{server.server_port}/hook",
                                                         "events": ["invoice.paid:v2"]})
        assert resp.status_code == 201 and resp.get_json()["events"] == ["invoice.paid:v2"]
        inst = api.post("/api/v1/process-definitions/custom_event/start", "erp", json={}).get_json()
        assert inst["status"] == "completed"
        assert deliver_webhooks_once(app) == 1
        [(_path, body)] = received
        assert body["event"] == "invoice.paid:v2" and body["data"]["payload"] == {"amount": 42}
        assert body["data"]["instance_id"] == inst["id"]


def test_a_flow_posting_a_malformed_event_name_stops_with_an_incident(api) -> None:  # noqa: ANN001
    model = CUSTOM_EVENT.replace(b'"invoice.paid:v2"', b'"Bad Name &lt;x&gt;"').replace(b"custom_event", b"bad_event")
    assert deploy_files(api, "grace", {"bad.bpmn": model}).status_code == 201
    resp = api.post("/api/v1/process-definitions/bad_event/start", "alice", json={})
    assert resp.status_code == 201
    inst = resp.get_json()
    assert inst["status"] == "error"
    detail = api.get(f"/api/v1/process-instances/{inst['id']}", "admin").get_json()
    assert "must match" in json.dumps(detail) or "must match" in json.dumps(
        api.get(f"/api/v1/process-instances/{inst['id']}/history", "alice").get_json())
