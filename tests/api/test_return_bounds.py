"""退回 never reaches back across a completed step that wrote records: the order confirmed (contract, receivable)
or rejected stays as it is, so a return there would run `crm.order_decided` again on an order that is no longer
pending (an incident). The targets do not offer such a step and a POSTed return there is a 422."""

from __future__ import annotations

from datetime import date

from tests.crm.conftest import Crm
from tests.crm.sales_helpers import complete, get_order, order, product, submit, task


def _targets(api, user: str, task_id: str) -> list[str]:  # noqa: ANN001
    resp = api.get(f"/api/v1/tasks/{task_id}/return-targets", user)
    assert resp.status_code == 200, resp.get_json()
    return [t["element_id"] for t in resp.get_json()["items"]]


def _refused(api, user: str, task_id: str, target: str) -> None:  # noqa: ANN001
    resp = api.post(f"/api/v1/tasks/{task_id}/return", user, json={"target_element_id": target})
    assert resp.status_code == 422, resp.get_json()
    assert resp.content_type.startswith("application/problem+json")
    assert [e["field"] for e in resp.get_json()["errors"]] == ["target_element_id"]


def _finance_order(api, code: str) -> tuple[dict, int]:  # noqa: ANN001
    """An order above 50,000 (sales head, then finance) submitted by alice: (order, instance id)."""
    c = Crm(api).customer("alice")
    p = product(api, code, 10_000)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 6}])  # 67,800 with tax
    return o, submit(api, "alice", o["id"])["instance_id"]


def test_after_the_order_is_confirmed_the_invoice_task_cannot_return_to_an_approval(api) -> None:  # noqa: ANN001
    o, inst = _finance_order(api, "RB-1")
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    fin = task(api, "carol", "finance_review", inst)
    # before anything wrote past it, finance may still send it back to the sales head
    assert _targets(api, "carol", fin["id"]) == ["sales_head_approval"]
    complete(api, "carol", "finance_review", inst, approved=True)
    assert get_order(api, "alice", o["id"])["status"] == "confirmed"
    invoice = task(api, "carol", "invoice_request", inst)
    assert _targets(api, "carol", invoice["id"]) == []  # `confirm` wrote the contract after both approvals
    for target in ("sales_head_approval", "finance_review"):
        _refused(api, "carol", invoice["id"], target)
    detail = api.get(f"/api/v1/process-instances/{inst}", "admin").get_json()
    assert detail["status"] == "running" and detail["active_element_ids"] == ["invoice_request"]
    # the flow runs on as if nothing was tried
    complete(api, "carol", "invoice_request", inst, issued_on=date.today().isoformat())
    assert api.get(f"/api/v1/process-instances/{inst}", "admin").get_json()["status"] == "completed"


def test_the_revise_task_of_a_rejected_order_cannot_return_to_an_approval(api) -> None:  # noqa: ANN001
    o, inst = _finance_order(api, "RB-2")
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    complete(api, "carol", "finance_review", inst, approved=False, comment="over the credit limit")
    assert get_order(api, "alice", o["id"])["status"] == "rejected"
    revise = task(api, "alice", "revise", inst)
    assert _targets(api, "alice", revise["id"]) == []  # `reject` wrote the rejected round
    for target in ("finance_review", "sales_head_approval"):
        _refused(api, "alice", revise["id"], target)
    # resubmitted: the new round's steps are return targets again, the old ones (before submit_round) are not
    complete(api, "alice", "revise", inst, resubmit=True)
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    fin = task(api, "carol", "finance_review", inst)
    assert _targets(api, "carol", fin["id"]) == ["sales_head_approval"]
    _refused(api, "carol", fin["id"], "revise")
    back = api.post(f"/api/v1/tasks/{fin['id']}/return", "carol", json={"target_element_id": "sales_head_approval"})
    assert back.status_code == 200, back.get_json()
    assert back.get_json()["active_element_ids"] == ["sales_head_approval"]
    assert get_order(api, "alice", o["id"])["status"] == "pending"


def test_only_messages_to_people_do_not_bound_a_return() -> None:
    """Every domain operation writes records (a return never crosses it) except `notify`."""
    from api.app import build_services
    registry = build_services()
    assert [n for n in registry.names() if not registry.get(n).writes_records] == ["notify"]
