"""Models drawn in SpiffArena or Camunda Modeler deploy and run: cron and R3 timer cycles, Camunda generated
forms, web-application form keys, SpiffArena option lists (issue #17, point 4)."""

from __future__ import annotations

import time

from api.extensions import db
from tests.bpmn_samples import process
from tests.conftest import deploy_files


def _reminder_model(key: str, cycle: str) -> bytes:
    """A user task with a non-interrupting cycle timer that opens a reminder task on each firing."""
    return process(key, f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="work" name="Work" camunda:assignee="alice">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:boundaryEvent id="tick" attachedToRef="work" cancelActivity="false">
    <bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeCycle>{cycle}</bpmn:timeCycle></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:userTask id="reminder" name="Reminder" camunda:assignee="alice">
    <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="end2"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
  <bpmn:sequenceFlow id="f3" sourceRef="tick" targetRef="reminder" />
  <bpmn:sequenceFlow id="f4" sourceRef="reminder" targetRef="end2" />""")


def _fire_until(app, condition, what: str) -> None:  # noqa: ANN001
    engine = app.extensions["oaflow_engine"]
    deadline = time.monotonic() + 60
    while True:
        with app.app_context():
            engine.fire_due_timers(db.session)
        if condition():
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _reminders(api) -> int:  # noqa: ANN001
    return sum(1 for t in api.tasks("alice") if t["element_id"] == "reminder")


def _start(api, key: str) -> dict:  # noqa: ANN001
    resp = api.post(f"/api/v1/process-definitions/{key}/start", "alice", json={"variables": {}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_quartz_cron_time_cycle_fires_on_schedule(api, app, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("OAFLOW_MIN_TIMER_INTERVAL", "0")  # per-second cycles only where the operator allows
    resp = deploy_files(api, "grace", {"cron.bpmn": _reminder_model("cron_cycle", "0/1 * * * * ?")})
    assert resp.status_code == 201, resp.get_json()
    _start(api, "cron_cycle")
    _fire_until(app, lambda: _reminders(api) >= 2, "two cron firings")
    assert any(t["element_id"] == "work" for t in api.tasks("alice"))  # non-interrupting


def test_iso_repeating_cycle_fires_three_times_then_stops(api, app, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("OAFLOW_MIN_TIMER_INTERVAL", "0")
    resp = deploy_files(api, "grace", {"r3.bpmn": _reminder_model("r3_cycle", "R3/PT1S")})
    assert resp.status_code == 201, resp.get_json()
    inst = _start(api, "r3_cycle")
    _fire_until(app, lambda: _reminders(api) == 3, "three firings")

    def cycle_over() -> bool:
        from engine.models import ProcessInstance
        with app.app_context():
            return db.session.get(ProcessInstance, inst["id"]).next_timer_at is None
    _fire_until(app, cycle_over, "the end of the cycle")
    assert _reminders(api) == 3


def test_per_second_cycles_are_refused_at_deploy_naming_the_timer(api) -> None:  # noqa: ANN001
    for key, cycle in (("every_second", "* * * * * *"), ("tenth", "R/PT0.1S"), ("quartz", "0/1 * * * * ?"),
                       ("thirty", "R5/PT30S")):
        resp = deploy_files(api, "grace", {f"{key}.bpmn": _reminder_model(key, cycle)})
        assert resp.status_code == 422, (cycle, resp.get_json())
        problems = resp.get_json()["errors"]
        assert [p["element_id"] for p in problems] == ["tick"], problems
        assert "OAFLOW_MIN_TIMER_INTERVAL" in problems[0]["message"]
    for key, cycle in (("minutely", "0 * * * * ?"), ("crontab", "*/5 * * * *"), ("hourly", "R/PT1H")):
        assert deploy_files(api, "grace", {f"{key}.bpmn": _reminder_model(key, cycle)}).status_code == 201


def test_min_interval_is_configurable(api, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("OAFLOW_MIN_TIMER_INTERVAL", "600")
    resp = deploy_files(api, "grace", {"five.bpmn": _reminder_model("five_min", "R/PT5M")})
    assert resp.status_code == 422 and "600 s" in resp.get_json()["errors"][0]["message"]


def test_unbounded_cycle_stops_at_the_firing_cap(api, app, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("OAFLOW_MIN_TIMER_INTERVAL", "0")
    monkeypatch.setenv("OAFLOW_MAX_TIMER_FIRINGS", "2")
    assert deploy_files(api, "grace", {"forever.bpmn": _reminder_model("forever", "R/PT0.2S")}).status_code == 201
    inst = _start(api, "forever")

    def cycle_over() -> bool:
        from engine.models import ProcessInstance
        with app.app_context():
            return db.session.get(ProcessInstance, inst["id"]).next_timer_at is None
    _fire_until(app, cycle_over, "the end of the capped cycle")
    assert _reminders(api) == 2


def test_bad_cron_is_a_problem_naming_the_timer(api) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"bad.bpmn": _reminder_model("bad_cron", "0 0/5 * * * MON-XYZ")})
    assert resp.status_code == 422
    problems = resp.get_json()["errors"]
    assert any(p["element_id"] == "tick" for p in problems), problems


CAMUNDA_FORMS = process("camunda_forms", """
  <bpmn:startEvent id="start" name="Request">
    <bpmn:extensionElements><camunda:formData>
      <camunda:formField id="amount" label="Amount" type="long" defaultValue="10">
        <camunda:validation><camunda:constraint name="required" /><camunda:constraint name="min" config="1" />
          <camunda:constraint name="max" config="1000" /></camunda:validation></camunda:formField>
      <camunda:formField id="reason" label="&lt;b&gt;Reason&lt;/b&gt;" type="string">
        <camunda:validation><camunda:constraint name="maxlength" config="20" /></camunda:validation>
      </camunda:formField>
    </camunda:formData></bpmn:extensionElements>
    <bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="review" name="Review" camunda:assignee="alice">
    <bpmn:extensionElements><camunda:formData>
      <camunda:formField id="decision" label="Decision" type="enum">
        <camunda:value id="yes" name="Approve" /><camunda:value id="no" name="Reject" />
        <camunda:validation><camunda:constraint name="required" /></camunda:validation></camunda:formField>
      <camunda:formField id="when" label="When" type="date" />
      <camunda:formField id="urgent" label="Urgent" type="boolean" defaultValue="false">
        <camunda:validation><camunda:constraint name="readonly" /></camunda:validation></camunda:formField>
    </camunda:formData></bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="ship" name="Ship" camunda:assignee="alice" camunda:formKey="embedded:app:forms/ship.html">
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
  <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="ship" />
  <bpmn:sequenceFlow id="f3" sourceRef="ship" targetRef="end" />""")


def test_camunda_generated_forms_and_app_form_keys(api) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"camunda_forms.bpmn": CAMUNDA_FORMS})
    assert resp.status_code == 201, resp.get_json()
    warnings = resp.get_json()["problems"]
    assert [(w["element_id"], w["severity"]) for w in warnings] == [("ship", "warning")], warnings
    assert "embedded:app:forms/ship.html" in warnings[0]["message"]

    start = "/api/v1/process-definitions/camunda_forms/start"
    bad = api.post(start, "alice", json={"variables": {"amount": 5000, "reason": "x"}})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "amount"
    long_reason = api.post(start, "alice", json={"variables": {"amount": 5, "reason": "x" * 21}})
    assert long_reason.status_code == 422 and long_reason.get_json()["errors"][0]["field"] == "reason"
    assert api.post(start, "alice", json={"variables": {"amount": 5, "reason": "ok"}}).status_code == 201

    task = next(t for t in api.tasks("alice") if t["element_id"] == "review")
    form = api.get(f"/api/v1/tasks/{task['id']}", "alice").get_json()["form"]
    props = form["schema"]["properties"]
    assert props["decision"]["enum"] == ["yes", "no"] and props["decision"]["enumNames"] == ["Approve", "Reject"]
    assert props["when"] == {"type": "string", "title": "When", "format": "date"}
    assert props["urgent"]["readOnly"] is True and props["urgent"]["default"] is False
    assert form["schema"]["required"] == ["decision"]
    url = f"/api/v1/tasks/{task['id']}/complete"
    wrong = api.post(url, "alice", json={"variables": {"decision": "maybe"}})
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "decision"
    assert api.post(url, "alice", json={"variables": {"decision": "yes", "when": "2026-12-24"}}).status_code == 200

    ship = next(t for t in api.tasks("alice") if t["element_id"] == "ship")
    assert api.get(f"/api/v1/tasks/{ship['id']}", "alice").get_json()["form"]["schema"] is None


SPIFF_FORM_MODEL = process("spiff_forms", """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="pick" name="Pick" camunda:assignee="alice">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="pick-schema.json" />
      <spiffworkflow:property name="formUiSchemaFilename" value="pick-uischema.json" />
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pick" />
  <bpmn:sequenceFlow id="f2" sourceRef="pick" targetRef="end" />""")
PICK_SCHEMA = {"title": "Pick", "type": "object", "required": ["color"], "properties": {
    "color": {"type": "string", "title": "Color", "anyOf": [{"const": "red", "title": "Red"},
                                                              {"const": "blue", "title": "Blue"}]}}}
PICK_UI = {"color": {"ui:widget": "radio"}, "ui:order": ["color"]}


def test_spiffarena_option_lists_and_ui_schema_files(api) -> None:  # noqa: ANN001
    import json
    files = {"spiff_forms.bpmn": SPIFF_FORM_MODEL, "pick-schema.json": json.dumps(PICK_SCHEMA).encode(),
             "pick-uischema.json": json.dumps(PICK_UI).encode()}
    resp = deploy_files(api, "grace", files)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["problems"] == []
    assert api.post("/api/v1/process-definitions/spiff_forms/start", "alice",
                    json={"variables": {}}).status_code == 201
    task = next(t for t in api.tasks("alice") if t["element_id"] == "pick")
    form = api.get(f"/api/v1/tasks/{task['id']}", "alice").get_json()["form"]
    assert form["schema"] == PICK_SCHEMA and form["ui_schema"] == PICK_UI
    url = f"/api/v1/tasks/{task['id']}/complete"
    wrong = api.post(url, "alice", json={"variables": {"color": "green"}})
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"] == [{"field": "color", "message": "must be one of: 'red' (Red), 'blue' (Blue)",
                                           "kind": "enum"}]
    assert api.post(url, "alice", json={"variables": {"color": "blue"}}).status_code == 200


def _caller(key: str, callee: str) -> bytes:
    return process(key, f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:callActivity id="call_{callee}" calledElement="{callee}">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>
  <bpmn:userTask id="after_{key}" name="After" camunda:assignee="alice">
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call_{callee}" />
  <bpmn:sequenceFlow id="f2" sourceRef="call_{callee}" targetRef="after_{key}" />
  <bpmn:sequenceFlow id="f3" sourceRef="after_{key}" targetRef="end" />""")


def _callee(key: str, task_name: str) -> bytes:
    return process(key, f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="inside_{key}" name="{task_name}" camunda:assignee="alice">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="inside_{key}" />
  <bpmn:sequenceFlow id="f2" sourceRef="inside_{key}" targetRef="end" />""")


def _run_through(api, caller: str, callee: str, task_name: str) -> None:  # noqa: ANN001
    _start(api, caller)
    inside = [t for t in api.tasks("alice") if t["element_id"] == f"inside_{callee}"]
    assert [t["name"] for t in inside] == [task_name]
    assert api.post(f"/api/v1/tasks/{inside[0]['id']}/complete", "alice", json={"variables": {}}).status_code == 200
    after = [t for t in api.tasks("alice") if t["element_id"] == f"after_{caller}"]
    assert len(after) == 1
    assert api.post(f"/api/v1/tasks/{after[0]['id']}/complete", "alice", json={"variables": {}}).status_code == 200


def test_call_activity_to_a_callee_deployed_later(api) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"caller.bpmn": _caller("late_caller", "late_callee")})
    assert resp.status_code == 201, resp.get_json()
    [warning] = resp.get_json()["problems"]
    assert warning["severity"] == "warning" and warning["element_id"] == "call_late_callee"
    assert "late_callee" in warning["message"]

    missing = api.post("/api/v1/process-definitions/late_caller/start", "alice", json={"variables": {}})
    assert missing.status_code == 422 and "late_callee" in str(missing.get_json())

    assert deploy_files(api, "grace", {"callee.bpmn": _callee("late_callee", "Inside v1")}).status_code == 201
    _run_through(api, "late_caller", "late_callee", "Inside v1")
    # a new callee version is picked up by the next instance (latest binding)
    assert deploy_files(api, "grace", {"callee.bpmn": _callee("late_callee", "Inside v2")}).status_code == 201
    _run_through(api, "late_caller", "late_callee", "Inside v2")


def test_call_activity_to_a_callee_deployed_before(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"callee.bpmn": _callee("early_callee", "Inside")}).status_code == 201
    resp = deploy_files(api, "grace", {"caller.bpmn": _caller("early_caller", "early_callee")})
    assert resp.status_code == 201 and resp.get_json()["problems"] == []
    _run_through(api, "early_caller", "early_callee", "Inside")


def test_xsd_deviations_spiffworkflow_builds_are_warnings(api) -> None:  # noqa: ANN001
    # outgoing before incoming, documentation after extensionElements: the XSD's order, not SpiffWorkflow's
    model = process("xsd_lenient", """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="work" name="Work" camunda:assignee="alice">
    <bpmn:extensionElements><spiffworkflow:properties /></bpmn:extensionElements>
    <bpmn:documentation>Do the work</bpmn:documentation>
    <bpmn:outgoing>f2</bpmn:outgoing><bpmn:incoming>f1</bpmn:incoming></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />""")
    resp = deploy_files(api, "grace", {"lenient.bpmn": model})
    assert resp.status_code == 201, resp.get_json()
    warnings = resp.get_json()["problems"]
    assert warnings and all(w["severity"] == "warning" and "XSD" in w["message"] for w in warnings), warnings
    _start(api, "xsd_lenient")
    assert [t["element_id"] for t in api.tasks("alice")] == ["work"]
    # what SpiffWorkflow cannot build stays an error: a flow to an element that does not exist
    broken = model.replace(b'targetRef="end"', b'targetRef="nowhere"').replace(b'id="xsd_lenient"', b'id="xsd_b"')
    assert deploy_files(api, "grace", {"broken.bpmn": broken}).status_code == 422


def test_a_computed_cycle_is_stretched_to_the_minimum_interval(api, app) -> None:  # noqa: ANN001
    """A cycle an expression computes cannot be checked at deploy: at run time it fires no more often than
    OAFLOW_MIN_TIMER_INTERVAL (60 s by default)."""
    from datetime import timedelta

    from engine.models import ProcessInstance
    from store.base import utcnow
    assert deploy_files(api, "grace", {"computed.bpmn": _reminder_model("computed_cycle", "every")}).status_code == 201
    resp = api.post("/api/v1/process-definitions/computed_cycle/start", "alice",
                    json={"variables": {"every": "R/PT1S"}})
    assert resp.status_code == 201, resp.get_json()
    with app.app_context():
        due = db.session.get(ProcessInstance, resp.get_json()["id"]).next_timer_at
    assert due is not None and due - utcnow() > timedelta(seconds=50)
