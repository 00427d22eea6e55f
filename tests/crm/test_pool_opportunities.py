"""Releasing a customer to the public pool (公海) takes its open opportunities along (owner cleared, as yudao does
with a released customer's deals), won and lost ones keep their owner, claiming the customer takes the pooled ones
over; each change is in the operation log, the rep no longer sees them as hers, and the reports that group by owner
still compute (issue #15)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from api.extensions import db
from crm.models import Customer
from crm.pool import release_stale_customers
from store.base import utcnow
from tests.crm.conftest import C

OPP = "/api/v1/opportunities"


def _owner_trail(api, user: str, opp_id: int) -> list[tuple]:  # noqa: ANN001
    trail = api.get("/api/v1/audit", user, query_string={"entity": "opportunity", "id": opp_id}).get_json()["items"]
    return [(e["action"], e["user"], e["old"], e["new"]) for e in trail if e["field"] == "owner"]


def _page_statuses(app, user: str, paths: tuple[str, ...]) -> dict[str, int]:  # noqa: ANN001
    """The status of each web page for `user`, logged in through the login form."""
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": user, "password": "demo", "csrf_token": token})
    return {path: client.get(path).status_code for path in paths}


def _deals(crm, api) -> tuple[dict, dict, dict, dict]:  # noqa: ANN001
    customer = crm.customer("alice")
    open_deal = crm.opportunity("alice", customer["id"], name="Open deal", expected_close_date="2026-12-20")
    won = crm.opportunity("alice", customer["id"], name="Won deal")
    lost = crm.opportunity("alice", customer["id"], name="Lost deal")
    assert api.post(f"{OPP}/{won['id']}/win", "alice", json={"reason": "signed"}).status_code == 200
    assert api.post(f"{OPP}/{lost['id']}/lose", "alice", json={"reason": "price"}).status_code == 200
    return customer, open_deal, won, lost


def test_release_pools_open_deals_and_a_claim_takes_them_over(api, crm) -> None:  # noqa: ANN001
    customer, open_deal, won, lost = _deals(crm, api)
    assert api.post(f"{C}/{customer['id']}/release", "alice", json={}).status_code == 200
    listed = api.get(OPP, "admin", query_string={"customer_id": customer["id"]}).get_json()["items"]
    after = {o["id"]: o for o in listed}
    assert after[open_deal["id"]]["owner"] is None  # went to the pool with the customer
    assert after[won["id"]]["owner"] == "alice" and after[lost["id"]]["owner"] == "alice"  # history stays true
    mine = [o["id"] for o in api.get(OPP, "alice").get_json()["items"]]
    assert open_deal["id"] not in mine and won["id"] in mine  # no longer hers; her won deal still is
    assert api.get(f"{OPP}/{open_deal['id']}", "alice").status_code == 404
    assert api.get(OPP, "alice", query_string={"owner": "alice", "status": "open"}).get_json()["total"] == 0
    assert _owner_trail(api, "admin", open_deal["id"]) == [("release", "alice", "alice", None)]
    # whoever claims the customer takes its pooled open deal over; the won and lost ones stay alice's
    assert api.post(f"{C}/{customer['id']}/claim", "frank").status_code == 200
    assert api.get(f"{OPP}/{open_deal['id']}", "frank").get_json()["owner"] == "frank"
    assert api.get(f"{OPP}/{won['id']}", "admin").get_json()["owner"] == "alice"
    assert _owner_trail(api, "frank", open_deal["id"])[-1] == ("claim", "frank", None, "frank")


def test_the_scheduler_release_pools_open_deals_too(api, app, crm) -> None:  # noqa: ANN001
    customer, open_deal, won, _lost = _deals(crm, api)
    now = utcnow()
    with app.app_context():
        db.session.execute(update(Customer).where(Customer.id == customer["id"])
                           .values(assigned_at=now - timedelta(days=40), last_follow_up_at=None))
        db.session.commit()
        assert release_stale_customers(db.session, now) == 1
        db.session.commit()
    assert api.get(f"{OPP}/{open_deal['id']}", "admin").get_json()["owner"] is None
    assert api.get(f"{OPP}/{won['id']}", "admin").get_json()["owner"] == "alice"
    assert _owner_trail(api, "admin", open_deal["id"]) == [("release", None, "alice", None)]


def test_reports_that_group_by_owner_compute_with_pooled_deals(api, app, crm) -> None:  # noqa: ANN001
    customer, open_deal, _won, _lost = _deals(crm, api)
    forecast_before = api.get("/api/v1/reports/forecast", "alice").get_json()
    assert api.post(f"{C}/{customer['id']}/release", "alice", json={}).status_code == 200
    for path in ("/api/v1/reports/pipeline", "/api/v1/reports/forecast", "/api/v1/reports/sales-by-rep",
                 "/api/v1/reports/win-rate", "/api/v1/reports/sales-trend"):
        for user in ("admin", "bob", "alice"):
            resp = api.get(path, user)
            assert resp.status_code == 200, (path, user, resp.get_json())
    reps = api.get("/api/v1/reports/sales-by-rep", "admin").get_json()
    rows = reps["items"] if isinstance(reps, dict) else reps
    assert all(r["rep"] for r in rows)  # no row for "nobody"
    pages = ("/dashboard", "/reports/pipeline", "/reports/forecast", "/reports/sales-by-rep", "/reports/win-rate")
    assert _page_statuses(app, "admin", pages) == dict.fromkeys(pages, 200)  # the report pages too
    # the pooled deal left alice's forecast
    assert api.get("/api/v1/reports/forecast", "alice").get_json() != forecast_before
    # an administrator may close a pooled deal: it becomes theirs (a closed deal always has an owner)
    assert api.post(f"{OPP}/{open_deal['id']}/lose", "admin", json={"reason": "went cold"}).status_code == 200
    assert api.get(f"{OPP}/{open_deal['id']}", "admin").get_json()["owner"] == "admin"
    by_rep = api.get("/api/v1/reports/win-rate", "admin").get_json()["by_rep"]
    assert {r["owner"] for r in by_rep} == {"alice", "admin"}


def test_transfer_of_a_pool_customer_by_an_admin_moves_its_pooled_deals(api, crm) -> None:  # noqa: ANN001
    customer, open_deal, _won, _lost = _deals(crm, api)
    assert api.post(f"{C}/{customer['id']}/release", "alice", json={}).status_code == 200
    resp = api.post(f"{C}/{customer['id']}/transfer", "admin", json={"to": "bob"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["opportunities"] == 1
    assert api.get(f"{OPP}/{open_deal['id']}", "bob").get_json()["owner"] == "bob"


def test_winning_a_pooled_deal_gives_it_and_its_contract_an_owner(api, crm) -> None:  # noqa: ANN001
    customer, open_deal, _won, _lost = _deals(crm, api)
    assert api.post(f"{C}/{customer['id']}/release", "alice", json={}).status_code == 200
    resp = api.post(f"{OPP}/{open_deal['id']}/win", "admin", json={"reason": "signed at last"})
    assert resp.status_code == 200, resp.get_json()
    assert api.get(f"{OPP}/{open_deal['id']}", "admin").get_json()["owner"] == "admin"
    contracts = api.get("/api/v1/contracts", "admin", query_string={"customer_id": customer["id"]}).get_json()
    assert {k["owner"] for k in contracts["items"]} == {"alice", "admin"}  # the earlier won deal's, and this one
