"""The dashboard: its charts keep to the viewer's data scope; a bad month is 422."""

from __future__ import annotations

from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


def test_dashboard_charts_in_scope(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    web.login("alice")
    html = _html(web.get("/dashboard"))
    for chart in ("chart-pipeline", "chart-forecast", "chart-approvals", "chart-attendance"):
        assert f'id="{chart}"' in html, chart
    assert "<svg" in html and "120,000 (1)" in html
    assert "2026-12" in html  # the forecast month
    web.logout()
    web.login("carol")  # nothing of alice's pipeline
    html = _html(web.get("/dashboard"))
    assert "120,000" not in html
    assert web.get("/dashboard?month=13-2026").status_code == 422
