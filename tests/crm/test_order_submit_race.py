"""Two submissions of one order at once: one starts the approval, every other gets 409 (as a second submission
after the first does), never 422; and a reader who may not edit an order gets 403 on PATCH."""

from __future__ import annotations

from tests.conftest import run_in_threads
from tests.crm.conftest import Crm
from tests.crm.sales_helpers import order, product


def test_concurrent_submissions_lose_with_409_like_a_sequential_one(api, app) -> None:  # noqa: ANN001
    import threading
    crm = Crm(api)
    c = crm.customer("alice")
    p = product(api, "SR-1", 100)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    headers = api.headers("alice")
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def go(_i: int) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(f"/api/v1/orders/{o['id']}/submit", headers=headers, json={}).status_code)

    run_in_threads(4, go)
    assert sorted(statuses) == [200, 409, 409, 409], statuses
    assert api.post(f"/api/v1/orders/{o['id']}/submit", "alice", json={}).status_code == 409
    listed = api.get("/api/v1/process-instances", "admin", query_string={"business_key": f"order:{o['id']}"})
    assert listed.status_code == 200


def test_a_reader_who_may_not_edit_an_order_gets_403(api) -> None:  # noqa: ANN001
    crm = Crm(api)
    c = crm.customer("alice")
    p = product(api, "SR-2", 100)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    assert api.post(f"/api/v1/customers/{c['id']}/shares", "alice",
                    json={"user": "frank", "access": "read"}).status_code in (200, 201)
    assert crm.patch(f"/api/v1/orders/{o['id']}", "frank", {"note": "x"}).status_code == 403
    assert crm.patch(f"/api/v1/orders/{o['id']}", "carol", {"note": "x"}).status_code == 403  # finance reads all
    assert crm.patch(f"/api/v1/orders/{o['id']}", "erin", {"note": "x"}).status_code == 404
