"""No markup from data reaches a page unescaped (issue #12, point 1), checked on the server's HTML.

Every page that shows a hostile value (see the `hostile` fixture) answers 200 with the value escaped;
a `%` in a task or process name does not break the page; every response carries the security headers;
and the templates and static scripts hold no construct that would let data become markup or script.
The browser side (no script runs, no CSP violation) is in test_xss_browser.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import nodes

from tests.web.conftest import ESCAPED, RAW, ROOT

WEB = ROOT / "api" / "web"


def _check(web, path: str) -> str:  # noqa: ANN001
    resp = web.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    html = resp.get_data(as_text=True)
    assert RAW not in html, f"raw markup on {path}"
    assert "<script>window.__xss" not in html, f"raw script on {path}"
    return html


def test_bob_sees_the_employees_and_designers_markup_as_text(web, hostile) -> None:  # noqa: ANN001
    web.login("bob")
    for path in ("/", "/approvals?tab=todo", f"/tasks/{hostile['task']}", f"/instances/{hostile['instance']}",
                 "/start", "/processes/xss_leave", "/start/xss_leave", "/announcements", "/notifications"):
        html = _check(web, path)
        if path != "/notifications":
            assert ESCAPED in html, f"the value is not shown on {path}"
    task_page = _check(web, f"/tasks/{hostile['task']}")
    assert task_page.count(ESCAPED) >= 4  # title, heading, the reason (label and value), the comment
    assert "100% &#34;q&#34;" in task_page


def test_alice_sees_her_crm_and_oa_records_as_text(web, hostile) -> None:  # noqa: ANN001
    web.login("alice")
    for path in ("/", "/customers", f"/customers/{hostile['customer']}", "/opportunities/board", "/calendar",
                 "/notifications", "/requests", "/dashboard", "/attendance"):
        html = _check(web, path)
        assert ESCAPED in html, f"the value is not shown on {path}"  # alice's display name is on every page
    customer = _check(web, f"/customers/{hostile['customer']}")
    assert customer.count(ESCAPED) >= 8  # name x2, industry, region, source, follow-up, opportunity, ticket...


def test_designer_pages_show_uploaded_names_as_text(web, hostile, api) -> None:  # noqa: ANN001
    from tests.conftest import deploy_files
    from tests.web.conftest import hostile_process
    files = hostile_process()
    files["xss_leave.bpmn"] = files["xss_leave.bpmn"].replace(b'name="HR approval"', b'name="HR &lt;b&gt; 50%"')
    assert deploy_files(api, "grace", files).status_code == 201
    web.login("grace")
    for path in ("/designer", "/designer/processes/xss_leave", "/designer/processes/xss_leave/diff?a=1&b=2"):
        _check(web, path)
    diff = _check(web, "/designer/processes/xss_leave/diff?a=1&b=2")
    assert "HR &lt;b&gt; 50%" in diff


def test_a_percent_in_a_task_name_does_not_break_the_task_list(web, api) -> None:  # noqa: ANN001
    from tests.bpmn_samples import user_task_process
    from tests.conftest import deploy_files
    assert deploy_files(api, "grace", {"pct.bpmn": user_task_process(
        "pct", 'camunda:assignee="alice"', name="Raise 5% (of %(total)s) %s")}).status_code == 201
    assert api.post("/api/v1/process-definitions/pct/start", "alice", json={"variables": {}}).status_code == 201
    web.login("alice")
    for path in ("/", "/approvals?tab=todo", f"/tasks/{api.tasks('alice', key='pct')[0]['id']}"):
        resp = web.get(path)
        assert resp.status_code == 200, path
        assert "Raise 5% (of %(total)s) %s" in resp.get_data(as_text=True)


def test_shipped_names_are_still_translated(web, api) -> None:  # noqa: ANN001
    api.start_leave("alice")
    web.login("bob")
    web.get("/lang/zh_CN")
    assert "经理审批" in web.get("/approvals?tab=todo").get_data(as_text=True)
    assert "请假申请" in web.get("/start").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/login", "/", "/api/v1/health", "/static/web/app.js"])
def test_every_response_carries_the_security_headers(web, path: str) -> None:  # noqa: ANN001
    web.login("alice")
    resp = web.get(path)
    csp = resp.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert resp.headers.get("X-Frame-Options") == "DENY"
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"


# ------------------------------------------------------------------ static checks of templates and scripts
def _templates() -> list[Path]:
    found = sorted(WEB.glob("*/templates/**/*.html"))  # every area's templates and the shared ones
    assert len(found) >= 27, found  # as many as there were before the split by area
    return found


def test_templates_translate_only_literal_message_ids(app) -> None:  # noqa: ANN001
    """`_()` / `gettext()` marks its result safe and %-formats it: data must go through `|label`."""
    bad = []
    for path in _templates():
        tree = app.jinja_env.parse(path.read_text(), name=path.name)
        for call in tree.find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name in ("_", "gettext", "ngettext", "pgettext"):
                if not call.args or not isinstance(call.args[0], nodes.Const):
                    bad.append(f"{path.name}:{call.lineno}")
    assert not bad, f"_() of a non-literal: {bad}"


UNSAFE_TEMPLATE = [
    (re.compile(r"\|\s*safe\b"), "|safe"),
    (re.compile(r"Markup\("), "Markup("),
    (re.compile(r"autoescape\s+false", re.I), "autoescape false"),
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\sstyle\s*=", re.I), "inline style"),
    (re.compile(r"<style", re.I), "<style> block"),
]


def test_templates_hold_no_unsafe_construct() -> None:
    found = [f"{p.name}: {what}" for p in _templates() for rx, what in UNSAFE_TEMPLATE if rx.search(p.read_text())]
    found += [f"{p.name}: Markup(" for p in WEB.rglob("*.py") if "Markup(" in p.read_text()]
    assert not found, found


HTML_SINKS = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function")


def test_static_scripts_build_no_markup_from_strings() -> None:
    """Text goes in with textContent, elements with createElement; nothing parses strings as HTML."""
    found = []
    for path in sorted((WEB / "static").glob("*.js")):
        text = path.read_text()
        found += [f"{path.name}: {w}" for w in HTML_SINKS if w in text]
    assert not found, found


def test_a_notification_links_only_to_a_page_of_this_site(web, app) -> None:  # noqa: ANN001
    from api.extensions import db
    from oa.notifications import notify
    links = ["/\\evil.example/x", "//evil.example/x", "javascript:alert(1)", "https://evil.example/", "/tasks"]
    with app.app_context():
        for i, link in enumerate(links):
            notify(db.session, "alice", "info", f"note {i}", link=link)
        db.session.commit()
    web.login("alice")
    html = web.get("/notifications").get_data(as_text=True)
    hrefs = re.findall(r'<a href="([^"]*)">note \d', html)
    assert hrefs == ["/tasks"]


def test_the_template_gettext_escapes_even_a_data_value(app) -> None:  # noqa: ANN001
    """The second line of defence: `_()` given data (which the test above forbids) still escapes it."""
    from tests.web.conftest import PAYLOAD
    with app.test_request_context("/"):
        html = app.jinja_env.from_string("{{ _(v) }}|{{ _('Hello, %(name)s', name=v) }}|{{ v|label }}").render(
            v=PAYLOAD)
    assert RAW not in html and html.count(ESCAPED) == 3
    assert "100% &#34;q&#34;" in html


def test_hsts_only_behind_https(app) -> None:  # noqa: ANN001
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers
    app.config["SESSION_COOKIE_SECURE"] = True
    assert app.test_client().get("/login").headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_response_with_its_own_policy_keeps_it(app) -> None:  # noqa: ANN001
    from flask import Response

    from api.web.security import add_security_headers
    with app.test_request_context("/"):
        resp = add_security_headers(Response("x", headers={"Content-Security-Policy": "default-src 'none'; sandbox"}))
    assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert resp.headers["X-Frame-Options"] == "DENY"
