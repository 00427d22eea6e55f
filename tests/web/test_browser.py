"""Browser tests: Playwright drives Debian's chromium against the app served on a free port.

Alice files a leave request, Bob approves it from his task list, the diagram shows the finished path,
and a designer's broken upload is marked on the diagram. Screenshots go to test-artifacts/.
If /usr/bin/chromium is missing these tests FAIL (CI installs it with apt-get), they never skip.
"""

from __future__ import annotations

import os

from tests.web.conftest import ARTIFACTS, ROOT, login, logout, shot

BROKEN = (ROOT / "processes" / "leave_request.bpmn").read_bytes().replace(b'outcome = "approved"', b"outcome = (")


def test_leave_request_from_filing_to_approval_with_diagram(page) -> None:  # noqa: ANN001
    pg = page
    login(pg, "alice")
    shot(pg, "home")
    pg.click("text=Start a request")
    pg.click("[data-key=leave_request]")
    pg.select_option("select[name='v:leave_type']", "annual")
    pg.fill("input[name='v:start_date']", "2026-12-01")
    pg.fill("input[name='v:end_date']", "2026-12-02")
    pg.fill("textarea[name='v:reason']", "family trip")
    shot(pg, "start-form")
    pg.click("#start-form button.primary")
    pg.wait_for_url("**/instances/*")
    pg.click("#diagram-link")  # the request page shows the request; the diagram is one click away
    pg.wait_for_selector(".diagram[data-state=ready]")
    assert pg.locator("g[data-element-id=manager_approval].active").count() == 1
    logout(pg)

    login(pg, "bob")
    pg.goto("/tasks")  # the old task list is the approval centre's first tab now
    pg.wait_for_url("**/approvals?tab=todo")
    shot(pg, "task-list")
    pg.click("table.list tr:has-text('Manager approval') a")
    pg.wait_for_selector("#task-form")
    assert "family trip" in pg.content()
    pg.fill("textarea[name='v:comment']", "enjoy the trip")
    shot(pg, "task-page")
    pg.click("button.approve")
    pg.wait_for_url("**/approvals")
    assert pg.locator(".flash", has_text="Approved.").count() == 1
    pg.goto("/approvals?tab=todo")
    assert pg.locator("text=Nothing here.").count() == 1

    pg.goto("/requests")  # bob started nothing; open the instance through the history link instead
    logout(pg)
    login(pg, "alice")
    pg.goto("/requests")
    pg.click("table.list td a")
    assert "enjoy the trip" in pg.content()  # the timeline
    pg.click("#diagram-link")
    pg.wait_for_selector(".diagram[data-state=ready]")
    for element in ("start", "manager_approval", "manager_decision", "mark_approved", "approved_end",
                    "flow_short_leave"):
        assert pg.locator(f"g[data-element-id={element}].done").count() == 1, element
    assert pg.locator("g[data-element-id=mark_rejected].done").count() == 0
    shot(pg, "process-view")


def test_designer_upload_marks_the_problem_on_the_diagram(page, tmp_path) -> None:  # noqa: ANN001
    pg = page
    login(pg, "grace")
    pg.goto("/designer")
    path = tmp_path / "leave_request.bpmn"
    path.write_bytes(BROKEN)
    pg.set_input_files("input[name=files]", str(path))
    pg.click("button[value=validate]")
    pg.wait_for_selector(".diagram[data-state=ready]")
    assert pg.locator("table.problems td:has-text('mark_approved')").count() == 1
    assert pg.locator("g[data-element-id=mark_approved].problem").count() == 1
    assert pg.locator(".problem-note[data-element=mark_approved]").count() == 1
    shot(pg, "designer-problems")


def test_phone_width_and_chinese(browser, live_server: str) -> None:  # noqa: ANN001
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844},
                                  locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"})
    pg = context.new_page()
    try:
        login(pg, "alice")
        assert pg.locator("text=审批中的申请").count() == 1
        assert pg.locator(".nav").is_hidden()  # collapsed behind the menu button on a phone
        pg.click("label.nav-button")
        assert pg.locator(".nav").is_visible()
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"
        shot(pg, "home-phone-zh")
        for path in ("/customers", "/opportunities/board", "/dashboard", "/attendance", "/calendar",
                     "/announcements", "/notifications"):
            pg.goto(path)
            width = pg.evaluate("document.documentElement.scrollWidth")
            assert width <= 400, f"{path} scrolls sideways on a phone ({width}px)"
            if path == "/dashboard":
                shot(pg, "dashboard-phone-zh")
    finally:
        context.close()


def _seed_demo_records(app) -> None:  # noqa: ANN001
    """The demo CRM pipeline and OA records, so the dashboard has figures."""
    from api.extensions import db
    from crm import demo as crm_demo
    from oa import demo_records
    with app.app_context():
        crm_demo.seed(db.session, progress=lambda _msg: None)
        demo_records.seed(db.session, progress=lambda _msg: None)
        db.session.commit()


def test_dashboard_and_dragging_a_card_on_the_opportunity_board(page, app) -> None:  # noqa: ANN001
    _seed_demo_records(app)
    pg = page
    login(pg, "bob")  # head of Sales: his and alice's pipeline
    pg.click(".nav >> text=Dashboard")
    pg.wait_for_selector("#chart-pipeline svg rect")
    for chart in ("pipeline", "forecast", "attendance"):
        assert pg.locator(f"#chart-{chart} svg rect").count() > 0, chart
    shot(pg, "dashboard")
    if os.environ.get("OAFLOW_UPDATE_SCREENSHOTS"):  # refresh the README's picture on request only
        (ROOT / "docs" / "screenshots" / "dashboard.png").write_bytes((ARTIFACTS / "dashboard.png").read_bytes())

    pg.click(".nav >> text=Opportunities")
    card = pg.locator(".column[data-stage=lead] .opp-card.movable").first
    card_id = card.get_attribute("data-id")
    with pg.expect_response(lambda r: r.url.endswith(f"/opportunities/{card_id}/stage")) as answer:
        card.locator("strong").drag_to(pg.locator(".column[data-stage=proposal] h2"))
    assert answer.value.status == 200
    moved = pg.locator(f".column[data-stage=proposal] .opp-card[data-id='{card_id}']")
    moved.wait_for()
    assert moved.locator(".prob").inner_text() == "50%"
    shot(pg, "opportunity-board")
    pg.reload()  # saved on the server, not only moved on the page
    assert pg.locator(f".column[data-stage=proposal] .opp-card[data-id='{card_id}']").count() == 1
    # with the script, the card's stage select moves it too (no drag needed)
    pg.locator(f".opp-card[data-id='{card_id}'] select[name=stage]").select_option("negotiation")
    pg.wait_for_selector(f".column[data-stage=negotiation] .opp-card[data-id='{card_id}']:not(.saving)")


def test_opportunity_board_without_javascript(browser, live_server: str, app) -> None:  # noqa: ANN001
    _seed_demo_records(app)
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    pg = context.new_page()
    try:
        login(pg, "alice")
        pg.goto("/opportunities/board")
        card = pg.locator(".column[data-stage=qualified] .opp-card.movable").first
        card_id = card.get_attribute("data-id")
        card.locator("select[name=stage]").select_option("proposal")
        card.locator("form.move button").click()
        pg.wait_for_url("**/opportunities/board")
        assert pg.locator(f".column[data-stage=proposal] .opp-card[data-id='{card_id}']").count() == 1
    finally:
        context.close()
