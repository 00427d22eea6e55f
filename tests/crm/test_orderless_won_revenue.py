"""Won revenue is one figure in every report: an order confirmed without an opportunity is won business, so
win-rate, sales-trend, order-cycle and sales-by-rep all count it beside the deals won (README, "Sales orders:
rules after the #16 walkthrough"); the deal counts beside it count deals only."""

from __future__ import annotations

from tests.crm.sales_helpers import complete, order, product, submit


def _confirm(api, customer_id: int, code: str, quantity: int, **fields) -> dict:  # noqa: ANN001, ANN003
    p = product(api, code, 100)
    o = submit(api, "alice", order(api, "alice", customer_id, [{"product_id": p["id"], "quantity": quantity}],
                                   **fields)["id"])
    complete(api, "bob", "sales_head_approval", o["instance_id"], approved=True)
    confirmed = api.get(f"/api/v1/orders/{o['id']}", "alice").get_json()
    assert confirmed["status"] == "confirmed", confirmed
    return confirmed


def _won(api, user: str) -> dict[str, float]:  # noqa: ANN001
    """Won revenue as each report gives it to `user` (this year; sales-by-rep this month)."""
    from store.clock import company_date
    month = company_date().strftime("%Y-%m")
    rate = api.get("/api/v1/reports/win-rate", user).get_json()["by_rep"]
    trend = api.get("/api/v1/reports/sales-trend", user).get_json()["months"]
    cycle = api.get("/api/v1/reports/order-cycle", user).get_json()["rows"]
    by_rep = api.get(f"/api/v1/reports/sales-by-rep?period={month}", user).get_json()
    by_rep = by_rep["items"] if isinstance(by_rep, dict) and "items" in by_rep else by_rep
    return {"win-rate": round(sum(r["won_amount"] for r in rate), 2),
            "sales-trend": round(sum(m["won_amount"] for m in trend), 2),
            "order-cycle": round(sum(r["won_revenue"] for r in cycle), 2),
            "sales-by-rep": round(sum(r["won_amount"] for r in by_rep if r["rep"] == "alice"), 2)}


def test_an_order_confirmed_without_an_opportunity_is_won_revenue_in_every_report(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    alone = _confirm(api, c["id"], "ORPH-1", 3)  # no opportunity
    assert alone["opportunity_id"] is None
    assert _won(api, "alice") == dict.fromkeys(("win-rate", "sales-trend", "order-cycle", "sales-by-rep"),
                                               alone["total"])
    rate = api.get("/api/v1/reports/win-rate", "alice").get_json()["by_rep"]
    assert rate == [{"owner": "alice", "won": 0, "lost": 0, "closed": 0, "win_rate": None,
                     "won_amount": alone["total"]}]  # no closed deal, so no win rate: but revenue all the same

    opp = crm.opportunity("alice", c["id"], amount=20_000)
    on_deal = _confirm(api, c["id"], "DEAL-1", 7, opportunity_id=opp["id"])  # wins opp for the order total
    lost = crm.opportunity("alice", c["id"], amount=5_000)
    assert api.post(f"/api/v1/opportunities/{lost['id']}/lose", "alice", json={"reason": "price"}).status_code == 200
    total = round(alone["total"] + on_deal["total"], 2)
    assert _won(api, "alice") == dict.fromkeys(("win-rate", "sales-trend", "order-cycle", "sales-by-rep"), total)
    assert _won(api, "bob")["order-cycle"] == _won(api, "bob")["win-rate"] == total  # her manager sees the same

    rate = api.get("/api/v1/reports/win-rate", "alice").get_json()["by_rep"]
    assert [(r["won"], r["lost"], r["closed"], r["win_rate"]) for r in rate] == [(1, 1, 2, 50.0)]  # deals only
    trend = api.get("/api/v1/reports/sales-trend", "alice").get_json()["months"]
    assert [(m["orders"], m["deals_won"]) for m in trend] == [(2, 1)]
    assert round(sum(m["order_total"] for m in trend), 2) == total  # every order here is won revenue
    assert api.get("/api/v1/reports/win-rate", "carol").get_json()["by_rep"] == []  # not in finance's sales scope
