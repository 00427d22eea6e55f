"""A flow's own translations (`<process>.i18n.json`): checked and stored at deployment, used by the pages for
process and task names, form labels, enum values and history entries, for shipped and uploaded flows alike."""

from __future__ import annotations

import io
import json

from tests.bpmn_samples import user_task_process
from tests.conftest import Api, deploy_files
from tests.web.conftest import LEAVE, Web


def _zh(web: Web, user: str) -> None:
    web.login(user)
    web.get("/lang/zh_CN")


def test_shipped_leave_request_reads_in_chinese_with_element_names_in_history(web: Web) -> None:
    _zh(web, "alice")
    resp = web.post("/start/leave_request", LEAVE, csrf_from="/start/leave_request")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1000]
    page = web.get(resp.headers["Location"]).get_data(as_text=True)
    assert "请假申请 #" in page and "leave_request #" not in page
    # who has it now names the step in Chinese, never by its element id
    assert "经理审批" in page and "manager_approval" not in page.split("<main>", 1)[1].split('class="diagram', 1)[0]
    tasks = web.get("/approvals?tab=todo").get_data(as_text=True)
    assert "leave_request #" not in tasks
    web.logout()
    _zh(web, "bob")
    tasks = web.get("/approvals?tab=todo").get_data(as_text=True)
    assert "经理审批" in tasks and "请假申请" in tasks
    form = web.get("/start/leave_request").get_data(as_text=True)
    assert "假期类型" in form and "年假" in form


def test_designer_uploads_translations_with_the_flow(api: Api, web: Web) -> None:
    bpmn = user_task_process("visit_plan", name="Plan the visit").replace(
        b'id="visit_plan" isExecutable="true"', b'id="visit_plan" name="Visit plan" isExecutable="true"')
    table = {"zh-CN": {"Visit plan": "拜访计划", "Plan the visit": "安排拜访"}}
    resp = deploy_files(api, "grace", {"visit_plan.bpmn": bpmn,
                                       "visit_plan.i18n.json": json.dumps(table).encode()})
    assert resp.status_code == 201, resp.get_json()
    started = api.post("/api/v1/process-definitions/visit_plan/start", "alice", json={"variables": {}})
    assert started.status_code == 201, started.get_json()
    _zh(web, "alice")
    tasks = web.get("/approvals?tab=todo").get_data(as_text=True)
    assert "安排拜访" in tasks and "拜访计划" in tasks
    web.get("/lang/en")
    tasks = web.get("/approvals?tab=todo").get_data(as_text=True)
    assert "Plan the visit" in tasks and "Visit plan" in tasks
    # a changed table makes a new version; the same one does not
    again = deploy_files(api, "grace", {"visit_plan.bpmn": bpmn, "visit_plan.i18n.json": json.dumps(table).encode()})
    assert again.status_code in (200, 201) and again.get_json()["definitions"][0]["version"] == 1
    table["zh-CN"]["Plan the visit"] = "计划拜访"
    changed = deploy_files(api, "grace", {"visit_plan.bpmn": bpmn,
                                          "visit_plan.i18n.json": json.dumps(table).encode()})
    assert changed.get_json()["definitions"][0]["version"] == 2


def test_bad_translation_files_are_refused_naming_the_file(api: Api) -> None:
    bpmn = user_task_process("tiny")
    cases = {
        b"{not json": "not valid JSON",
        b'["zh-CN"]': "must be an object",
        b'{"fr": {"Do it": "Fais-le"}}': "unknown language",
        b'{"zh-CN": {"Do it": ""}}': "non-empty text",
        b'{"zh-CN": {"Do it": "' + b"x" * 2000 + b'"}}': "1 to 1000 characters",
        b'{"zh-CN": {"a": "' + b"x" * 300_000 + b'"}}': "larger than",
    }
    for content, message in cases.items():
        resp = deploy_files(api, "grace", {"tiny.bpmn": bpmn, "tiny.i18n.json": content})
        assert resp.status_code == 422, (message, resp.get_json())
        problems = resp.get_json()["errors"]
        assert any(p["file"] == "tiny.i18n.json" and message in p["message"] for p in problems), problems
    orphan = deploy_files(api, "grace", {"tiny.bpmn": bpmn, "other.i18n.json": b'{"zh-CN": {}}'})
    assert orphan.status_code == 422 and "no process 'other'" in json.dumps(orphan.get_json())


def test_translations_are_text_never_markup(api: Api, web: Web) -> None:
    bpmn = user_task_process("xss_flow", name="Inspect the crate")
    table = {"zh-CN": {"Inspect the crate": "<img src=x onerror=alert(1)>检查"}}
    assert deploy_files(api, "grace", {"xss_flow.bpmn": bpmn,
                                       "xss_flow.i18n.json": json.dumps(table).encode()}).status_code == 201
    assert api.post("/api/v1/process-definitions/xss_flow/start", "alice", json={}).status_code == 201
    _zh(web, "alice")
    tasks = web.get("/approvals?tab=todo").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;检查" in tasks and "<img src=x" not in tasks


def _form_texts(node: object, out: set[str]) -> None:
    """Titles, enum values and option titles of a JSON schema (what the form pages show)."""
    if isinstance(node, dict):
        if isinstance(node.get("title"), str):
            out.add(node["title"])
        out.update(v for v in node.get("enum") or [] if isinstance(v, str))
        for value in node.values():
            _form_texts(value, out)
    elif isinstance(node, list):
        for value in node:
            _form_texts(value, out)


def test_every_shipped_flow_text_has_its_chinese_translation(app) -> None:  # noqa: ANN001
    from api.extensions import db
    from engine.definitions import latest_definitions
    with app.app_context():
        definitions = latest_definitions(db.session)
        assert {d.key for d in definitions} >= {"leave_request", "expense_claim", "contract_approval"}
        for definition in definitions:
            labels = definition.labels or {}
            table = labels["translations"]["zh-CN"]
            texts = set(labels["names"].values()) | ({definition.name} if definition.name else set())
            _form_texts(definition.forms, texts)
            assert texts - set(table) == set(), definition.key


def test_shipped_translation_files_cover_their_flows_exactly(app) -> None:  # noqa: ANN001
    from api.config import ROOT
    from api.extensions import db
    from engine import definitions
    files = {p.name: p.read_bytes() for folder in ("processes", "forms") for p in sorted((ROOT / folder).iterdir())
             if p.is_file() and definitions.kind_of(p.name)}
    assert sum(name.endswith(".i18n.json") for name in files) >= 8
    with app.app_context():
        _bundle, _processes, problems = definitions.validate(db.session, files,
                                                             app.extensions["oaflow_engine"].services.signatures())
    assert [p for p in problems if p.file.endswith(".i18n.json")] == []


def test_a_designer_is_told_what_is_left_untranslated(api: Api) -> None:
    bpmn = user_task_process("half_done", name="Check the stock")
    table = {"zh-CN": {"Never shown": "从不显示"}}
    resp = api.client.post("/api/v1/deployments/validate", headers=api.headers("grace"),
                           content_type="multipart/form-data", data={"files": [
                               (io.BytesIO(bpmn), "half_done.bpmn"),
                               (io.BytesIO(json.dumps(table).encode()), "half_done.i18n.json")]})
    text = json.dumps(resp.get_json(), ensure_ascii=False)
    assert "without a translation: 'Check the stock'" in text and "never shows: 'Never shown'" in text
