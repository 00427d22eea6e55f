"""What the report pages and the dashboard say equals the table and the API: the win-rate chart's bars read the
table's percentages (66.7, 100; never 6,670), and money reads with two decimals (218,000.50) in English and zh-CN,
while the JSON API keeps its numbers as they are (218000.5)."""

from __future__ import annotations

import re

from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _deal(api, user: str, customer_id: int, amount: str, outcome: str | None) -> None:  # noqa: ANN001
    made = api.post("/api/v1/opportunities", user, json={"customer_id": customer_id, "name": f"deal {amount}",
                                                         "amount": amount, "stage": "qualified"})
    assert made.status_code == 201, made.get_json()
    if outcome:
        resp = api.post(f"/api/v1/opportunities/{made.get_json()['id']}/{outcome}", user, json={"reason": "r"})
        assert resp.status_code == 200, resp.get_json()


def _deals(api, crm: dict) -> None:  # noqa: ANN001
    """alice wins 2 of 3 (66.7 %), 218,000.50 in all; bob wins his one (100 %)."""
    mine, other = crm["mine"]["id"], crm["other"]["id"]
    _deal(api, "alice", mine, "200000.25", "win")
    _deal(api, "alice", mine, "18000.25", "win")
    _deal(api, "alice", mine, "5000", "lose")
    _deal(api, "bob", other, "40000", "win")


def _chart_values(html: str, chart_id: str) -> list[str]:
    """The value texts beside the bars of the wide drawing of a chart."""
    figure = html[html.index(f'id="{chart_id}"'):]
    wide = figure[:figure.index("</svg>")]
    return re.findall(r'<text class="value"[^>]*>([^<]*)</text>', wide)


def _table_column(html: str, column: int) -> list[str]:
    table = html[html.index('id="report-table"'):html.index("</table>", html.index('id="report-table"'))]
    rows = re.findall(r"<tr>(.*?)</tr>", table[table.index("<tbody>"):], re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)[column].strip() for r in rows]


def test_the_win_rate_chart_says_the_tables_percentages(web: Web, api, crm: dict) -> None:  # noqa: ANN001
    _deals(api, crm)
    by_rep = api.get("/api/v1/reports/win-rate", "bob").get_json()["by_rep"]
    assert [(r["owner"], r["win_rate"], r["won_amount"]) for r in by_rep] == \
        [("alice", 66.7, 218000.5), ("bob", 100.0, 40000.0)]  # the API's numbers stay numbers
    web.login("bob")
    html = _html(web.get("/reports/win-rate"))
    rates = _table_column(html, 4)
    assert rates == ["66.7", "100"]
    assert _chart_values(html, "chart-win-rate-1") == rates  # not 6,670 and 10,000
    assert _table_column(html, 5) == ["218,000.50", "40,000.00"]


def test_money_reads_with_two_decimals_on_the_pages_in_both_languages(web: Web, api, crm: dict) -> None:  # noqa: ANN001
    _deals(api, crm)
    web.login("bob")
    for lang in ("en", "zh_CN"):
        web.get(f"/lang/{lang}")
        dashboard = _html(web.get("/dashboard"))
        assert "258,000.50 (3)" in dashboard and "258,000.5 " not in dashboard, lang  # the funnel's won row
        assert re.search(r'data-count="open_amount"><strong>120,000.00<', dashboard), lang
        for slug in ("win-rate", "sales-trend", "pipeline", "sales-by-rep", "order-cycle"):
            html = _html(web.get(f"/reports/{slug}"))
            assert not re.search(r"\d,\d{3}\.\d(?!\d)", html), (lang, slug)  # no money with one decimal
        pipeline = _html(web.get("/reports/pipeline"))
        assert "258,000.50" in _table_column(pipeline, 3)
        assert "258,000.50" in _chart_values(pipeline, "chart-pipeline-1")
        trend = _html(web.get("/reports/sales-trend"))
        assert "258,000.50" in _table_column(trend, 4) and "258,000.50" in _chart_values(trend, "chart-sales-trend-1")
        by_rep = _html(web.get("/reports/sales-by-rep"))
        assert "218,000.50" in by_rep, lang
    assert api.get("/api/v1/reports/sales-trend", "bob").get_json()["months"][0]["won_amount"] == 258000.5
