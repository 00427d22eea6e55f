"""One page per API report: charts and table in the viewer's scope (a manager sees his team, a rep only his own
records), filters with inline errors, and exports byte-for-byte equal to the API's CSV for the same user."""

from __future__ import annotations

import pytest

from api.web.reports.catalog import REPORTS
from tests.web.conftest import ESCAPED, PAYLOAD, RAW, Web

MONTH = "2026-12"
API_PATH = {"targets": "/api/v1/targets"}  # every other report lives at /api/v1/reports/<slug>
QUERY = {"attendance": {"month": MONTH}, "attendance-vs-sales": {"month": MONTH}, "sales-by-rep": {"period": MONTH}}


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


def test_every_report_has_a_page_with_a_chart(web: Web, crm: dict) -> None:
    web.login("admin")
    index = _html(web.get("/reports"))
    for slug in REPORTS:
        assert f'href="/reports/{slug}"' in index, slug
        resp = web.get(f"/reports/{slug}")
        assert resp.status_code == 200, slug
        html = _html(resp)
        assert 'id="report-table"' in html and 'class="chart card"' in html, slug
        assert f'href="/reports/{slug}/export?format=csv' in html
    assert "<svg" in _html(web.get("/reports/customer-distribution"))
    assert web.get("/reports/no-such-report").status_code == 404


@pytest.mark.parametrize("user", ["admin", "dave", "bob", "alice", "carol"])
def test_exports_equal_the_api_for_the_same_user(web: Web, api, crm: dict, user: str) -> None:  # noqa: ANN001
    web.login(user)
    for slug in REPORTS:
        query = QUERY.get(slug, {})
        mine = web.get(f"/reports/{slug}/export", query_string={**query, "format": "csv"})
        theirs = api.get(API_PATH.get(slug, f"/api/v1/reports/{slug}"), user,
                         query_string={**query, "format": "csv"})
        assert mine.status_code == theirs.status_code == 200, (slug, theirs.get_data(as_text=True)[:300])
        assert mine.get_data() == theirs.get_data(), slug
    xlsx = web.get("/reports/sales-by-rep/export", query_string={"format": "xlsx", "period": MONTH})
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"


def test_a_manager_sees_his_team_and_a_rep_only_his_own(web: Web, api, crm: dict) -> None:  # noqa: ANN001
    made = api.post("/api/v1/customers", "admin", json={"name": "Outside", "industry": "aerospace", "level": "C"})
    assert made.status_code == 201  # owned by admin, who is not in dave's team
    web.login("dave")  # general manager: bob and alice below him
    html = _html(web.get("/reports/customer-distribution"))
    assert "Manufacturing" in html and "Food" in html and "aerospace" not in html  # industries by their labels
    web.logout()
    web.login("bob")  # alice reports to bob
    html = _html(web.get("/reports/customer-distribution"))
    assert "Manufacturing" in html and "Food" in html and "aerospace" not in html  # industries by their labels
    web.logout()
    web.login("admin")
    assert "aerospace" in _html(web.get("/reports/customer-distribution"))
    web.logout()
    web.login("alice")  # her own customer only
    html = _html(web.get("/reports/customer-distribution"))
    assert "Manufacturing" in html and "Food" not in html
    html = _html(web.get("/reports/sales-by-rep"))
    assert "bob" not in html.split('id="report-table"')[1]
    web.logout()
    web.login("carol")  # finance: no sales records of alice or bob
    html = _html(web.get("/reports/customer-distribution"))
    assert "Manufacturing" not in html and "Food" not in html


def test_report_keys_are_shown_as_labels_in_chinese(web: Web, crm: dict) -> None:
    web.login("admin")
    web.get("/lang/zh_CN")
    html = _html(web.get("/reports/pipeline"))
    table = html.split('id="report-table"')[1]
    assert ">qualified<" not in table and ">lead<" not in table
    html = _html(web.get("/reports/customer-distribution")).split('id="report-table"')[1]
    assert "行业" in html and ">industry<" not in html
    assert ">manufacturing<" not in html and ">制造业<" in html  # values by their labels, as the chart shows them
    assert 'id="all-reports"' in _html(web.get("/dashboard"))


def test_bad_filters_are_named_on_the_page(web: Web) -> None:
    web.login("admin")
    resp = web.get("/reports/sales-by-rep?period=2026-13")
    assert resp.status_code == 422 and 'class="field-error"' in _html(resp) and 'id="report-table"' in _html(resp)
    resp = web.get("/reports/attendance?month=x&department=-1")
    assert resp.status_code == 422 and _html(resp).count('class="field-error"') == 2
    resp = web.get("/reports/win-rate/export?format=exe")
    assert resp.status_code == 422 and 'role="alert"' in _html(resp)
    resp = web.get("/reports/approval-efficiency?from=2026-01-01&to=2026-12-31")
    assert resp.status_code == 200
    assert web.get("/reports/pipeline?x=" + "a" * 10_000).status_code == 422


def test_report_values_are_escaped(web: Web, hostile: dict) -> None:
    web.login("admin")
    html = _html(web.get("/reports/customer-distribution"))
    assert ESCAPED in html and RAW not in html
    assert PAYLOAD not in html


def test_approval_efficiency_names_processes_in_the_readers_language(web: Web, api) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", days=1).get_json()["id"]
    [task] = [t for t in api.tasks("bob", assignee="me") if t["instance_id"] == inst]
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": True}}).status_code == 200
    web.login("admin")
    web.get("/lang/zh_CN")
    table = _html(web.get("/reports/approval-efficiency")).split('id="report-table"', 1)[1]
    assert "请假申请" in table and "leave_request" not in table


def test_target_bars_say_scope_and_whose_in_the_readers_language(web: Web, api) -> None:  # noqa: ANN001
    for scope, owner, amount in (("company", None, 500000), ("team", "bob", 300000), ("rep", "bob", 100000)):
        resp = api.client.put("/api/v1/targets", headers=api.headers("admin"),
                              json={"period": "2031-01", "scope": scope, "owner": owner, "amount": amount})
        assert resp.status_code in (200, 201), resp.get_json()
    web.login("admin")
    web.get("/lang/zh_CN")
    chart = _html(web.get("/reports/targets?period=2031-01")).split('id="report-table"')[0]
    for text in ("2031-01 公司", "2031-01 团队 Bob", "2031-01 销售 Bob"):  # long labels are cut with …, not these
        assert text in chart, (text, chart[-3000:])
    assert "company" not in chart and "2031-01 bob" not in chart
