"""Idempotency-Key on start and on messages: the same request again gets the first answer without acting
twice; the same key with another request (body or process) is a 422 naming the header."""

from __future__ import annotations

from sqlalchemy import func, select

from api.extensions import db
from engine.models import HistoryEvent, IdempotentStart, ProcessInstance
from tests.bpmn_samples import message_process, message_start_process, user_task_process
from tests.conftest import deploy_files, run_in_threads

START = "/api/v1/process-definitions/{key}/start"
LEAVE = {"leave_type": "sick", "start_date": "2026-12-01", "end_date": "2026-12-01", "days": 1, "reason": "flu"}


def _count(app, model, *where) -> int:  # noqa: ANN001
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _is_key_problem(resp) -> bool:  # noqa: ANN001
    body = resp.get_json()
    return (resp.status_code == 422 and resp.mimetype == "application/problem+json"
            and [e["field"] for e in body["errors"]] == ["Idempotency-Key"])


def test_start_reusing_a_key_with_another_request_is_422(api, app) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"other.bpmn": user_task_process("other_flow")}).status_code == 201
    key = {"Idempotency-Key": "leave-7"}
    first = api.post(START.format(key="leave_request"), "alice", json={"variables": LEAVE}, headers=key)
    again = api.post(START.format(key="leave_request"), "alice", json={"variables": LEAVE}, headers=key)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    before = _count(app, ProcessInstance)
    # another body under the same key
    changed = api.post(START.format(key="leave_request"), "alice", json={"variables": {**LEAVE, "days": 2}},
                       headers=key)
    assert _is_key_problem(changed)
    business = api.post(START.format(key="leave_request"), "alice",
                        json={"variables": LEAVE, "business_key": "x"}, headers=key)
    assert _is_key_problem(business)
    # another process under the same key
    assert _is_key_problem(api.post(START.format(key="other_flow"), "alice", json={}, headers=key))
    assert _count(app, ProcessInstance) == before
    # keys are per caller: bob's "leave-7" is his own
    assert api.post(START.format(key="leave_request"), "bob", json={"variables": LEAVE}, headers=key).status_code == 201


def test_concurrent_starts_with_one_key_make_one_instance(api, app) -> None:  # noqa: ANN001
    token = api.token("alice")
    statuses: list[int] = []
    ids: set[int] = set()

    def start(i: int) -> None:
        body = {"variables": {**LEAVE, "days": 1 if i % 2 == 0 else 2}}  # half the requests differ
        resp = app.test_client().post(START.format(key="leave_request"), json=body,
                                      headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "race-1"})
        statuses.append(resp.status_code)
        if resp.status_code in (200, 201):
            ids.add(resp.get_json()["id"])

    run_in_threads(6, start)
    assert statuses.count(201) == 1 and len(ids) == 1
    assert statuses.count(200) + statuses.count(422) == 5
    assert _count(app, IdempotentStart, IdempotentStart.key == "race-1") == 1


def test_messages_honour_the_idempotency_key(api, app) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"pay.bpmn": message_process("order_flow"),
                                       "start.bpmn": message_start_process("order_intake")})
    assert resp.status_code == 201, resp.get_json()
    inst = api.post(START.format(key="order_flow"), "alice", json={"business_key": "order-1"}).get_json()
    message = {"name": "payment_received", "business_key": "order-1", "variables": {"amount": 5}}
    key = {"Idempotency-Key": "pay-1"}
    first = api.post("/api/v1/messages", "admin", json=message, headers=key)
    assert first.status_code == 200 and first.get_json()["instance"]["id"] == inst["id"]
    history = _count(app, HistoryEvent, HistoryEvent.instance_id == inst["id"])
    again = api.post("/api/v1/messages", "admin", json=message, headers=key)
    assert again.status_code == 200 and again.get_json() == first.get_json()  # not a 409 "no longer waits"
    assert _count(app, HistoryEvent, HistoryEvent.instance_id == inst["id"]) == history  # not correlated again
    assert _is_key_problem(api.post("/api/v1/messages", "admin", json={**message, "variables": {"amount": 6}},
                                    headers=key))
    # a message that starts a process: a retry does not start a second one
    start = {"name": "order_placed", "business_key": "o-9"}
    made = api.post("/api/v1/messages", "admin", json=start, headers={"Idempotency-Key": "intake-1"})
    replay = api.post("/api/v1/messages", "admin", json=start, headers={"Idempotency-Key": "intake-1"})
    assert made.status_code == replay.status_code == 201 and replay.get_json() == made.get_json()
    assert _count(app, ProcessInstance, ProcessInstance.business_key == "o-9") == 1
    # without a key, nothing changes: each message is delivered
    assert api.post("/api/v1/messages", "admin", json=start).status_code == 201
    assert _count(app, ProcessInstance, ProcessInstance.business_key == "o-9") == 2
    # a malformed key is a 400 problem naming the header
    resp = api.post("/api/v1/messages", "admin", json=start, headers={"Idempotency-Key": "k" * 256})
    assert resp.status_code == 400 and resp.get_json()["errors"][0]["field"] == "Idempotency-Key"
