"""Expense claim rules: the strictest approval chain that applies, and approvals the flow exposes as variables."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.extensions import db

MANAGER, FINANCE, GM = "manager", "manager,finance", "manager,finance,general_manager"


def _start(api, category: str, amount: float) -> dict:  # noqa: ANN001
    resp = api.post("/api/v1/process-definitions/expense_claim/start", "alice", json={"variables": {"items": [
        {"category": category, "amount": amount, "date": "2026-11-20", "description": "claim"}]}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _variables(api, instance_id: int) -> dict:  # noqa: ANN001
    return api.get(f"/api/v1/process-instances/{instance_id}", "admin").get_json()["variables"]


@pytest.mark.parametrize(("category", "amount", "chain"), [
    ("entertainment", 500, MANAGER),        # entertainment rule needs > 500
    ("entertainment", 600, FINANCE),        # entertainment rule
    ("entertainment", 5000, FINANCE),
    ("entertainment", 10000, FINANCE),
    ("entertainment", 20000, GM),           # was manager,finance: the entertainment row came first
    ("travel", 999, MANAGER),
    ("travel", 1000, MANAGER),
    ("travel", 1001, FINANCE),
    ("office", 10000, FINANCE),
    ("office", 10001, GM),
    ("meals", 250000, GM),
])
def test_each_row_and_overlap_of_the_chain_table(api, category: str, amount: float, chain: str) -> None:  # noqa: ANN001
    inst = _start(api, category, amount)
    assert _variables(api, inst["id"])["chain"] == chain


def _task(api, user: str, element_id: str, instance_id: int) -> dict:  # noqa: ANN001
    tasks = api.tasks(user, candidate="me") + api.tasks(user, assignee="me")
    return next(t for t in tasks if t["element_id"] == element_id and t["instance_id"] == instance_id)


def _complete(api, user: str, task: dict, **variables) -> None:  # noqa: ANN001, ANN003
    resp = api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"variables": variables})
    assert resp.status_code == 200, resp.get_json()


def test_finance_and_gm_approvals_are_true_in_variables_and_webhook(api, app) -> None:  # noqa: ANN001
    from engine.models import Webhook, WebhookDelivery
    with app.app_context():
        db.session.add(Webhook(url="http://127.0.0.1:9/finance", events=["expense.paid"], secret="s",
                               created_by="erp"))
        db.session.commit()
    inst = _start(api, "entertainment", 20000)
    assert _variables(api, inst["id"])["finance_approved"] is False
    _complete(api, "bob", _task(api, "bob", "manager_approval", inst["id"]), approved=True)
    _complete(api, "carol", _task(api, "carol", "finance_approval", inst["id"]), approved=True)
    assert _variables(api, inst["id"])["finance_approved"] is True
    _complete(api, "dave", _task(api, "dave", "gm_approval", inst["id"]), approved=True)
    _complete(api, "carol", _task(api, "carol", "pay", inst["id"]), payment_reference="PAY-9")
    final = api.get(f"/api/v1/process-instances/{inst['id']}", "admin").get_json()
    assert final["status"] == "completed"
    assert final["variables"]["finance_approved"] is True and final["variables"]["gm_approved"] is True
    with app.app_context():
        payload = db.session.scalars(select(WebhookDelivery)).one().payload["payload"]
    assert payload["finance_approved"] is True and payload["gm_approved"] is True and payload["total"] == 20000


def test_manager_only_claim_is_not_marked_finance_approved(api, app) -> None:  # noqa: ANN001
    inst = _start(api, "office", 100)
    _complete(api, "bob", _task(api, "bob", "manager_approval", inst["id"]), approved=True)
    _complete(api, "carol", _task(api, "carol", "pay", inst["id"]), payment_reference="PAY-1")
    final = _variables(api, inst["id"])
    assert final["outcome"] == "paid" and final["finance_approved"] is False and final["gm_approved"] is False


def _upload(api, user: str, content: bytes = b"%PDF-1.4 receipt", name: str = "receipt.pdf"):  # noqa: ANN001, ANN202
    import io
    return api.client.post("/api/v1/attachments", data={"file": (io.BytesIO(content), name)},
                           headers=api.headers(user), content_type="multipart/form-data")


def _claim(api, user: str, receipts: list):  # noqa: ANN001, ANN202
    items = [{"category": "travel", "amount": 100, "date": "2026-11-20", "description": "taxi", "receipt": r}
             for r in receipts]
    return api.post("/api/v1/process-definitions/expense_claim/start", user, json={"variables": {"items": items}})


def test_receipts_are_the_applicants_uploads_and_are_attached_to_the_claim(api, app) -> None:  # noqa: ANN001
    from engine.models import ProcessInstance
    mine = _upload(api, "alice")
    assert mine.status_code == 201, mine.get_json()
    receipt = mine.get_json()["id"]
    assert api.get(f"/api/v1/attachments/{receipt}", "alice").status_code == 200
    assert api.get(f"/api/v1/attachments/{receipt}", "bob").status_code == 404  # not bob's
    bobs = _upload(api, "bob").get_json()["id"]
    with app.app_context():
        before = db.session.query(ProcessInstance).count()
    for bad, fields in (([bobs], ["items/0/receipt"]), ([99999], ["items/0/receipt"]),
                        ([receipt, receipt], ["items/1/receipt"])):
        resp = _claim(api, "alice", bad)
        assert resp.status_code == 422, resp.get_json()
        assert [e["field"] for e in resp.get_json()["errors"]] == fields
    with app.app_context():
        assert db.session.query(ProcessInstance).count() == before  # nothing written
    inst = _claim(api, "alice", [receipt])
    assert inst.status_code == 201, inst.get_json()
    iid = inst.get_json()["id"]
    files = api.get(f"/api/v1/process-instances/{iid}/attachments", "bob").get_json()  # the approver reads it
    assert [f["id"] for f in files["items"]] == [receipt]
    assert api.get(f"/api/v1/process-instances/{iid}/attachments/{receipt}", "bob").status_code == 200
    assert api.get(f"/api/v1/attachments/{receipt}", "alice").status_code == 404  # no longer pending
    again = _claim(api, "alice", [receipt])  # a receipt serves one claim only
    assert again.status_code == 422 and again.get_json()["errors"][0]["field"] == "items/0/receipt"


def test_receipt_uploads_are_checked(api) -> None:  # noqa: ANN001
    assert _upload(api, None).status_code == 401
    assert _upload(api, "alice", b"MZ\x90\x00\x03binary", "x.exe").status_code == 422
    assert _upload(api, "alice", b"<html><script>alert(1)</script>", "r.html").status_code == 422
    big = _upload(api, "alice", b"%PDF-" + b"0" * (api.app.config["OAFLOW_MAX_FILE_BYTES"] + 10))
    assert big.status_code == 413
    resp = api.client.post("/api/v1/attachments", data={}, headers=api.headers("alice"),
                           content_type="multipart/form-data")
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "file"


def test_the_same_receipt_is_not_paid_twice(api) -> None:  # noqa: ANN001
    """A copied claim, or the same file uploaded again, cannot claim a receipt that another claim in approval or
    paid already holds; once that claim is rejected the receipt may be claimed again."""
    scan = b"%PDF-1.4 taxi receipt 2026-11-20 CNY 100.00"
    first = _claim(api, "alice", [_upload(api, "alice", scan).get_json()["id"]])
    assert first.status_code == 201, first.get_json()
    first_id = first.get_json()["id"]
    copy = _upload(api, "alice", scan, "same-receipt-renamed.pdf").get_json()["id"]
    again = _claim(api, "alice", [copy])
    assert again.status_code == 422, again.get_json()
    mine = f"this receipt is already claimed in your expense claim #{first_id}"
    assert again.get_json()["errors"] == [{"field": "items/0/receipt", "message": mine}]
    other = _claim(api, "alice", [_upload(api, "alice", b"%PDF-1.4 another receipt").get_json()["id"]])
    assert other.status_code == 201  # a different file is fine
    _complete(api, "bob", _task(api, "bob", "manager_approval", first_id), approved=False, comment="wrong project")
    resubmitted = _claim(api, "alice", [copy])  # rejected: its receipt may be claimed again
    assert resubmitted.status_code == 201, resubmitted.get_json()
    paid_id = resubmitted.get_json()["id"]
    _complete(api, "bob", _task(api, "bob", "manager_approval", paid_id), approved=True)
    _complete(api, "carol", _task(api, "carol", "pay", paid_id), payment_reference="PAY-1")
    assert api.get(f"/api/v1/process-instances/{paid_id}", "admin").get_json()["status"] == "completed"
    third = _claim(api, "alice", [_upload(api, "alice", scan).get_json()["id"]])
    assert third.status_code == 422
    paid = f"this receipt is already claimed in your expense claim #{paid_id}"
    assert third.get_json()["errors"][0]["message"] == paid


@pytest.mark.parametrize("amount", [1e-300, 0.004, 0.005, 0.0099])
def test_a_line_amount_below_a_cent_is_refused_naming_the_line(api, app, amount: float) -> None:  # noqa: ANN001
    from engine.models import ProcessInstance
    resp = api.post("/api/v1/process-definitions/expense_claim/start", "alice", json={"variables": {"items": [
        {"category": "travel", "amount": 12.5, "date": "2026-11-20", "description": "train"},
        {"category": "meals", "amount": amount, "date": "2026-11-20", "description": "a crumb"}]}})
    assert resp.status_code == 422, resp.get_json()
    assert [e["field"] for e in resp.get_json()["errors"]] == ["items/1/amount"]
    with app.app_context():
        assert db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.process_key == "expense_claim")) \
            is None


def test_the_cent_rule_holds_for_a_claim_form_that_allows_any_positive_amount(app) -> None:  # noqa: ANN001
    from oa.expense_rules import check_line_amounts
    from store.errors import InvalidData
    with pytest.raises(InvalidData) as refused:  # an expense_claim version deployed with the old form
        check_line_amounts(None, "alice", {"items": [{"amount": 0.004}, {"amount": 0.005}, {"amount": 1e-300}]})
    assert [e["field"] for e in refused.value.errors] == ["items/0/amount", "items/2/amount"]


def test_a_claim_of_one_cent_enters_approval_at_one_cent(api) -> None:  # noqa: ANN001
    inst = _start(api, "office", 0.01)
    assert _variables(api, inst["id"])["total"] == 0.01


def test_one_file_serves_one_line_and_anothers_claim_is_not_named(api) -> None:  # noqa: ANN001
    scan = b"%PDF-1.4 hotel invoice 2026-11-21 CNY 480.00"
    twice = [_upload(api, "alice", scan).get_json()["id"], _upload(api, "alice", scan, "again.pdf").get_json()["id"]]
    resp = _claim(api, "alice", twice)  # one file uploaded twice, one receipt per line
    assert resp.status_code == 422 and resp.get_json()["errors"] == [
        {"field": "items/1/receipt", "message": "the same file as the receipt of another line"}]
    assert _claim(api, "alice", twice[:1]).status_code == 201
    bobs = _claim(api, "bob", [_upload(api, "bob", scan).get_json()["id"]])  # bob holds a copy of alice's file
    assert bobs.status_code == 422
    assert bobs.get_json()["errors"][0]["message"] == "this receipt is already claimed in another expense claim"
