"""Receivables add up: a payment is allocated to the contract's instalment plans (oldest due first unless a plan
is named), plans' paid plus outstanding equal the contract, and the overdue list agrees with the contract."""

from __future__ import annotations

from datetime import date, timedelta

from tests.crm.conftest import fields_of

R = "/api/v1/receivables"


def _plan(api, user: str, contract_id: int, due: date, amount: float) -> dict:  # noqa: ANN001
    resp = api.post(R, user, json={"contract_id": contract_id, "due_date": due.isoformat(), "amount": amount})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_payments_fill_the_oldest_plans_first_and_the_overdue_list_agrees(api, crm) -> None:  # noqa: ANN001
    today = date.today()
    c = crm.customer("alice")
    k = crm.contract("alice", c["id"], amount=100_000)
    p1 = _plan(api, "alice", k["id"], today - timedelta(days=90), 30_000)
    p3 = _plan(api, "alice", k["id"], today - timedelta(days=10), 40_000)  # created before plan 2, due after it
    p2 = _plan(api, "alice", k["id"], today - timedelta(days=60), 30_000)
    pay = f"/api/v1/contracts/{k['id']}/payments"
    assert api.post(pay, "carol", json={"amount": 40_000}).status_code == 201
    assert api.post(pay, "carol", json={"amount": 50_000}).status_code == 201

    detail = api.get(f"/api/v1/contracts/{k['id']}", "alice").get_json()
    plans = {p["id"]: p for p in detail["plans"]}
    assert (plans[p1["id"]]["paid_amount"], plans[p1["id"]]["outstanding"]) == (30_000, 0)
    assert (plans[p2["id"]]["paid_amount"], plans[p2["id"]]["outstanding"]) == (30_000, 0)
    assert (plans[p3["id"]]["paid_amount"], plans[p3["id"]]["outstanding"]) == (30_000, 10_000)
    assert detail["paid_amount"] == 90_000 and detail["outstanding"] == 10_000
    assert sum(p["paid_amount"] for p in detail["plans"]) == detail["paid_amount"]
    assert sum(p["outstanding"] for p in detail["plans"]) + detail["paid_amount"] == detail["amount"]

    overdue = api.get(R, "alice", query_string={"overdue": "true"}).get_json()
    assert [p["id"] for p in overdue["items"]] == [p3["id"]]
    assert sum(p["outstanding"] for p in overdue["items"]) == detail["outstanding"] == detail["overdue_amount"]

    resp = api.post(pay, "carol", json={"amount": 10_000.01})
    assert resp.status_code == 422 and fields_of(resp) == ["amount"]
    after = api.get(f"/api/v1/contracts/{k['id']}", "alice").get_json()
    assert after["paid_amount"] == 90_000 and [p["paid_amount"] for p in after["plans"]] == [30_000, 30_000, 30_000]

    assert api.post(pay, "carol", json={"amount": 10_000}).status_code == 201
    assert api.get(R, "alice", query_string={"overdue": "true"}).get_json()["total"] == 0
    assert api.get(f"/api/v1/contracts/{k['id']}", "alice").get_json()["outstanding"] == 0


def test_a_named_plan_takes_the_payment_and_may_not_be_overpaid(api, crm) -> None:  # noqa: ANN001
    today = date.today()
    c = crm.customer("alice")
    k = crm.contract("alice", c["id"], amount=1_000)
    early = _plan(api, "alice", k["id"], today - timedelta(days=30), 400)
    late = _plan(api, "alice", k["id"], today + timedelta(days=30), 400)
    pay = f"/api/v1/contracts/{k['id']}/payments"
    resp = api.post(pay, "carol", json={"amount": 300, "plan_id": late["id"]})
    assert resp.status_code == 201 and resp.get_json()["plan_id"] == late["id"]
    resp = api.post(pay, "carol", json={"amount": 101, "plan_id": late["id"]})
    assert resp.status_code == 422 and fields_of(resp) == ["amount"]
    resp = api.post(pay, "carol", json={"amount": 1, "plan_id": 10**6})
    assert resp.status_code == 422 and fields_of(resp) == ["plan_id"]
    # unnamed: the early plan first, then the rest of the late one, then the unplanned 200
    assert api.post(pay, "carol", json={"amount": 650}).status_code == 201
    plans = {p["id"]: p for p in api.get(f"/api/v1/contracts/{k['id']}", "alice").get_json()["plans"]}
    assert plans[early["id"]]["paid_amount"] == 400 and plans[late["id"]]["paid_amount"] == 400
    assert api.get(R, "alice", query_string={"overdue": "true"}).get_json()["total"] == 0
    # a plan on a draft (not yet active) contract is not overdue money
    draft = crm.contract("alice", c["id"], amount=500, status="draft")
    _plan(api, "alice", draft["id"], today - timedelta(days=3), 500)
    assert api.get(R, "alice", query_string={"overdue": "true"}).get_json()["total"] == 0
    assert api.get(f"/api/v1/contracts/{draft['id']}", "alice").get_json()["overdue_amount"] == 0
    assert api.get(R, "erin", query_string={"contract_id": k["id"]}).get_json()["total"] == 0


def test_concurrent_payments_never_overpay_the_contract_or_a_plan(api, app, crm) -> None:  # noqa: ANN001
    import threading
    from collections import Counter

    from tests.conftest import run_in_threads
    today = date.today()
    c = crm.customer("alice")
    k = crm.contract("alice", c["id"], amount=100_000)
    for back, amount in ((60, 30_000), (30, 30_000), (1, 40_000)):
        _plan(api, "alice", k["id"], today - timedelta(days=back), amount)
    token = api.token("carol")  # finance records payments
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def pay(_i: int) -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(f"/api/v1/contracts/{k['id']}/payments", json={"amount": 45_000},
                           headers={"Authorization": f"Bearer {token}"})
        statuses.append(resp.status_code)

    run_in_threads(6, pay)
    counts = Counter(statuses)
    assert counts == {201: 2, 422: 4}, counts  # payments take turns: 2 x 45,000 fit in 100,000, the rest is refused
    detail = api.get(f"/api/v1/contracts/{k['id']}", "alice").get_json()
    assert detail["paid_amount"] == 90_000 and len(detail["payments"]) == 2
    assert [p["paid_amount"] for p in detail["plans"]] == [30_000, 30_000, 30_000]


def test_concurrent_plans_never_exceed_the_contract(api, app, crm) -> None:  # noqa: ANN001
    import threading
    from collections import Counter

    from tests.conftest import run_in_threads
    c = crm.customer("alice")
    k = crm.contract("alice", c["id"], amount=100_000)
    token = api.token("alice")
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def plan(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(R, json={"contract_id": k["id"], "due_date": f"2027-0{i + 1}-01", "amount": 40_000},
                           headers={"Authorization": f"Bearer {token}"})
        statuses.append(resp.status_code)

    run_in_threads(4, plan)
    assert Counter(statuses) == {201: 2, 422: 2}, statuses
    assert sum(p["amount"] for p in api.get(f"/api/v1/contracts/{k['id']}", "alice").get_json()["plans"]) == 80_000
