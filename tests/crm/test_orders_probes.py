"""Sales orders after the #16 probes: a withdrawn or cancelled approval lets the order go back to draft; merging
needs the title to both customers; order writes need edit access to the customer at the time of the write;
quantities and prices that round to zero are refused; one product validator for API and imports; a manual
invoice does not break the flow's invoice step; a blank rejection reason is refused."""

from __future__ import annotations

import io
from datetime import date

from tests.crm.conftest import fields_of
from tests.crm.sales_helpers import complete, get_order, order, product, submit, task

C = "/api/v1/customers"


def _trail(api, order_id: int) -> list[str]:  # noqa: ANN001
    return [t["action"] for t in api.get(f"/api/v1/audit?entity=order&id={order_id}", "admin").get_json()["items"]]


def _events(app, name: str) -> list[dict]:  # noqa: ANN001
    from sqlalchemy import select

    from api.extensions import db
    from engine.models import WebhookDelivery
    with app.app_context():
        return [r.payload for r in db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.event == name)
                                                      .order_by(WebhookDelivery.id))]


def _hook(app) -> None:  # noqa: ANN001
    from api.extensions import db
    from engine.models import Webhook
    with app.app_context():
        db.session.add(Webhook(url="http://127.0.0.1:9/alice", events=["order.withdrawn"], secret="s",
                               created_by="alice"))
        db.session.commit()


def test_withdrawing_the_approval_puts_the_order_back_to_draft_for_editing_and_resubmission(api, crm, app) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    p = product(api, "W-1", 100)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    inst = submit(api, "alice", o["id"])["instance_id"]
    assert get_order(api, "alice", o["id"])["status"] == "pending"
    resp = api.post(f"/api/v1/process-instances/{inst}/withdraw", "alice", json={"reason": "wrong terms"})
    assert resp.status_code == 200, resp.get_json()
    back = get_order(api, "alice", o["id"])
    assert back["status"] == "draft" and back["rounds"][-1]["outcome"] == "withdrawn"
    assert "withdraw" in _trail(api, o["id"])
    assert crm.patch(f"/api/v1/orders/{o['id']}", "alice", {"payment_terms": "net60"}).status_code == 200
    again = submit(api, "alice", o["id"])
    assert again["status"] == "pending" and again["round"] == 2 and again["instance_id"] != inst


def test_cancelling_terminating_or_cancelling_an_incident_releases_the_order(api, crm, app) -> None:  # noqa: ANN001
    _hook(app)
    c = crm.customer("alice")
    p = product(api, "W-2", 100)
    # cancelled by its starter while pending
    o1 = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    i1 = submit(api, "alice", o1["id"])["instance_id"]
    assert api.post(f"/api/v1/process-instances/{i1}/cancel", "alice", json={"reason": "x"}).status_code == 200
    assert get_order(api, "alice", o1["id"])["status"] == "draft"
    # terminated by an administrator while rejected (awaiting revision)
    o2 = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    i2 = submit(api, "alice", o2["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", i2, approved=False, comment="price")
    assert get_order(api, "alice", o2["id"])["status"] == "rejected"
    assert api.post(f"/api/v1/process-instances/{i2}/cancel", "admin", json={"reason": "x"}).status_code == 200
    assert get_order(api, "alice", o2["id"])["status"] == "draft"
    # an approved order is not taken back by cancelling its invoice step
    o3 = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    i3 = submit(api, "alice", o3["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", i3, approved=True)
    assert api.post(f"/api/v1/process-instances/{i3}/cancel", "admin", json={"reason": "x"}).status_code == 200
    assert get_order(api, "alice", o3["id"])["status"] == "confirmed"
    endings = [e["ending"] for e in _events(app, "order.withdrawn")]
    assert endings == ["cancelled", "terminated"]


def test_an_incident_cancelled_releases_the_order_and_a_foreign_instance_releases_nothing(api, crm, app) -> None:  # noqa: ANN001
    _hook(app)
    c, other = crm.customer("alice"), crm.customer("alice")
    opp = crm.opportunity("alice", other["id"])
    p = product(api, "W-3", 100)
    o = order(api, "alice", other["id"], [{"product_id": p["id"], "quantity": 1}], opportunity_id=opp["id"])
    inst = submit(api, "alice", o["id"])["instance_id"]
    # the opportunity is lost meanwhile: confirming stops at an incident
    with app.app_context():
        from api.extensions import db
        from crm.models import Opportunity
        db.session.get(Opportunity, opp["id"]).status = "lost"
        db.session.commit()
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    assert api.get(f"/api/v1/process-instances/{inst}", "admin").get_json()["status"] == "error"
    assert api.post(f"/api/v1/process-instances/{inst}/cancel", "admin", json={"reason": "x"}).status_code == 200
    assert get_order(api, "alice", o["id"])["status"] == "draft"
    assert _events(app, "order.withdrawn")[-1]["ending"] == "incident_cancelled"
    # a pending order is not released by cancelling some other instance that named it
    mine = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    submit(api, "alice", mine["id"])
    stray = api.post("/api/v1/process-definitions/customer_visit/start", "alice", json={"variables": {
        "customer_id": c["id"], "visit_date": date.today().isoformat(), "purpose": "x"}})
    assert stray.status_code == 201, stray.get_json()
    api.post(f"/api/v1/process-instances/{stray.get_json()['id']}/cancel", "alice", json={"reason": "x"})
    assert get_order(api, "alice", mine["id"])["status"] == "pending"


def test_withdrawal_event_goes_to_webhooks(api, crm, app) -> None:  # noqa: ANN001
    _hook(app)
    c = crm.customer("alice")
    p = product(api, "W-4", 100)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    inst = submit(api, "alice", o["id"])["instance_id"]
    api.post(f"/api/v1/process-instances/{inst}/withdraw", "alice", json={"reason": "x"})
    sent = _events(app, "order.withdrawn")
    assert [(e["order_id"], e["status"], e["ending"]) for e in sent] == [(o["id"], "draft", "withdrawn")]


def test_an_edit_share_does_not_let_a_user_merge_customers(api, crm) -> None:  # noqa: ANN001
    theirs, mine = crm.customer("alice"), crm.customer("bob")
    assert api.post(f"{C}/{theirs['id']}/shares", "alice", json={"user": "bob", "access": "edit"}).status_code == 201
    assert api.post(f"{C}/{mine['id']}/shares", "bob", json={"user": "alice", "access": "edit"}).status_code == 201
    # alice holds an edit share on bob's customer: no title to fold it into hers, nor hers into his
    assert api.post(f"{C}/merge", "alice", json={"keep": theirs["id"], "merge": mine["id"]}).status_code == 403
    assert api.post(f"{C}/merge", "alice", json={"keep": mine["id"], "merge": theirs["id"]}).status_code == 403
    assert api.get(f"{C}/{mine['id']}", "bob").get_json()["owner"] == "bob"
    # bob manages alice: he owns both by scope
    resp = api.post(f"{C}/merge", "bob", json={"keep": mine["id"], "merge": theirs["id"]})
    assert resp.status_code == 200, resp.get_json()


def test_after_a_transfer_the_old_owner_no_longer_writes_orders_of_the_customer(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    p = product(api, "T-1", 100)
    draft = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    assert api.post(f"{C}/{c['id']}/transfer", "alice", json={"to": "bob"}).status_code == 200
    assert crm.patch(f"/api/v1/orders/{draft['id']}", "alice", {"note": "mine"}).status_code == 403
    assert api.post(f"/api/v1/orders/{draft['id']}/submit", "alice", json={}).status_code == 403
    late = api.post("/api/v1/orders", "alice", json={"customer_id": c["id"], "lines": [
        {"product_id": p["id"], "quantity": 1}]})
    assert late.status_code == 422 and fields_of(late) == ["customer_id"]
    assert get_order(api, "alice", draft["id"])["status"] == "draft"  # still read: her own history
    # the customer's new owner edits and submits what was left behind
    assert crm.patch(f"/api/v1/orders/{draft['id']}", "bob", {"note": "taken over"}).status_code == 200
    assert submit(api, "bob", draft["id"])["status"] == "pending"


def test_after_a_hand_over_the_leaver_no_longer_edits_a_rejected_order(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    p = product(api, "T-2", 100)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    inst = submit(api, "alice", o["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=False, comment="price")
    assert api.post(f"{C}/handover", "bob", json={"from": "alice", "to": "bob"}).status_code == 200
    assert crm.patch(f"/api/v1/orders/{o['id']}", "alice", {"note": "still mine?"}).status_code == 403
    assert crm.patch(f"/api/v1/orders/{o['id']}", "bob", {"note": "mine now"}).status_code == 200


def test_quantities_and_prices_that_round_to_zero_are_refused(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    p = product(api, "R-1", 100)
    for line, field in (({"quantity": 0.0001}, "quantity"), ({"quantity": 0.0004}, "quantity"),
                        ({"quantity": 1, "unit_price": 0.004}, "unit_price"),
                        ({"quantity": 1, "unit_price": 0}, "unit_price")):
        resp = api.post("/api/v1/orders", "alice", json={"customer_id": c["id"], "lines": [
            {"product_id": p["id"], **line}]})
        assert resp.status_code == 422, (line, resp.get_json())
        assert fields_of(resp) == [f"lines[0].{field}"], resp.get_json()
        quote = api.post("/api/v1/quotes", "alice", json={"customer_id": c["id"], "lines": [
            {"product_id": p["id"], **line}]})
        assert quote.status_code == 422, (line, quote.get_json())
    ok = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 0.0005, "unit_price": 10.005}])
    line = ok["lines"][0]
    assert (line["quantity"], line["unit_price"], line["amount"]) == (0.001, 10.01, 0.01)  # from the rounded values


def test_one_product_validator_for_the_api_csv_and_xlsx(api) -> None:  # noqa: ANN001
    from crm.tabular import to_xlsx
    big = api.post("/api/v1/products", "admin", json={"code": "BIG", "name": "Big", "list_price": 10**9 + 1})
    assert big.status_code == 422 and fields_of(big) == ["list_price"]
    csv = b"code,name,list_price\nOK-1,Fine,10\nBIG-1,Too dear,1000000001\n"
    resp = api.post("/api/v1/products/import", "admin", data={"file": (io.BytesIO(csv), "p.csv")},
                    content_type="multipart/form-data")
    assert resp.status_code == 422, resp.get_json()
    assert [(e["row"], e["field"]) for e in resp.get_json()["errors"]] == [(3, "list_price")]
    xlsx = to_xlsx(["code", "name", "list_price"], [{"code": "X-1", "name": "Dear", "list_price": 999999999999}],
                   "products")
    resp = api.post("/api/v1/products/import", "admin", data={"file": (io.BytesIO(xlsx), "p.xlsx")},
                    content_type="multipart/form-data")
    assert resp.status_code == 422 and [e["field"] for e in resp.get_json()["errors"]] == ["list_price"]
    assert api.get("/api/v1/products", "admin").get_json()["items"] == []
    edge = b"code,name,list_price\nEDGE,At the cap,1000000000\n"
    resp = api.post("/api/v1/products/import", "admin", data={"file": (io.BytesIO(edge), "p.csv")},
                    content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()


def test_a_manual_invoice_completes_the_flows_invoice_step_without_a_duplicate(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    p = product(api, "I-1", 100)
    full = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    inst = submit(api, "alice", full["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    assert api.post("/api/v1/invoices", "carol", json={"order_id": full["id"]}).status_code == 201
    complete(api, "carol", "invoice_request", inst, issued_on=date.today().isoformat())
    done = api.get(f"/api/v1/process-instances/{inst}", "admin").get_json()
    assert done["status"] == "completed", done
    assert len(api.get(f"/api/v1/invoices?order_id={full['id']}", "carol").get_json()["items"]) == 1
    # a partial invoice by hand: the flow's step invoices the rest
    part = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    inst = submit(api, "alice", part["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    assert api.post("/api/v1/invoices", "carol", json={"order_id": part["id"], "amount": 100}).status_code == 201
    complete(api, "carol", "invoice_request", inst, issued_on=date.today().isoformat())
    assert api.get(f"/api/v1/process-instances/{inst}", "admin").get_json()["status"] == "completed"
    amounts = [i["amount"] for i in api.get(f"/api/v1/invoices?order_id={part['id']}", "carol").get_json()["items"]]
    assert amounts == [100.0, 13.0]


def test_a_blank_rejection_reason_is_refused(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    p = product(api, "B-1", 100)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    inst = submit(api, "alice", o["id"])["instance_id"]
    found = task(api, "bob", "sales_head_approval", inst)
    for blank in (" ", "   \n\t ", "\u200b", "\u3000", "\u00a0\ufeff\u2060", "\u200e\u0007 "):
        resp = api.post(f"/api/v1/tasks/{found['id']}/complete", "bob", json={"variables": {
            "approved": False, "comment": blank}})
        assert resp.status_code == 422 and fields_of(resp) == ["comment"], resp.get_json()
    complete(api, "bob", "sales_head_approval", inst, approved=False, comment="\u200b\u3000too cheap  ")
    assert get_order(api, "alice", o["id"])["rounds"][-1]["reason"] == "too cheap"


def test_a_designers_flow_cannot_confirm_or_invoice_an_order(api, crm) -> None:  # noqa: ANN001
    """Order steps move an order only inside its own approval flow: strung together in another flow they would
    confirm an order nobody approved, or invoice a colleague's order as finance."""
    from tests.bpmn_samples import service_process
    from tests.conftest import deploy_files
    c = crm.customer("alice")
    p = product(api, "W-9", 100)
    draft = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    steps = {"confirm": ("crm.order_decided", {"order_id": "oid", "outcome": "'approved'"}),
             "submit": ("crm.order_submitted", {"order_id": "oid"}),
             "invoice": ("crm.issue_invoice", {"order_id": "oid", "user": "'carol'"})}
    for key, (operation, params) in steps.items():
        resp = deploy_files(api, "grace", {f"p_{key}.bpmn": service_process(f"p_{key}", operation, params)})
        assert resp.status_code == 201, resp.get_json()
        started = api.post(f"/api/v1/process-definitions/p_{key}/start", "alice",
                           json={"variables": {"oid": draft["id"]}})
        assert started.status_code in (201, 422), started.get_json()
        assert started.status_code == 422 or started.get_json()["status"] == "error", (key, started.get_json())
    after = get_order(api, "alice", draft["id"])
    assert after["status"] == "draft" and not after.get("invoices")
