"""Issue #12, point 1 in a real browser: markup stored in every user-editable field that a page shows
runs no script and shows as literal text, the Content-Security-Policy is sent, and no page violates it
(no inline script, handler or style is left anywhere). Playwright drives Debian's chromium.
"""

from __future__ import annotations

from tests.conftest import deploy_files
from tests.web.conftest import PAYLOAD, hostile_process, login, logout, page_problems


def visit(pg, path: str, literal: bool = True, diagram: bool = False) -> None:  # noqa: ANN001
    """Open `path`; no script of the payload ran, no CSP violation happened, the payload shows as text."""
    resp = pg.goto(path)
    assert resp is not None and resp.status < 500, (path, resp and resp.status)
    assert "script-src 'self'" in (resp.headers.get("content-security-policy") or ""), path
    if diagram:
        pg.wait_for_selector(".diagram[data-state=ready]")
    assert pg.evaluate("typeof window.__xss") == "undefined", f"the payload ran on {path}"
    assert pg.locator("main img[src=x], main script:not([src])").count() == 0, f"payload markup in the DOM on {path}"
    if literal:
        assert PAYLOAD in pg.inner_text("body"), f"the payload is not shown as text on {path}"
    assert page_problems(pg) == [], path


def test_stored_markup_runs_nowhere_and_shows_as_text(page, api, hostile) -> None:  # noqa: ANN001
    pg = page
    visit(pg, "/login", literal=False)

    login(pg, "bob")  # the approver opens the employee's request
    visit(pg, f"/tasks/{hostile['task']}")
    assert PAYLOAD in pg.inner_text("#history blockquote")  # bob's comment
    assert PAYLOAD in pg.inner_text("dl.vars")  # alice's leave reason
    for path in ("/", "/approvals?tab=todo", "/announcements", "/start", "/start/xss_leave"):
        visit(pg, path)
    visit(pg, f"/instances/{hostile['instance']}")  # the request page: data, timeline
    visit(pg, f"/instances/{hostile['instance']}?view=diagram", diagram=True)
    visit(pg, "/processes/xss_leave", diagram=True)
    visit(pg, "/tasks/no-such-task", literal=False)  # the error page
    logout(pg)

    login(pg, "alice")  # her display name is on every page, her CRM and OA records on theirs
    for path in ("/", "/customers", f"/customers/{hostile['customer']}", "/opportunities/board", "/calendar",
                 "/notifications", "/requests", "/approvals?tab=mine", "/dashboard", "/attendance", "/announcements"):
        visit(pg, path)
    assert pg.locator("header .who").inner_text() == PAYLOAD
    logout(pg)


def test_designer_pages_show_uploaded_markup_as_text(page, api, hostile, tmp_path) -> None:  # noqa: ANN001
    pg = page
    files = hostile_process()
    files["xss_leave.bpmn"] = files["xss_leave.bpmn"].replace(b'name="HR approval"',
                                                              b'name="&lt;b onmouseover=x&gt;HR 50%"')
    assert deploy_files(api, "grace", files).status_code == 201
    login(pg, "grace")
    visit(pg, "/designer")
    visit(pg, "/designer/processes/xss_leave", literal=False)
    visit(pg, "/designer/processes/xss_leave/diff?a=1&b=2", diagram=True, literal=False)
    assert "<b onmouseover=x>HR 50%" in pg.inner_text("table.diff")

    path = tmp_path / "xss_leave.bpmn"  # a checked (not deployed) upload is drawn from the page itself
    path.write_bytes(files["xss_leave.bpmn"])
    pg.goto("/designer")
    pg.set_input_files("input[name=files]", str(path))
    pg.click("button[value=validate]")
    pg.wait_for_selector(".diagram[data-state=ready]")
    assert pg.evaluate("typeof window.__xss") == "undefined"
    assert page_problems(pg) == []


def test_the_policy_blocks_injected_handlers_and_the_watch_sees_it(page) -> None:  # noqa: ANN001
    """The control for the tests above: markup that does reach the DOM runs nothing and is reported."""
    pg = page
    visit(pg, "/api/docs", literal=False)  # the API index keeps the policy too (its style is a file)
    visit(pg, "/login", literal=False)
    pg.evaluate("""document.body.insertAdjacentHTML('beforeend', '<img src="data:," onerror="window.__xss=1">');
                   var s = document.createElement('script'); s.textContent = 'window.__xss = 2';
                   document.body.appendChild(s);""")
    pg.wait_for_function("window.__csp.length >= 2")
    assert pg.evaluate("typeof window.__xss") == "undefined"
    assert any("script-src" in v for v in page_problems(pg))
    pg.problems.clear()
