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
    assert "<svg" in html and "120,000.00 (1)" in html
    assert "2026-12" in html  # the forecast month
    web.logout()
    web.login("carol")  # nothing of alice's pipeline
    html = _html(web.get("/dashboard"))
    assert "120,000" not in html
    assert web.get("/dashboard?month=13-2026").status_code == 422


def _attendance_labels(web: Web, path: str) -> list[str]:
    import html as htmllib
    import re
    chart = _html(web.get(path)).split('id="chart-attendance"')[1].split("</figure>")[0]
    return [htmllib.unescape(t) for t in re.findall(r'<text class="label"[^>]*>([^<]*)<', chart)]


def _drawn(names: list[str], labels: list[str]) -> bool:
    """The chart's first labels are these names, each whole or cut with … where the label column is full."""
    return len(labels) >= len(names) and all(
        label == name or (label.endswith("…") and name.startswith(label[:-1]))
        for name, label in zip(names, labels, strict=False))


def test_dashboard_attendance_per_person_then_per_department(web: Web, api, monkeypatch) -> None:  # noqa: ANN001
    """The attendance chart draws a bar per person while they fit (CHART_PEOPLE), past that a bar per
    department labelled with its number of people, as the report counts them."""
    from api.web.reports import pages
    report = api.get("/api/v1/reports/attendance", "admin", query_string={"month": "2026-12"}).get_json()
    people, departments = report["users"], report["departments"]
    assert len(people) > 1 and len(departments) > 1
    web.login("admin")
    labels = _attendance_labels(web, "/dashboard?month=2026-12")
    assert _drawn([u["display_name"] or u["user"] for u in people], labels)
    monkeypatch.setattr(pages, "CHART_PEOPLE", len(people) - 1)  # one person too many for a bar each
    labels = _attendance_labels(web, "/dashboard?month=2026-12")
    assert _drawn([f"{d['department']} ({d['users']})" for d in departments], labels)
    assert sum(d["users"] for d in departments) == len(people)
def test_a_longer_row_label_shows_whole_on_the_desktop_chart_too(web: Web) -> None:
    web.login("bob")
    html = _html(web.get("/dashboard"))
    attendance = html.split('id="chart-attendance"', 1)[1]
    assert attendance.count(">Bob (Head of Sales)</text>") == 2  # the wide and the phone drawing, neither cut
    assert "Bob (Head of Sal…" not in html
