"""The admin's instance page shows a money variable (`total`) with two decimals as every other page does
(37,764.60, not 37764.6), the stored JSON beside it as a tooltip; other variables stay JSON."""

from __future__ import annotations

from tests.web.conftest import Web


def test_a_money_variable_reads_with_two_decimals(web: Web, api) -> None:  # noqa: ANN001
    resp = api.post("/api/v1/process-definitions/expense_claim/start", "alice", json={"variables": {"items": [
        {"category": "travel", "amount": 37000.35, "date": "2026-11-20", "description": "flights"},
        {"category": "meals", "amount": 764.25, "date": "2026-11-21", "description": "dinner"}]}})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()["id"]
    assert api.get(f"/api/v1/process-instances/{inst}", "admin").get_json()["variables"]["total"] == 37764.6
    for lang in ("en", "zh_CN"):
        web.login("admin")
        web.get(f"/lang/{lang}")
        html = web.get(f"/admin/instances/{inst}").get_data(as_text=True)
        table = html[html.index('id="variables"'):html.index("</table>", html.index('id="variables"'))]
        assert '<pre class="wrap" title="37764.6">37,764.60</pre>' in table, lang
        assert ">37764.6<" not in table
        assert "&#34;category&#34;" in table  # the line items stay JSON
        web.logout()
