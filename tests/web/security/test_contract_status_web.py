"""The contract page's status form obeys the receivable rule: a rep cannot take an order's contract (money
owed) back to draft or close it through the web route; finance can."""

from __future__ import annotations

from tests.crm.conftest import Crm
from tests.crm.test_receivable_guards import _confirmed
from tests.web.conftest import Web


def test_a_rep_cannot_redraft_or_close_an_owed_contract_on_the_page(app, api) -> None:  # noqa: ANN001
    o, _customer = _confirmed(api, Crm(api))
    page = f"/contracts/{o['contract_id']}"
    rep = Web(app)
    rep.login("alice")
    for status in ("draft", "closed"):
        resp = rep.post(f"{page}/status", {"status": status}, csrf_from=page)
        assert resp.status_code == 403, (status, resp.status_code)
    assert api.get(f"/api/v1/{page.lstrip('/')}", "alice").get_json()["status"] == "active"
    finance = Web(app)
    finance.login("carol")
    assert finance.post(f"{page}/status", {"status": "closed"}, csrf_from=page).status_code == 302
    assert api.get(f"/api/v1/{page.lstrip('/')}", "carol").get_json()["status"] == "closed"
