"""The visit an approved customer_visit flow plans shows on the customer (GET /customers/{id}): date, purpose,
rep, status and the instance; and only to those who may read the customer."""

from __future__ import annotations

from tests.api.test_shipped_flows import _complete, _customer, _task


def test_an_approved_visit_shows_on_the_customer(api) -> None:  # noqa: ANN001
    customer = _customer(api)
    resp = api.post("/api/v1/process-definitions/customer_visit/start", "alice", json={"variables": {
        "customer_id": customer["id"], "visit_date": "2031-11-20", "purpose": "<b>quarterly</b> review"}})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()
    assert api.get(f"/api/v1/customers/{customer['id']}", "alice").get_json()["visit_plans"] == []
    _complete(api, "bob", _task(api, "bob", "manager_approval", inst["id"]), approved=True)
    resp = api.get(f"/api/v1/customers/{customer['id']}", "alice")
    assert resp.status_code == 200, resp.get_json()
    [plan] = resp.get_json()["visit_plans"]
    assert {k: plan[k] for k in ("visit_date", "purpose", "user", "status", "instance_id")} == {
        "visit_date": "2031-11-20", "purpose": "<b>quarterly</b> review", "user": "alice", "status": "planned",
        "instance_id": inst["id"]}
    assert api.get(f"/api/v1/customers/{customer['id']}", "erin").status_code == 404  # not erin's to read
