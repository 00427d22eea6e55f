"""The last raw keys and English on zh-CN pages (issue #15): the opportunity picker's stage, the web withdraw's
timeline comment, a CC step's name, every CRM audit action, the users' roles and groups, dates on task pages."""

from __future__ import annotations

import ast
from datetime import date, datetime
from pathlib import Path

from flask_babel import force_locale

from api.web.approvals.task_view import fmt_date
from api.web.crm.choices import AUDIT_ACTIONS
from tests.conftest import Api
from tests.web.conftest import ROOT, Web


def _zh(web: Web, user: str) -> None:
    web.login(user)
    web.get("/lang/zh_CN")


def test_the_opportunity_picker_shows_the_stage_in_the_readers_language(web: Web, crm: dict) -> None:
    _zh(web, "alice")
    [found] = [r for r in web.get("/pick/crm.opportunity?q=Arm").get_json() if r["id"] == crm["opp"]["id"]]
    assert found["detail"] == "Acme Robotics · 已验证"  # stage qualified, in Chinese; never "· open"
    web.get("/lang/en")
    [found] = web.get(f"/pick/crm.opportunity?id={crm['opp']['id']}").get_json()
    assert found["detail"] == "Acme Robotics · Qualified"


def test_a_request_withdrawn_in_the_web_app_reads_in_chinese(api: Api, web: Web) -> None:
    inst = api.start_leave("alice").get_json()["id"]
    _zh(web, "alice")
    assert web.post(f"/requests/{inst}/withdraw", csrf_from=f"/instances/{inst}").status_code == 302
    page = web.get(f"/instances/{inst}").get_data(as_text=True)
    timeline = page.split('id="timeline"', 1)[1].split("</ol>", 1)[0]
    assert "申请人在网页端撤回" in timeline and "withdrawn in the web app" not in page
    web.get("/lang/en")
    assert "Withdrawn in the web app" in web.get(f"/instances/{inst}").get_data(as_text=True)


def test_a_cc_step_shows_its_translated_name_not_its_id(api: Api, web: Web) -> None:
    inst = api.start_leave("alice", 2).get_json()["id"]
    for _round in range(4):  # manager, then HR (whoever the flow asks next)
        open_tasks = [(u, t) for u in ("bob", "erin", "dave") for t in api.tasks(u, instance_id=inst)]
        if not open_tasks:
            break
        user, task = open_tasks[0]
        done = api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"variables": {"approved": True}})
        assert done.status_code == 200, done.get_json()
    _zh(web, "alice")
    page = web.get(f"/instances/{inst}").get_data(as_text=True)
    timeline = page.split('id="timeline"', 1)[1].split("</ol>", 1)[0]
    assert "抄送" in timeline and "抄送人事" in timeline and "cc_hr" not in timeline


def _audit_actions() -> set[str]:
    """Every action literal the code passes to audit.record(session, entity, id, user, action, ...)."""
    found: set[str] = set()
    for path in [*ROOT.glob("api/**/*.py"), *ROOT.glob("crm/**/*.py"), *ROOT.glob("oa/**/*.py")]:
        for node in ast.walk(ast.parse(Path(path).read_text("utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit"):
                action = node.args[4] if len(node.args) > 4 else next(
                    (k.value for k in node.keywords if k.arg == "action"), None)
                assert isinstance(action, ast.Constant), f"{path}:{node.lineno}: the action must be a literal"
                found.add(action.value)
    return found


def test_every_audit_action_the_code_writes_has_a_label_in_both_languages(app) -> None:  # noqa: ANN001
    actions = _audit_actions()
    assert {"create", "payment", "submit", "credit_limit"} <= actions  # the walk found the writers
    assert actions <= set(AUDIT_ACTIONS), actions - set(AUDIT_ACTIONS)
    with app.test_request_context(), force_locale("zh_CN"):
        untranslated = [a for a in actions if str(AUDIT_ACTIONS[a]) == AUDIT_ACTIONS[a]._args[0]]
    assert untranslated == []


def test_an_order_log_reads_in_chinese(app, web: Web) -> None:  # noqa: ANN001
    from tests.web.i18n.test_zh_crawl import _seed_demo
    _seed_demo(app)
    _zh(web, "admin")
    page = web.get("/admin/audit?object_type=order").get_data(as_text=True)
    assert "提交审批" in page and ">submit<" not in page


def test_admin_users_shows_roles_and_groups_translated(web: Web) -> None:
    _zh(web, "admin")
    page = web.get("/admin/users?q=bob").get_data(as_text=True)
    row = page.split('id="users"', 1)[1].split("</table>", 1)[0]
    assert "员工" in row and "销售" in row and ">employee<" not in row and ">sales<" not in row
    web.get("/lang/en")
    row = web.get("/admin/users?q=bob").get_data(as_text=True).split('id="users"', 1)[1]
    assert "Employee" in row and ">sales<" in row.split('class="groups"', 1)[1].split("</td>", 1)[0]


def test_task_page_dates_use_the_locale_format(app) -> None:  # noqa: ANN001
    with app.test_request_context(), force_locale("zh_CN"):
        assert fmt_date("2026-12-03") == "2026年12月3日"
        assert fmt_date(date(2026, 12, 3)) == "2026年12月3日"  # a date object is never shown as ISO text
        assert fmt_date(datetime(2026, 12, 3, 6, 30)).startswith("2026年12月3日 ")  # a moment, in company time
        assert fmt_date("soon") == "soon"
    with app.test_request_context(), force_locale("en"):
        assert fmt_date("2026-12-03") == "Dec 3, 2026"
