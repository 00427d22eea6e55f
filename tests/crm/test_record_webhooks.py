"""CRM record events reach webhooks through the delivery queue, each only to owners who may read the record."""

from __future__ import annotations

from sqlalchemy import select, update

from api.extensions import db
from api.scheduler import deliver_webhooks_once
from engine.models import WebhookDelivery
from oa.models import User
from tests.crm.conftest import Crm
from tests.webhook_receiver import receiver

OPP = "/api/v1/opportunities"


def _deliver_all(app) -> None:  # noqa: ANN001
    while deliver_webhooks_once(app):
        pass
    with app.app_context():
        assert not db.session.scalars(select(WebhookDelivery.id).where(WebhookDelivery.status == "pending")).all()


def test_record_events_are_delivered_within_the_owners_scope(api, app, crm: Crm) -> None:  # noqa: ANN001
    with app.app_context():  # bob (alice's manager) also integrates: his webhook sees his team's records
        db.session.execute(update(User).where(User.username == "bob").values(roles=["employee", "integrator"]))
        db.session.commit()
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True  # the receiver is on loopback
    with receiver() as (server, received):
        base = f"http://127.0.0.1:{server.server_port}"
        assert api.post("/api/v1/webhooks", "bob", json={"url": f"{base}/bob"}).status_code == 201
        assert api.post("/api/v1/webhooks", "admin", json={"url": f"{base}/admin",
                                                           "events": ["customer.created"]}).status_code == 201
        mine = crm.customer("alice")
        theirs = crm.customer("carol")
        assert crm.patch(f"/api/v1/customers/{mine['id']}", "alice", {"level": "A"}).status_code == 200
        opp = crm.opportunity("alice", mine["id"])
        assert crm.patch(f"{OPP}/{opp['id']}", "alice", {"stage": "proposal"}).status_code == 200
        won = api.post(f"{OPP}/{opp['id']}/win", "alice", json={"reason": "price"}).get_json()
        lost = crm.opportunity("alice", mine["id"])
        assert api.post(f"{OPP}/{lost['id']}/lose", "alice", json={"reason": "budget"}).status_code == 200
        ticket = api.post("/api/v1/tickets", "alice", json={"customer_id": mine["id"], "title": "Broken"}).get_json()
        assert api.post(f"/api/v1/tickets/{ticket['id']}/close", "alice",
                        json={"outcome": "fixed"}).status_code == 200
        _deliver_all(app)
    to_bob = [(body["event"], body["data"]) for path, body in received if path == "/bob"]
    assert to_bob == [
        ("customer.created", {"entity": "customer", "id": mine["id"]}),
        ("customer.updated", {"entity": "customer", "id": mine["id"]}),
        ("opportunity.stage_changed", {"entity": "opportunity", "id": opp["id"]}),
        ("opportunity.won", {"entity": "opportunity", "id": opp["id"]}),
        ("contract.activated", {"entity": "contract", "id": won["contract"]["id"]}),
        ("opportunity.lost", {"entity": "opportunity", "id": lost["id"]}),
        ("ticket.created", {"entity": "ticket", "id": ticket["id"]}),
        ("ticket.closed", {"entity": "ticket", "id": ticket["id"]}),
    ]  # nothing about carol's customer: bob may not read it
    to_admin = [body["data"]["id"] for path, body in received if path == "/admin"]
    assert to_admin == [mine["id"], theirs["id"]]
    with app.app_context():
        refused = db.session.scalars(select(WebhookDelivery.event).where(WebhookDelivery.status == "refused")).all()
    assert refused == ["customer.created"]  # carol's, for bob's webhook


def test_a_pool_claim_is_a_transfer(api, app, crm: Crm) -> None:  # noqa: ANN001
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    with receiver() as (server, received):
        url = f"http://127.0.0.1:{server.server_port}/hook"
        api.post("/api/v1/webhooks", "admin", json={"url": url, "events": ["customer.transferred"]})
        pooled = crm.customer("admin")
        with app.app_context():
            from crm.models import Customer
            db.session.execute(update(Customer).where(Customer.id == pooled["id"]).values(owner=None))
            db.session.commit()
        assert api.post(f"/api/v1/customers/{pooled['id']}/claim", "alice").status_code == 200
        _deliver_all(app)
    assert [(b["event"], b["data"]["id"]) for _p, b in received] == [("customer.transferred", pooled["id"])]
