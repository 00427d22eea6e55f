"""A quarterly (or yearly) target that its months (or quarters) would override is refused with 409 naming the
period, instead of a 200 that changes nothing a report shows."""

from __future__ import annotations

T, R = "/api/v1/targets", "/api/v1/reports/sales-by-rep"


def _target(api, period: str) -> float | None:  # noqa: ANN001
    resp = api.get(R, "bob", query_string={"period": period})
    assert resp.status_code == 200, resp.get_json()
    return {r["rep"]: r for r in resp.get_json()["items"]}["alice"]["target"]


def test_a_quarter_with_monthly_targets_refuses_its_own(api, crm) -> None:  # noqa: ANN001
    for month, amount in (("2026-04", 10_000), ("2026-05", 20_000)):
        assert crm.put(T, "bob", {"period": month, "scope": "rep", "owner": "alice", "amount": amount}) \
            .status_code == 200
    resp = crm.put(T, "bob", {"period": "2026-Q2", "scope": "rep", "owner": "alice", "amount": 99_000})
    assert resp.status_code == 409 and resp.mimetype == "application/problem+json", resp.get_data(as_text=True)
    assert {e["field"] for e in resp.get_json()["errors"]} == {"period"}
    assert "2026-Q2" in resp.get_json()["detail"] and "2026-04" in resp.get_json()["detail"]
    assert _target(api, "2026-Q2") == 30_000
    resp = crm.put(T, "bob", {"period": "2026", "scope": "rep", "owner": "alice", "amount": 1})  # Q2 rolls up
    assert resp.status_code == 409, resp.get_json()
    # another owner's quarter, or a quarter without monthly targets, is still set
    assert crm.put(T, "bob", {"period": "2026-Q3", "scope": "rep", "owner": "alice", "amount": 7_000}) \
        .status_code == 200
    assert _target(api, "2026-Q3") == 7_000
