"""Hand-over goes only to an active sales rep in the manager's team, and moves only what hangs off the leaver's
own customers."""

from __future__ import annotations

from tests.crm.conftest import Crm, fields_of
from tests.crm.sales_helpers import get_order, order, product

C = "/api/v1/customers"


def test_hand_over_goes_to_an_active_sales_rep_in_the_managers_team(api) -> None:  # noqa: ANN001
    crm = Crm(api)
    crm.customer("alice")
    for to in ("carol", "erp", "frank", "nobody", "admin"):  # finance, the integrator, legal, unknown, admin
        resp = api.post(f"{C}/handover", "admin", json={"from": "alice", "to": to})
        assert resp.status_code == 422 and fields_of(resp) == ["to"], (to, resp.get_json())
    resp = api.post("/api/v1/users", "admin", json={"username": "nina", "roles": ["employee"], "manager": "dave",
                                                     "groups": ["sales"]})
    assert resp.status_code == 201, resp.get_json()
    resp = api.post(f"{C}/handover", "bob", json={"from": "alice", "to": "nina"})  # nina is not in bob's team
    assert resp.status_code == 422 and fields_of(resp) == ["to"]
    assert api.get(f"{C}?owner=alice", "admin").get_json()["total"] == 1  # nothing moved
    resp = api.post(f"{C}/handover", "admin", json={"from": "alice", "to": "nina"})
    assert resp.status_code == 200 and resp.get_json()["customers"] == 1


def test_hand_over_leaves_records_on_customers_the_leaver_no_longer_owns(api) -> None:  # noqa: ANN001
    crm = Crm(api)
    mine, gone = crm.customer("alice"), crm.customer("alice")
    p = product(api, "HO-1", 10)
    kept = order(api, "alice", mine["id"], [{"product_id": p["id"], "quantity": 1}])
    left = order(api, "alice", gone["id"], [{"product_id": p["id"], "quantity": 1}])
    resp = api.post("/api/v1/users", "admin", json={"username": "nina", "roles": ["employee"], "manager": "bob",
                                                     "groups": ["sales"]})
    assert resp.status_code == 201, resp.get_json()
    assert api.post(f"{C}/{gone['id']}/transfer", "bob", json={"to": "nina"}).status_code == 200
    resp = api.post(f"{C}/handover", "bob", json={"from": "alice", "to": "bob"})
    assert resp.status_code == 200 and resp.get_json()["orders"] == 1 and resp.get_json()["customers"] == 1
    assert get_order(api, "bob", kept["id"])["owner"] == "bob"
    assert get_order(api, "bob", left["id"])["owner"] == "alice"  # the draft on nina's customer is not bob's
    assert api.get(f"/api/v1/orders/{kept['id']}", "alice").status_code == 404  # handed over: the leaver lets go
