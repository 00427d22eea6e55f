"""The attacker's inputs from the web probe: out-of-range report periods and header-splitting `next=`
targets answer 4xx naming the field or a safe redirect, never 500."""

from __future__ import annotations

import pytest

from tests.crm.conftest import fields_of
from tests.web.conftest import Web

REPORTS = ("sales-trend", "win-rate", "order-cycle", "sales-by-rep")
BAD_PERIODS = ("9999", "9999-12", "9999-Q4", "0001", "1999-01")


@pytest.mark.parametrize("period", BAD_PERIODS)
@pytest.mark.parametrize("report", REPORTS)
def test_api_report_with_out_of_range_period_is_422_naming_period(api, report: str, period: str) -> None:  # noqa: ANN001
    resp = api.get(f"/api/v1/reports/{report}", "admin", query_string={"period": period})
    assert resp.status_code == 422 and fields_of(resp) == ["period"]


@pytest.mark.parametrize("path", [f"/reports/{r}" for r in REPORTS] + ["/reports/sales-trend/export"])
def test_web_report_with_out_of_range_period_is_422(web: Web, path: str) -> None:
    web.login("admin")
    resp = web.get(path, query_string={"period": "9999-Q4"})
    assert resp.status_code == 422
    assert "period" in resp.get_data(as_text=True)


def test_a_year_in_range_still_reports(api) -> None:  # noqa: ANN001
    assert api.get("/api/v1/reports/sales-trend", "admin", query_string={"period": "2100-12"}).status_code == 200


@pytest.mark.parametrize("target", ["/%0d%0aSet-Cookie:x=1", "/%0aX:1", "/\\evil.example", "/%7f"])
def test_language_switch_with_control_characters_in_next_goes_home(web: Web, target: str) -> None:
    resp = web.client.get(f"/lang/en?next={target}")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert "x=1" not in resp.headers.get("Set-Cookie", "")


def test_login_with_control_characters_in_next_goes_home(web: Web) -> None:
    token = web.csrf("/login")
    resp = web.client.post("/login?next=/%0d%0aX:1", data={"username": "alice", "password": "demo",
                                                          "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/" and "X" not in resp.headers


def test_login_keeps_a_safe_next(web: Web) -> None:
    token = web.csrf("/login")
    resp = web.client.post("/login?next=/approvals?tab=cc", data={"username": "alice", "password": "demo",
                                                                 "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/approvals?tab=cc"
