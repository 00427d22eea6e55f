"""The webhook admin page: a duplicate hook is refused inline (409), a private address names the operator's
setting in the reader's language, and at phone width the once-only secret and the URLs stay readable."""

from __future__ import annotations

import dataclasses
import re

from tests.web.conftest import Web, login, shot

URL = "https://93.184.215.14/receivers/oaflow/hook?token=abcdef0123456789"


def _allow_private(app, monkeypatch, allowed: bool) -> None:  # noqa: ANN001
    settings = app.config["OAFLOW_SETTINGS"]
    monkeypatch.setitem(app.config, "OAFLOW_SETTINGS", dataclasses.replace(settings, webhook_allow_private=allowed))


def test_a_duplicate_webhook_is_refused_inline(web: Web) -> None:
    web.login("admin")
    form = {"url": URL, "events": "task.created instance.completed"}
    assert web.post("/admin/webhooks", form, csrf_from="/admin/webhooks").status_code == 303
    resp = web.post("/admin/webhooks", {**form, "events": "instance.completed task.created"},
                    csrf_from="/admin/webhooks")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and re.search(r"Webhook #\d+ already sends these events to this URL\.", html)
    assert 'id="new-secret"' not in html
    web.get("/lang/zh_CN")
    resp = web.post("/admin/webhooks", form, csrf_from="/admin/webhooks")
    assert resp.status_code == 409 and "已向此 URL 发送这些事件" in resp.get_data(as_text=True)


def test_a_private_address_names_the_operators_setting(web: Web, app, monkeypatch) -> None:  # noqa: ANN001
    _allow_private(app, monkeypatch, False)
    web.login("admin")
    resp = web.post("/admin/webhooks", {"url": "http://127.0.0.1:9/hook"}, csrf_from="/admin/webhooks")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Private addresses are allowed only when the operator sets " \
        "OAFLOW_WEBHOOK_ALLOW_PRIVATE=1." in html
    web.get("/lang/zh_CN")
    html = web.post("/admin/webhooks", {"url": "http://127.0.0.1:9/hook"}, csrf_from="/admin/webhooks").get_data(
        as_text=True)
    assert "只有运维人员设置“OAFLOW_WEBHOOK_ALLOW_PRIVATE=1”后才允许内网地址。" in html and "回环" in html


def _fits(pg) -> dict:  # noqa: ANN001
    return pg.evaluate("""() => {
      const secret = document.querySelector('#new-secret code').getBoundingClientRect();
      const cells = [...document.querySelectorAll('#webhooks td.url')].map(td => td.getBoundingClientRect().width);
      return {secretRight: secret.right, pageWidth: document.documentElement.scrollWidth,
              viewport: window.innerWidth, narrowestUrl: Math.min(...cells)};
    }""")


def test_webhooks_and_designer_at_phone_width(page) -> None:  # noqa: ANN001
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, "admin")
    for lang in ("en", "zh_CN"):
        page.goto(f"/lang/{lang}?next=/admin/webhooks")
        page.fill("#f-url", f"{URL}&lang={lang}")
        page.fill("#f-events", "task.created instance.completed")
        page.click("#webhook-form button[type=submit]")
        page.wait_for_selector("#new-secret")
        fits = _fits(page)
        assert fits["secretRight"] <= fits["viewport"] and fits["pageWidth"] <= fits["viewport"], fits
        assert fits["narrowestUrl"] >= 150, fits  # a readable column, not one letter per line
        shot(page, f"admin-webhooks-{lang}-390")
    for lang in ("en", "zh_CN"):
        page.goto(f"/lang/{lang}?next=/designer")
        page.set_input_files("#files", files=[{"name": "broken.bpmn", "mimeType": "application/xml",
                                               "buffer": _dangling()}])
        page.click("#upload-form button[value=validate]")
        page.wait_for_selector("#problems")
        text = page.inner_text("#problems")
        assert ("targetRef" in text) and (("顺序流 f2" in text) if lang == "zh_CN" else ("sequence flow f2" in text))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.wait_for_selector(".diagram[data-state=error]")  # the sample has no diagram: said in the page's words
        no_diagram = {"zh_CN": "该文件不含可绘制的流程图（bpmndi:BPMNDiagram）。",
                      "en": "The file has no diagram (bpmndi:BPMNDiagram) to draw."}
        assert page.inner_text(".diagram-error") == no_diagram[lang]
        shot(page, f"designer-{lang}-390")


def _dangling() -> bytes:
    from tests.bpmn_samples import process
    return process("dangling", """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="mgr" name="Review" camunda:assignee="bob">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="end" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="mgr" />
  <bpmn:sequenceFlow id="f2" sourceRef="mgr" targetRef="nowhere" />""")
