"""Owner operations: transfer, release to the pool, hand-over of a leaver's work, merging duplicates; each
audited, each refused to whoever may not do it."""

from __future__ import annotations

from datetime import date, timedelta

from tests.crm.conftest import fields_of
from tests.crm.sales_helpers import order, product

C = "/api/v1/customers"


def _follow_up(api, user: str, customer_id: int) -> dict:  # noqa: ANN001
    resp = api.post("/api/v1/follow-ups", user, json={
        "customer_id": customer_id, "type": "call", "content": "call back",
        "next_follow_up_date": (date.today() + timedelta(days=3)).isoformat()})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _actions(api, entity: str, record_id: int) -> list[str]:  # noqa: ANN001
    return [t["action"] for t in api.get(f"/api/v1/audit?entity={entity}&id={record_id}", "admin").get_json()["items"]]


def test_transfer_moves_the_customer_open_deals_and_pending_follow_ups(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    opp = crm.opportunity("alice", c["id"])
    fu = _follow_up(api, "alice", c["id"])
    assert api.post(f"{C}/{c['id']}/transfer", "carol", json={"to": "carol"}).status_code == 404
    assert crm.api.post(f"{C}/{c['id']}/shares", "alice", json={"user": "frank", "access": "edit"}).status_code == 201
    assert api.post(f"{C}/{c['id']}/transfer", "frank", json={"to": "frank"}).status_code == 403  # a share is no title
    bad = api.post(f"{C}/{c['id']}/transfer", "alice", json={"to": "nobody"})
    assert bad.status_code == 422 and fields_of(bad) == ["to"]
    outside = api.post(f"{C}/{c['id']}/transfer", "alice", json={"to": "grace"})  # not in sales: customer stranded
    assert outside.status_code == 422 and fields_of(outside) == ["to"]
    resp = api.post(f"{C}/{c['id']}/transfer", "alice", json={"to": "bob"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"customer_id": c["id"], "owner": "bob", "opportunities": 1, "follow_ups": 1}
    assert api.get(f"{C}/{c['id']}", "bob").get_json()["owner"] == "bob"
    assert api.get(f"/api/v1/opportunities/{opp['id']}", "bob").get_json()["owner"] == "bob"
    assert api.get(f"/api/v1/follow-ups?customer_id={c['id']}", "bob").get_json()["items"][0]["user"] == "bob"
    assert fu["id"]
    assert api.get(f"{C}/{c['id']}", "alice").status_code == 404
    assert "transfer" in _actions(api, "customer", c["id"]) and "transfer" in _actions(api, "opportunity", opp["id"])


def test_release_by_hand_puts_the_customer_in_the_pool(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    assert api.post(f"{C}/{c['id']}/release", "carol").status_code == 404
    resp = api.post(f"{C}/{c['id']}/release", "alice")
    assert resp.status_code == 200 and resp.get_json()["owner"] is None
    assert c["id"] in [x["id"] for x in api.get(f"{C}?pool=public", "carol").get_json()["items"]]
    assert api.post(f"{C}/{c['id']}/release", "alice").status_code == 409
    assert _actions(api, "customer", c["id"])[-1] == "release"


def test_hand_over_everything_a_leaver_owns_in_one_action(api, crm) -> None:  # noqa: ANN001
    c1, c2 = crm.customer("alice"), crm.customer("alice")
    opp = crm.opportunity("alice", c1["id"])
    p = product(api, "A", 10)
    o = order(api, "alice", c2["id"], [{"product_id": p["id"], "quantity": 1}])
    k = crm.contract("alice", c1["id"], amount=500)
    _follow_up(api, "alice", c1["id"])
    assert api.post(f"{C}/handover", "carol", json={"from": "alice", "to": "carol"}).status_code == 403
    assert api.post(f"{C}/handover", "alice", json={"from": "bob", "to": "alice"}).status_code == 403
    same = api.post(f"{C}/handover", "bob", json={"from": "alice", "to": "alice"})
    assert same.status_code == 422 and fields_of(same) == ["to"]
    resp = api.post(f"{C}/handover", "bob", json={"from": "alice", "to": "bob"})  # alice's manager
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"customers": 2, "follow_ups": 1, "opportunities": 1, "quotes": 0, "orders": 1,
                               "contracts": 1}
    assert api.get(f"{C}?owner=alice", "admin").get_json()["total"] == 0
    assert api.get(f"/api/v1/orders/{o['id']}", "bob").get_json()["owner"] == "bob"
    assert api.get(f"/api/v1/contracts/{k['id']}", "bob").get_json()["owner"] == "bob"
    assert api.get(f"/api/v1/opportunities/{opp['id']}", "bob").get_json()["owner"] == "bob"
    assert "handover" in _actions(api, "order", o["id"])


def test_merge_moves_everything_and_the_merged_one_redirects(api, crm) -> None:  # noqa: ANN001
    keep, dup = crm.customer("alice", name="ACME Ltd"), crm.customer("alice", name="ACME Limited")
    contact = api.post("/api/v1/contacts", "alice", json={"customer_id": dup["id"], "name": "Li"}).get_json()
    opp = crm.opportunity("alice", dup["id"])
    p = product(api, "A", 10)
    o = order(api, "alice", dup["id"], [{"product_id": p["id"], "quantity": 1}])
    _follow_up(api, "alice", dup["id"])
    other = crm.customer("carol")
    bad = api.post(f"{C}/merge", "alice", json={"keep": keep["id"], "merge": other["id"]})
    assert bad.status_code == 422 and fields_of(bad) == ["merge"]
    assert api.post(f"{C}/merge", "alice", json={"keep": keep["id"], "merge": keep["id"]}).status_code == 422
    resp = api.post(f"{C}/merge", "alice", json={"keep": keep["id"], "merge": dup["id"]})
    assert resp.status_code == 200, resp.get_json()
    moved = resp.get_json()["moved"]
    assert (moved["contact"], moved["opportunity"], moved["order"], moved["follow_up"]) == (1, 1, 1, 1)
    assert api.get(f"/api/v1/contacts/{contact['id']}", "alice").get_json()["customer_id"] == keep["id"]
    assert api.get(f"/api/v1/opportunities/{opp['id']}", "alice").get_json()["customer_id"] == keep["id"]
    assert api.get(f"/api/v1/orders/{o['id']}", "alice").get_json()["customer_id"] == keep["id"]
    redirect = api.get(f"{C}/{dup['id']}", "alice")
    assert redirect.status_code == 308 and redirect.headers["Location"].endswith(f"{C}/{keep['id']}")
    assert [x["id"] for x in api.get(C, "alice").get_json()["items"]] == [keep["id"]]
    assert api.post(f"{C}/merge", "alice", json={"keep": keep["id"], "merge": dup["id"]}).status_code == 409
    assert "merge" in _actions(api, "customer", keep["id"])
    late = api.post("/api/v1/orders", "alice", json={"customer_id": dup["id"], "lines": [
        {"product_id": p["id"], "quantity": 1}]})
    assert late.status_code == 422 and fields_of(late) == ["customer_id"]
