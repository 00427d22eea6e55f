"""A reviewer's open task grants read access in the lists too (not only by id): while frank's legal review of an
opportunity is open, the opportunity, its customer and the customer's contracts appear in his lists filtered by
that customer; the grant ends with the task, and it never lets anyone else in."""

from __future__ import annotations

from tests.api.test_references import _complete, _opportunity, _start_contract, _task


def _ids(api, user: str, path: str, **query) -> list[int]:  # noqa: ANN001, ANN003
    resp = api.get(path, user, query_string=query)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["total"] == len(body["items"])
    return [row["id"] for row in body["items"]]


def test_open_tasks_grant_reads_in_list_endpoints(api) -> None:  # noqa: ANN001
    opp = _opportunity(api)
    customer_id = opp["customer_id"]
    resp = api.post("/api/v1/contracts", "alice", json={"customer_id": customer_id, "title": "Pilot",
                                                        "amount": 1000, "status": "active"})
    assert resp.status_code == 201, resp.get_json()
    contract_id = resp.get_json()["id"]
    lists = {"/api/v1/opportunities": opp["id"], "/api/v1/contracts": contract_id}
    for path in lists:
        assert _ids(api, "frank", path, customer_id=customer_id) == []
    inst = _start_contract(api, "alice", opp["id"]).get_json()
    assert _complete(api, "bob", _task(api, "bob", "sales_head_approval", inst["id"]), approved=True) \
        .status_code == 200
    frank_task = _task(api, "frank", "legal_finance_review", inst["id"])
    for path, wanted in lists.items():
        assert _ids(api, "frank", path, customer_id=customer_id) == [wanted]
        assert _ids(api, "erin", path, customer_id=customer_id) == []  # no task, no access
    assert customer_id in _ids(api, "frank", "/api/v1/customers")
    assert _complete(api, "frank", frank_task, approved=True).status_code == 200
    for path in lists:
        assert _ids(api, "frank", path, customer_id=customer_id) == []
    assert customer_id not in _ids(api, "frank", "/api/v1/customers")
