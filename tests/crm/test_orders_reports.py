"""Sales analytics from history: win rate and stage conversion per rep, the history-weighted forecast, the sales
trend by month and the order-cycle view by team and month; each in the viewer's scope."""

from __future__ import annotations

from datetime import date

from tests.crm.sales_helpers import complete, order, product, submit


def _deal(api, crm, customer_id: int, stages: list[str], outcome: str | None, amount: float) -> dict:  # noqa: ANN001
    opp = crm.opportunity("alice", customer_id, amount=amount)
    for stage in stages:
        assert crm.patch(f"/api/v1/opportunities/{opp['id']}", "alice", {"stage": stage}).status_code == 200
    if outcome:
        resp = api.post(f"/api/v1/opportunities/{opp['id']}/{outcome}", "alice", json={"reason": "r"})
        assert resp.status_code == 200, resp.get_json()
    return opp


def test_win_rate_stage_conversion_and_history_weighted_forecast(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    _deal(api, crm, c["id"], ["qualified", "proposal"], "win", 1000)
    _deal(api, crm, c["id"], ["qualified"], "lose", 500)
    _deal(api, crm, c["id"], [], "lose", 300)
    _deal(api, crm, c["id"], ["qualified", "proposal"], None, 2000)  # open, nominal 50%
    r = api.get("/api/v1/reports/win-rate", "alice").get_json()
    assert r["by_rep"] == [{"owner": "alice", "won": 1, "lost": 2, "closed": 3, "win_rate": 33.3,
                            "won_amount": 1000.0}]
    conv = {x["stage"]: (x["reached"], x["won"], x["conversion"]) for x in r["stage_conversion"]}
    assert conv == {"lead": (3, 1, 33.3), "qualified": (2, 1, 50.0), "proposal": (1, 1, 100.0)}
    proposal = next(x for x in r["forecast"] if x["stage"] == "proposal")
    assert proposal == {"stage": "proposal", "count": 1, "amount": 2000.0, "nominal_weighted": 1000.0,
                        "historical_win_rate": 100.0, "historical_weighted": 2000.0}
    assert api.get("/api/v1/reports/win-rate", "carol").get_json()["by_rep"] == []  # not carol's deals
    assert api.get("/api/v1/reports/win-rate", "bob").get_json()["by_rep"][0]["owner"] == "alice"  # her manager
    csv = api.get("/api/v1/reports/win-rate?format=csv", "alice").get_data(as_text=True)
    assert "owner,won,lost,closed,win_rate,won_amount" in csv and "alice,1,2,3,33.3,1000.0" in csv
    bad = api.get("/api/v1/reports/win-rate?period=2026-13", "alice")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "period"


def test_sales_trend_and_order_cycle_by_team_and_month(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    p = product(api, "A", 100)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])  # 113.00, the sales head alone
    inst = submit(api, "alice", o["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    month = date.today().strftime("%Y-%m")
    trend = api.get("/api/v1/reports/sales-trend", "alice").get_json()
    assert [(m["month"], m["orders"], m["order_total"]) for m in trend["months"]] == [(month, 1, 113.0)]
    api.post("/api/v1/follow-ups", "alice", json={"customer_id": c["id"], "type": "visit", "content": "ok",
                                                  "satisfaction": 4})
    rows = api.get("/api/v1/reports/order-cycle", "alice").get_json()["rows"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["team"], row["month"], row["orders_confirmed"], row["won_revenue"], row["satisfaction"]) == \
        ("Sales", month, 1, 113.0, 4.0)
    assert row["order_cycle_hours"] is not None and 0 <= row["order_cycle_hours"] < 1
    assert api.get("/api/v1/reports/order-cycle", "carol").get_json()["rows"] == []
