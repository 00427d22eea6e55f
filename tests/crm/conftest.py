"""Shared CRM fixtures: helpers that create customers and opportunities over HTTP and read rows directly."""

from __future__ import annotations

import pytest

C = "/api/v1/customers"


class Crm:
    """Small helpers over the `api` client for CRM tests."""

    def __init__(self, api) -> None:  # noqa: ANN001
        self.api = api
        self._n = 0

    def customer(self, user: str = "alice", **fields) -> dict:  # noqa: ANN003
        """Create a customer as `user` and return it."""
        self._n += 1
        body = {"name": f"Company {user} {self._n}", "industry": "retail", "region": "north", "level": "B",
                "source": "web", "phone": f"+86 10 {self._n:04d} {abs(hash(user)) % 10000:04d}"}
        body.update(fields)
        resp = self.api.post(C, user, json=body)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def opportunity(self, user: str, customer_id: int, **fields) -> dict:  # noqa: ANN003
        """Create an opportunity as `user`."""
        body = {"customer_id": customer_id, "name": "Deal", "amount": 1000}
        body.update(fields)
        resp = self.api.post("/api/v1/opportunities", user, json=body)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def contract(self, user: str, customer_id: int, amount: float = 1000, **fields) -> dict:  # noqa: ANN003
        """Create an active contract as `user`."""
        body = {"customer_id": customer_id, "title": "Contract", "amount": amount, "status": "active"}
        body.update(fields)
        resp = self.api.post("/api/v1/contracts", user, json=body)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def patch(self, path: str, user: str, json: dict):  # noqa: ANN201, A002
        return self.api.client.patch(path, json=json, headers=self.api.headers(user))

    def put(self, path: str, user: str, json: dict):  # noqa: ANN201, A002
        return self.api.client.put(path, json=json, headers=self.api.headers(user))

    def delete(self, path: str, user: str):  # noqa: ANN201
        return self.api.client.delete(path, headers=self.api.headers(user))


@pytest.fixture
def crm(api) -> Crm:  # noqa: ANN001
    """CRM helpers bound to the test's client."""
    return Crm(api)


def fields_of(resp) -> list[str]:  # noqa: ANN001
    """The field names a problem+json response complains about."""
    return [e.get("field") for e in resp.get_json().get("errors", [])]
