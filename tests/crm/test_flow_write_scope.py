"""A flow writes to CRM records only where its starter could write through the API (attacker finding 4).

A designer flow passing start data to a CRM operation (`customer_id = cid`, `user = who`) is judged at start,
before anyone approves: a customer the starter may only read (shared read-only, in the pool) or a user outside
the starter's team is a 422 naming the start field, and nothing is written. The operation checks again when it
writes (the share may be taken back while the approval waits)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from api.extensions import db
from api.state import get_engine
from crm.models import FollowUp, VisitPlan
from engine.models import ProcessInstance
from engine.services import ServiceCall
from store.errors import Forbidden
from tests.conftest import deploy_files
from tests.crm.conftest import C

FORM = {"type": "object", "required": ["cid", "who"], "additionalProperties": False,
        "properties": {"cid": {"type": "integer"}, "who": {"type": "string", "maxLength": 50}}}

PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="defs_probe_follow_up" targetNamespace="http://oaflow.example/test">
<bpmn:process id="probe_follow_up" isExecutable="true">
  <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>
    <spiffworkflow:property name="formJsonSchemaFilename" value="probe_start.json" />
  </spiffworkflow:properties></bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="approve" name="Approve" camunda:assignee="bob">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:serviceTask id="write" name="Write a follow-up"><bpmn:extensionElements>
    <spiffworkflow:serviceTaskOperator id="crm.add_follow_up" resultVariable="follow_up"><spiffworkflow:parameters>
      <spiffworkflow:parameter id="customer_id" type="any" value="cid" />
      <spiffworkflow:parameter id="user" type="any" value="who" />
      <spiffworkflow:parameter id="content" type="any" value='"probe"' />
    </spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:serviceTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve" />
  <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="write" />
  <bpmn:sequenceFlow id="f3" sourceRef="write" targetRef="end" />
</bpmn:process>
</bpmn:definitions>
"""

START = "/api/v1/process-definitions/probe_follow_up/start"


@pytest.fixture
def probe(api) -> None:  # noqa: ANN001
    """grace deploys the probe flow."""
    resp = deploy_files(api, "grace", {"probe.bpmn": PROBE.encode(), "probe_start.json": json.dumps(FORM).encode()})
    assert resp.status_code in (200, 201), resp.get_json()


def _counts(app) -> tuple[int, int]:  # noqa: ANN001
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(FollowUp)),
                db.session.scalar(select(func.count()).select_from(ProcessInstance)
                                  .where(ProcessInstance.process_key == "probe_follow_up")))


def _refused(api, app, variables: dict, field: str) -> None:  # noqa: ANN001
    before = _counts(app)
    resp = api.post(START, "alice", json={"variables": variables})
    assert resp.status_code == 422, resp.get_json()
    assert resp.mimetype == "application/problem+json"
    assert field in [e["field"] for e in resp.get_json()["errors"]], resp.get_json()
    assert _counts(app) == before  # nothing written, no instance waiting for an approver


def test_a_read_only_share_is_refused_at_start_as_the_api_refuses_it(api, app, crm, probe) -> None:  # noqa: ANN001
    bobs = crm.customer("bob")
    assert api.post(f"{C}/{bobs['id']}/shares", "bob", json={"user": "alice", "access": "read"}).status_code == 201
    assert api.post("/api/v1/follow-ups", "alice", json={"customer_id": bobs["id"], "type": "call",
                                                         "content": "x"}).status_code == 403
    _refused(api, app, {"cid": bobs["id"], "who": "alice"}, "cid")
    _refused(api, app, {"cid": bobs["id"], "who": "bob"}, "cid")


def test_a_pool_customer_and_an_unknown_one_are_refused_at_start(api, app, crm, probe) -> None:  # noqa: ANN001
    pooled = crm.customer("alice")
    assert api.post(f"{C}/{pooled['id']}/release", "alice", json={}).status_code == 200
    assert api.get(f"{C}/{pooled['id']}", "alice").status_code == 200  # she may read the pool ...
    _refused(api, app, {"cid": pooled["id"], "who": "alice"}, "cid")  # ... not write to it through a flow
    _refused(api, app, {"cid": 99999999999999999999, "who": "alice"}, "cid")


def test_the_follow_up_is_written_only_as_the_starter_or_her_team(api, app, crm, probe) -> None:  # noqa: ANN001
    own = crm.customer("alice")
    _refused(api, app, {"cid": own["id"], "who": "dave"}, "who")
    _refused(api, app, {"cid": own["id"], "who": "bob"}, "who")  # her manager is not hers to speak for
    resp = api.post(START, "alice", json={"variables": {"cid": own["id"], "who": "alice"}})
    assert resp.status_code == 201, resp.get_json()
    task = next(t for t in api.tasks("bob", assignee="me") if t["instance_id"] == resp.get_json()["id"])
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob", json={"variables": {}}).status_code == 200
    with app.app_context():
        rows = db.session.scalars(select(FollowUp).where(FollowUp.customer_id == own["id"])).all()
        assert [(r.user, r.content) for r in rows] == [("alice", "probe")]


def test_a_share_taken_back_while_the_approval_waits_stops_the_write(api, app, crm, probe) -> None:  # noqa: ANN001
    bobs = crm.customer("bob")
    assert api.post(f"{C}/{bobs['id']}/shares", "bob", json={"user": "alice", "access": "edit"}).status_code == 201
    resp = api.post(START, "alice", json={"variables": {"cid": bobs["id"], "who": "alice"}})
    assert resp.status_code == 201, resp.get_json()
    assert api.post(f"{C}/{bobs['id']}/shares", "bob", json={"user": "alice", "access": "read"}).status_code \
        in (200, 201)
    task = next(t for t in api.tasks("bob", assignee="me") if t["instance_id"] == resp.get_json()["id"])
    api.post(f"/api/v1/tasks/{task['id']}/complete", "bob", json={"variables": {}})
    inst = api.get(f"/api/v1/process-instances/{resp.get_json()['id']}", "alice").get_json()
    assert inst["status"] != "completed"
    assert _counts(app)[0] == 0


def test_the_operations_refuse_read_only_records_and_other_users_when_they_write(api, app, crm) -> None:  # noqa: ANN001
    bobs = crm.customer("bob")
    own = crm.customer("alice")
    api.post(f"{C}/{bobs['id']}/shares", "bob", json={"user": "alice", "access": "read"})
    ticket = api.post("/api/v1/tickets", "bob", json={"customer_id": bobs["id"], "title": "Q"}).get_json()
    with app.app_context():
        services = get_engine().services
        for name, params in (
                ("crm.add_follow_up", {"customer_id": bobs["id"], "content": "x"}),
                ("crm.add_follow_up", {"customer_id": own["id"], "content": "x", "user": "dave"}),
                ("crm.create_visit_plan", {"customer_id": bobs["id"], "visit_date": "2027-03-01"}),
                ("crm.record_ticket_outcome", {"ticket_id": ticket["id"], "outcome": "done"})):
            call = ServiceCall(params=params, instance_id=None, business_key=None, started_by="alice",
                               session=db.session)
            with pytest.raises(Forbidden):
                services.get(name).func(call)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0
        assert db.session.scalar(select(func.count()).select_from(VisitPlan)) == 0


def test_the_shipped_visit_flow_refuses_a_customer_shared_read_only(api, app, crm) -> None:  # noqa: ANN001
    bobs = crm.customer("bob")
    api.post(f"{C}/{bobs['id']}/shares", "bob", json={"user": "alice", "access": "read"})
    resp = api.post("/api/v1/process-definitions/customer_visit/start", "alice", json={"variables": {
        "customer_id": bobs["id"], "visit_date": "2027-03-01", "purpose": "demo"}})
    assert resp.status_code == 422, resp.get_json()
    assert [e["field"] for e in resp.get_json()["errors"]] == ["customer_id"]


def test_a_flow_writing_into_a_colleagues_calendar_is_refused_at_start(api, app) -> None:  # noqa: ANN001
    calendar_params = ("<spiffworkflow:parameter id=\"title\" type=\"any\" value='\"probe\"' />"
                       "<spiffworkflow:parameter id=\"start\" type=\"any\" value='\"2027-03-01T09:00:00\"' />"
                       "<spiffworkflow:parameter id=\"end\" type=\"any\" value='\"2027-03-01T10:00:00\"' />")
    bpmn = (PROBE.replace("probe_follow_up", "probe_calendar")
            .replace('id="crm.add_follow_up" resultVariable="follow_up"',
                     'id="oa.add_calendar_event" resultVariable="ev"')
            .replace('<spiffworkflow:parameter id="customer_id" type="any" value="cid" />', "")
            .replace("<spiffworkflow:parameter id=\"content\" type=\"any\" value='\"probe\"' />", calendar_params))
    assert "oa.add_calendar_event" in bpmn
    resp = deploy_files(api, "grace", {"cal.bpmn": bpmn.encode(), "probe_start.json": json.dumps(FORM).encode()})
    assert resp.status_code in (200, 201), resp.get_json()
    start = "/api/v1/process-definitions/probe_calendar/start"
    refused = api.post(start, "alice", json={"variables": {"cid": 1, "who": "dave"}})
    assert refused.status_code == 422 and [e["field"] for e in refused.get_json()["errors"]] == ["who"]
    assert api.post(start, "alice", json={"variables": {"cid": 1, "who": "alice"}}).status_code == 201
