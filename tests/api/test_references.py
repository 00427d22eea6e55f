"""Typed record references: a flow's start form names CRM records by type, and the platform checks them.

Checked at start (and at each completion): the record exists, the acting user may see it (the CRM data scope),
it is in a state the flow accepts, and no other running instance holds it; service operations write only what
the initiator may still touch. Reviewers read the records of the instance they have an open task on.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter

from sqlalchemy import select

from api.extensions import db
from crm.models import Contract, Customer, Opportunity
from tests.bpmn_samples import process
from tests.conftest import deploy_files, run_in_threads

CONTRACT = "/api/v1/process-definitions/contract_approval/start"
_names = itertools.count(1)
VISIT = "/api/v1/process-definitions/customer_visit/start"


def _customer(api, owner: str, name: str = "Acme Trading") -> dict:  # noqa: ANN001
    resp = api.post("/api/v1/customers", owner, json={"name": name, "industry": "manufacturing"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _opportunity(api, owner: str = "alice", amount: float = 50000) -> dict:  # noqa: ANN001
    customer = _customer(api, owner, f"{owner}'s buyer {next(_names)}")
    resp = api.post("/api/v1/opportunities", owner, json={"customer_id": customer["id"], "name": "ERP rollout",
                                                          "stage": "negotiation", "amount": amount,
                                                          "expected_close_date": "2026-12-31"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _start_contract(api, user: str, opp_id: int, amount: float = 50000):  # noqa: ANN001, ANN201
    return api.post(CONTRACT, user, json={"business_key": f"opportunity:{opp_id}", "variables": {
        "opportunity_id": opp_id, "title": "ERP rollout contract", "amount": amount}})


def _fields(resp) -> list[str]:  # noqa: ANN001
    assert resp.status_code == 422, (resp.status_code, resp.get_json())
    assert resp.content_type.startswith("application/problem+json")
    return [e["field"] for e in resp.get_json()["errors"]]


def _task(api, user: str, element_id: str, instance_id: int) -> dict:  # noqa: ANN001
    found = [t for t in api.tasks(user) if t["element_id"] == element_id and t["instance_id"] == instance_id]
    assert found, (user, element_id)
    return found[0]


def _complete(api, user: str, task: dict, **variables):  # noqa: ANN001, ANN003, ANN201
    return api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"variables": variables})


def _instance_count(app) -> int:  # noqa: ANN001
    from engine.models import ProcessInstance
    with app.app_context():
        return len(db.session.scalars(select(ProcessInstance.id)).all())


def test_a_rep_cannot_start_flows_on_a_colleagues_records(api, app) -> None:  # noqa: ANN001
    bobs = _opportunity(api, "bob")  # alice gets 404 on it: her manager's deal is not in her scope
    assert api.get(f"/api/v1/opportunities/{bobs['id']}", "alice").status_code == 404
    before = _instance_count(app)
    refused = _start_contract(api, "alice", bobs["id"], amount=1)
    assert _fields(refused) == ["opportunity_id"]
    missing = _start_contract(api, "alice", 999999)
    # out of scope and nonexistent answer alike: a start cannot probe for records
    assert refused.get_json()["errors"] == missing.get_json()["errors"]
    customer = _customer(api, "bob", "Bob's own customer")
    visit = api.post(VISIT, "alice", json={"variables": {"customer_id": customer["id"], "visit_date": "2026-12-20",
                                                         "purpose": "poach"}})
    assert _fields(visit) == ["customer_id"]
    assert _instance_count(app) == before  # nothing started, nobody was asked to approve
    with app.app_context():
        assert db.session.get(Opportunity, bobs["id"]).status == "open"
    # bob, whose deal it is, may start it
    assert _start_contract(api, "bob", bobs["id"]).status_code == 201


def test_nonexistent_won_and_lost_opportunities_are_refused_at_start(api, app) -> None:  # noqa: ANN001
    for missing in (999999, 10**30):
        assert _fields(_start_contract(api, "alice", missing)) == ["opportunity_id"]
    visit = api.post(VISIT, "alice", json={"variables": {"customer_id": 999999, "visit_date": "2026-12-20",
                                                         "purpose": "ghost"}})
    assert _fields(visit) == ["customer_id"]
    won, lost = _opportunity(api), _opportunity(api)
    assert api.post(f"/api/v1/opportunities/{won['id']}/win", "alice", json={"reason": "signed"}).status_code == 200
    assert api.post(f"/api/v1/opportunities/{lost['id']}/lose", "alice", json={"reason": "price"}).status_code == 200
    for opp, status in ((won, "won"), (lost, "lost")):
        resp = _start_contract(api, "alice", opp["id"])
        assert _fields(resp) == ["opportunity_id"]
        assert status in resp.get_json()["errors"][0]["message"]


def test_two_concurrent_contract_approvals_on_one_opportunity_exactly_one_starts(api, app) -> None:  # noqa: ANN001
    opp = _opportunity(api)
    token = api.token("alice")
    barrier = threading.Barrier(2)
    results: list[tuple[int, dict]] = []

    def start(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(CONTRACT, headers={"Authorization": f"Bearer {token}"}, json={"variables": {
            "opportunity_id": opp["id"], "title": f"Contract {i}", "amount": 1000 + i}})
        results.append((resp.status_code, resp.get_json()))

    run_in_threads(2, start)
    statuses = Counter(status for status, _ in results)
    assert statuses[201] == 1 and statuses[422] + statuses[409] == 1, results
    loser = next(body for status, body in results if status != 201)
    assert loser["status"] in (409, 422)
    if loser["status"] == 422:
        assert [e["field"] for e in loser["errors"]] == ["opportunity_id"]
    winner = next(body for status, body in results if status == 201)
    # a third, later start is refused too while the first runs ...
    third = _start_contract(api, "alice", opp["id"])
    assert _fields(third) == ["opportunity_id"] and f"#{winner['id']}" in third.get_json()["errors"][0]["message"]
    # ... and allowed once it is withdrawn (the claim ends with the instance)
    assert api.post(f"/api/v1/process-instances/{winner['id']}/cancel", "alice", json={"reason": "redo"}) \
        .status_code == 200
    again = _start_contract(api, "alice", opp["id"])
    assert again.status_code == 201, again.get_json()
    from engine.models import ProcessInstance
    with app.app_context():
        running = db.session.scalars(select(ProcessInstance).where(
            ProcessInstance.process_key == "contract_approval", ProcessInstance.status == "running")).all()
        assert [i.id for i in running] == [again.get_json()["id"]]


def _approve_to_the_end(api, inst_id: int) -> None:  # noqa: ANN001
    assert _complete(api, "bob", _task(api, "bob", "sales_head_approval", inst_id), approved=True).status_code == 200
    assert _complete(api, "frank", _task(api, "frank", "legal_finance_review", inst_id), approved=True) \
        .status_code == 200
    assert _complete(api, "carol", _task(api, "carol", "legal_finance_review", inst_id), approved=True) \
        .status_code == 200


def test_an_initiator_who_lost_the_deal_gets_an_incident_not_a_write(api, app) -> None:  # noqa: ANN001
    opp = _opportunity(api)
    inst = _start_contract(api, "alice", opp["id"]).get_json()
    with app.app_context():  # before the last approval, the customer and the deal move to another team
        row = db.session.get(Opportunity, opp["id"])
        row.owner = "erin"
        db.session.get(Customer, row.customer_id).owner = "erin"
        db.session.commit()
    _approve_to_the_end(api, inst["id"])
    final = api.get(f"/api/v1/process-instances/{inst['id']}", "admin").get_json()
    assert final["status"] == "error" and final["error"]["element_id"] == "mark_won"
    assert "alice" in final["error"]["message"]
    with app.app_context():
        assert db.session.get(Opportunity, opp["id"]).status == "open"
        assert db.session.scalars(select(Contract).where(Contract.opportunity_id == opp["id"])).all() == []


def test_a_record_that_changes_state_mid_flow_is_refused_at_the_next_completion(api, app) -> None:  # noqa: ANN001
    opp = _opportunity(api)
    inst = _start_contract(api, "alice", opp["id"]).get_json()
    assert api.post(f"/api/v1/opportunities/{opp['id']}/lose", "alice", json={"reason": "gone"}).status_code == 200
    resp = _complete(api, "bob", _task(api, "bob", "sales_head_approval", inst["id"]), approved=True)
    assert _fields(resp) == ["opportunity_id"]
    assert api.get(f"/api/v1/process-instances/{inst['id']}", "admin").get_json()["status"] == "running"


def test_reviewers_read_what_they_review_for_the_life_of_their_task(api, app) -> None:  # noqa: ANN001
    opp = _opportunity(api)
    customer_id = opp["customer_id"]
    paths = (f"/api/v1/customers/{customer_id}", f"/api/v1/opportunities/{opp['id']}")
    for path in paths:
        assert api.get(path, "frank").status_code == 404
    inst = _start_contract(api, "alice", opp["id"]).get_json()
    assert _complete(api, "bob", _task(api, "bob", "sales_head_approval", inst["id"]), approved=True) \
        .status_code == 200
    frank_task = _task(api, "frank", "legal_finance_review", inst["id"])
    for path in paths:
        resp = api.get(path, "frank")
        assert resp.status_code == 200, resp.get_json()
    name = api.get(f"/api/v1/customers/{customer_id}", "alice").get_json()["name"]
    assert api.get(f"/api/v1/customers/{customer_id}", "frank").get_json()["name"] == name
    assert api.get(f"/api/v1/customers/{customer_id}", "erin").status_code == 404  # no task, no access
    # read only: a task grant never lets a write through (writes answer as if the record were unknown)
    assert api.client.patch(paths[0], json={"name": "Frank's now"}, headers=api.headers("frank")).status_code == 404
    assert api.client.patch(paths[1], json={"amount": 1}, headers=api.headers("frank")).status_code == 404
    assert api.post(f"{paths[1]}/win", "frank", json={"reason": "mine"}).status_code == 404
    assert api.post("/api/v1/opportunities", "frank", json={"customer_id": customer_id, "name": "side deal",
                                                            "amount": 1}).status_code in (404, 422)
    with app.app_context():
        assert db.session.get(Customer, customer_id).name == name
        assert db.session.get(Opportunity, opp["id"]).status == "open"
    trail = api.get("/api/v1/audit", "alice", query_string={"entity": "customer", "id": customer_id}).get_json()
    reads = [e for e in trail["items"] if e["action"] == "read via task"]
    assert reads and {e["user"] for e in reads} == {"frank"} and reads[0]["new"] == frank_task["id"]
    from tests.web.conftest import Web
    owner = Web(app)
    owner.login("alice")
    log = owner.get(f"/customers/{customer_id}/log").get_data(as_text=True)
    assert f"<strong>Task</strong>: <del>—</del> → <ins>Contract approval #{inst['id']}</ins>" in log, log
    assert frank_task["id"] not in log  # the request it was read for, not the task's internal id
    assert _complete(api, "frank", frank_task, approved=True).status_code == 200
    for path in paths:
        assert api.get(path, "frank").status_code == 404


def test_an_uploaded_flow_with_typed_references(api, app) -> None:  # noqa: ANN001
    start_form = {"type": "object", "required": ["ticket_id"], "additionalProperties": False, "properties": {
        "ticket_id": {"type": "integer", "x-oaflow-ref": "crm.ticket",
                      "x-oaflow-ref-state": {"status": ["open", "in_progress"]}}}}
    hand_form = {"type": "object", "required": ["hand_to"], "additionalProperties": False, "properties": {
        "hand_to": {"type": "string", "maxLength": 100, "x-oaflow-ref": "oa.user"}}}
    bpmn = process("ticket_check", """
  <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property
    name="formJsonSchemaFilename" value="ticket_check_start.json" /></spiffworkflow:properties>
    </bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="hand" name="Hand over" camunda:assignee="${initiator}"><bpmn:extensionElements>
    <spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="ticket_check_hand.json"
    /></spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="hand" />
  <bpmn:sequenceFlow id="f2" sourceRef="hand" targetRef="end" />""")
    resp = deploy_files(api, "grace", {"ticket_check.bpmn": bpmn,
                                       "ticket_check_start.json": json.dumps(start_form).encode(),
                                       "ticket_check_hand.json": json.dumps(hand_form).encode()})
    assert resp.status_code == 201, resp.get_json()
    customer = _customer(api, "alice")
    ticket = api.post("/api/v1/tickets", "alice", json={"customer_id": customer["id"], "title": "Printer",
                                                        "priority": "low"}).get_json()
    start = "/api/v1/process-definitions/ticket_check/start"
    assert _fields(api.post(start, "alice", json={"variables": {"ticket_id": 999999}})) == ["ticket_id"]
    assert _fields(api.post(start, "erin", json={"variables": {"ticket_id": ticket["id"]}})) == ["ticket_id"]
    inst = api.post(start, "alice", json={"variables": {"ticket_id": ticket["id"]}})
    assert inst.status_code == 201, inst.get_json()
    task = _task(api, "alice", "hand", inst.get_json()["id"])
    assert _fields(_complete(api, "alice", task, hand_to="<script>nobody</script>")) == ["hand_to"]
    assert _complete(api, "alice", task, hand_to="bob").status_code == 200


def test_an_unknown_record_type_is_a_deploy_problem_naming_the_field(api, app) -> None:  # noqa: ANN001
    form = {"type": "object", "properties": {
        "deal": {"type": "integer", "x-oaflow-ref": "crm.deal"},
        "opp": {"type": "integer", "x-oaflow-ref": "crm.opportunity", "x-oaflow-ref-state": {"status": ["maybe"]}}}}
    bpmn = process("bad_refs", """
  <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property
    name="formJsonSchemaFilename" value="bad_refs_start.json" /></spiffworkflow:properties>
    </bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />""")
    files = {"bad_refs.bpmn": bpmn, "bad_refs_start.json": json.dumps(form).encode()}
    resp = deploy_files(api, "grace", files)
    assert resp.status_code == 422 and resp.content_type.startswith("application/problem+json")
    messages = [e["message"] for e in resp.get_json()["errors"]]
    assert any("'deal'" in m and "crm.deal" in m for m in messages), messages
    assert any("'opp'" in m and "status" in m for m in messages), messages
    checked = deploy_files(api, "grace", files, "/api/v1/deployments/validate").get_json()
    assert checked["valid"] is False
    assert api.get("/api/v1/process-definitions/bad_refs", "grace").status_code == 404


def test_a_candidate_group_member_reads_the_record_while_the_task_is_open(api, app) -> None:  # noqa: ANN001
    form = {"type": "object", "required": ["customer_id"], "additionalProperties": False, "properties": {
        "customer_id": {"type": "integer", "x-oaflow-ref": "crm.customer"}}}
    bpmn = process("legal_look", """
  <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property
    name="formJsonSchemaFilename" value="legal_look_start.json" /></spiffworkflow:properties>
    </bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="look" name="Legal looks" camunda:candidateGroups="legal">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="look" />
  <bpmn:sequenceFlow id="f2" sourceRef="look" targetRef="end" />""")
    assert deploy_files(api, "grace", {"legal_look.bpmn": bpmn,
                                       "legal_look_start.json": json.dumps(form).encode()}).status_code == 201
    customer = _customer(api, "alice", "Legal look customer")
    path = f"/api/v1/customers/{customer['id']}"
    inst = api.post("/api/v1/process-definitions/legal_look/start", "alice",
                    json={"variables": {"customer_id": customer["id"]}}).get_json()
    assert api.get(path, "frank").status_code == 200  # a candidate (group legal), not yet the assignee
    assert api.get(path, "erin").status_code == 404
    assert api.post(f"/api/v1/process-instances/{inst['id']}/cancel", "alice", json={"reason": "no"}) \
        .status_code == 200
    assert api.get(path, "frank").status_code == 404  # the instance ended: no open task, no access


def test_oa_operations_write_only_into_records_the_initiator_may_touch(api, app) -> None:  # noqa: ANN001
    from oa.record_models import CalendarEvent
    from tests.bpmn_samples import service_process
    params = {"user": "'alice'", "title": "'Offsite'", "start": "'2026-12-07T09:00:00'",
              "end": "'2026-12-07T18:00:00'"}
    assert deploy_files(api, "grace", {"cal.bpmn": service_process("cal", "oa.add_calendar_event", params)}) \
        .status_code == 201
    outcomes = {}
    for starter in ("grace", "carol", "bob", "erin", "alice"):
        resp = api.post("/api/v1/process-definitions/cal/start", starter, json={"variables": {}})
        outcomes[starter] = resp.get_json()["status"] if resp.status_code == 201 else resp.status_code
        if resp.status_code == 422:  # refused at start, naming the parameter, before anything is written
            assert [e["field"] for e in resp.get_json()["errors"]] == ["call/user"], resp.get_json()
    # a designer or a colleague may not fill alice's calendar; her manager, HR and she herself may
    assert outcomes == {"grace": 422, "carol": 422, "bob": "completed", "erin": "completed", "alice": "completed"}
    with app.app_context():
        assert len(db.session.scalars(select(CalendarEvent).where(CalendarEvent.owner == "alice")).all()) == 3


def test_ticket_escalation_checks_the_ticket_it_is_started_on(api, app) -> None:  # noqa: ANN001
    customer = _customer(api, "alice", "Escalating customer")
    ticket = api.post("/api/v1/tickets", "alice", json={"customer_id": customer["id"], "title": "Line down",
                                                        "priority": "urgent"})
    assert ticket.status_code == 201, ticket.get_json()
    started = [i for i in api.get("/api/v1/process-instances", "admin",
                                  query_string={"key": "ticket_escalation"}).get_json()["items"]]
    assert [i["business_key"] for i in started] == [f"ticket:{ticket.get_json()['id']}"]
    message = "/api/v1/messages"
    api.use_api_key("erp")
    for variables in ({"ticket_id": 999999}, {"ticket_id": ticket.get_json()["id"]}):
        # unknown, or outside the sender's data scope (the ERP account sees no customer): refused at once
        resp = api.post(message, "erp", json={"name": "ticket_created", "variables": variables})
        assert _fields(resp) == ["ticket_id"]
    again = api.post(message, "admin", json={"name": "ticket_created", "variables": {
        "ticket_id": ticket.get_json()["id"]}})
    assert _fields(again) == ["ticket_id"] and "already" in again.get_json()["errors"][0]["message"]


def test_a_list_of_references_is_checked_item_by_item(api, app) -> None:  # noqa: ANN001
    """policy_signoff's signers are an array of `oa.user` references: an unknown or deactivated colleague is a
    422 naming the item, before any signer spends time on it; known colleagues start the flow."""
    from oa.models import User
    with app.app_context():
        db.session.query(User).filter_by(username="erin").update({"active": False})
        db.session.commit()
    before = api.get("/api/v1/process-instances", "admin", query_string={"key": "policy_signoff"}).get_json()
    for signers, field in ((["bob", "nobody_here"], "signers/1"), (["erin"], "signers/0")):
        resp = api.post("/api/v1/process-definitions/policy_signoff/start", "grace", json={"variables": {
            "title": "Travel policy", "signers": signers, "mode": "all"}})
        assert resp.status_code == 422, resp.get_json()
        assert [e["field"] for e in resp.get_json()["errors"]] == [field]
    after = api.get("/api/v1/process-instances", "admin", query_string={"key": "policy_signoff"}).get_json()
    assert after["total"] == before["total"]  # nothing written
    ok = api.post("/api/v1/process-definitions/policy_signoff/start", "grace", json={"variables": {
        "title": "Travel policy", "signers": ["bob", "carol"], "mode": "all"}})
    assert ok.status_code == 201, ok.get_json()
