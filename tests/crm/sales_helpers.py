"""Helpers for the sales-order tests: products, orders and the approval tasks over HTTP."""

from __future__ import annotations


def product(api, code: str = "P-1", price: float = 100, **fields) -> dict:  # noqa: ANN001, ANN003
    """Create a product as admin."""
    body = {"code": code, "name": f"Product {code}", "unit": "pcs", "category": "hardware", "list_price": price}
    body.update(fields)
    resp = api.post("/api/v1/products", "admin", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def order(api, user: str, customer_id: int, lines: list[dict], **fields) -> dict:  # noqa: ANN001, ANN003
    """Create a draft order as `user`."""
    resp = api.post("/api/v1/orders", user, json={"customer_id": customer_id, "lines": lines, **fields})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def submit(api, user: str, order_id: int) -> dict:  # noqa: ANN001
    """Submit an order for approval."""
    resp = api.post(f"/api/v1/orders/{order_id}/submit", user, json={})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def task(api, user: str, element_id: str, instance_id: int) -> dict | None:  # noqa: ANN001
    """The open task `element_id` of the instance that `user` may work on, or None."""
    tasks = api.tasks(user, candidate="me") + api.tasks(user, assignee="me")
    return next((t for t in tasks if t["element_id"] == element_id and t["instance_id"] == instance_id), None)


def complete(api, user: str, element_id: str, instance_id: int, **variables) -> None:  # noqa: ANN001, ANN003
    """Complete the named task as `user`."""
    found = task(api, user, element_id, instance_id)
    assert found is not None, f"{user} has no {element_id} task"
    resp = api.post(f"/api/v1/tasks/{found['id']}/complete", user, json={"variables": variables})
    assert resp.status_code == 200, resp.get_json()


def get_order(api, user: str, order_id: int) -> dict:  # noqa: ANN001
    """Read an order."""
    resp = api.get(f"/api/v1/orders/{order_id}", user)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()
