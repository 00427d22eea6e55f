"""The BPMN diagram a page draws is in the reader's language: the element names of the flow come translated from
its `<process>.i18n.json` for zh-CN readers, English readers get the stored XML byte for byte, and the diagram of a
request is only served to people who may read the request."""

from __future__ import annotations

import io
import json
from pathlib import Path

from lxml import etree

from engine.diagram_i18n import BPMN_NS, is_labelled
from tests.bpmn_samples import user_task_process
from tests.conftest import Api
from tests.web.conftest import ROOT, Web

TABLE = json.loads((ROOT / "processes" / "leave_request.i18n.json").read_text("utf-8"))["zh-CN"]


def _drawn_names(xml: bytes) -> set[str]:
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    return {n.get("name") for n in root.iter(f"{{{BPMN_NS}}}*")
            if n.get("name") and is_labelled(etree.QName(n).localname)}


def _stored(api: Api) -> bytes:
    resp = api.get("/api/v1/process-definitions/leave_request/xml", "alice")
    assert resp.status_code == 200
    return resp.get_data()


def _assert_chinese(xml: bytes, stored: bytes) -> None:
    english = _drawn_names(stored)
    assert len(english) >= 8, english  # the shipped flow names its tasks, gateways, events and flows
    assert english <= set(TABLE), english - set(TABLE)  # every label it draws has a translation
    shown = _drawn_names(xml)
    assert {TABLE[name] for name in english} == shown
    assert not english & shown, english & shown
    assert {"已通过", "已拒绝", "已通过，超过 3 天"} <= shown  # sequence flows too


def test_a_chinese_reader_gets_the_request_diagram_with_chinese_names(api: Api, web: Web) -> None:
    inst = api.start_leave("alice").get_json()
    stored = _stored(api)
    web.login("alice")
    web.get("/lang/zh_CN")
    page = web.get(f"/instances/{inst['id']}?view=diagram").get_data(as_text=True)
    url = f"/instances/{inst['id']}/diagram.xml"
    assert f'data-xml-url="{url}"' in page
    resp = web.get(url)
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
    _assert_chinese(resp.get_data(), stored)
    assert "经理审批" in resp.get_data(as_text=True)
    # the process page's diagram too
    resp = web.get("/processes/leave_request/diagram.xml")
    assert resp.status_code == 200
    _assert_chinese(resp.get_data(), stored)


def test_an_english_reader_gets_the_stored_xml_unchanged(api: Api, web: Web) -> None:
    inst = api.start_leave("alice").get_json()
    stored = _stored(api)
    web.login("alice")
    web.get("/lang/en")
    assert web.get(f"/instances/{inst['id']}/diagram.xml").get_data() == stored
    assert web.get("/processes/leave_request/diagram.xml?version=1").get_data() == stored
    assert web.get("/processes/leave_request/diagram.xml?version=0").status_code == 422


def test_a_user_who_may_not_read_the_request_gets_404(api: Api, web: Web) -> None:
    inst = api.start_leave("alice").get_json()
    web.login("carol")
    web.get("/lang/zh_CN")
    resp = web.get(f"/instances/{inst['id']}/diagram.xml")
    assert resp.status_code == 404 and "经理审批" not in resp.get_data(as_text=True)
    assert web.get("/instances/999999/diagram.xml").status_code == 404
    web.logout()
    web.login("admin")  # the admin console's instance page links to the same diagram
    assert web.get(f"/instances/{inst['id']}/diagram.xml").status_code == 200
    web.logout()
    anonymous = web.get(f"/instances/{inst['id']}/diagram.xml")
    assert anonymous.status_code in (302, 401) and b"<bpmn" not in anonymous.get_data()


def test_a_designer_is_told_about_an_untranslated_flow_label(api: Api) -> None:
    """A sequence flow's name is drawn on the diagram, so the translations file is checked for it too."""
    bpmn = user_task_process("labelled", name="Check the stock").replace(
        b'id="f2" sourceRef', b'id="f2" name="stock is fine" sourceRef')
    table = {"zh-CN": {"Check the stock": "检查库存"}}
    resp = api.client.post("/api/v1/deployments/validate", headers=api.headers("grace"),
                           content_type="multipart/form-data", data={"files": [
                               (io.BytesIO(bpmn), "labelled.bpmn"),
                               (io.BytesIO(json.dumps(table).encode()), "labelled.i18n.json")]})
    text = json.dumps(resp.get_json(), ensure_ascii=False)
    assert "without a translation: 'stock is fine'" in text and "never shows" not in text


def test_the_names_keep_the_rest_of_the_xml(tmp_path: Path) -> None:
    """Only `name` attributes of drawn elements change: ids, messages and the process name stay."""
    from engine.diagram_i18n import translate_names
    xml = (b'<?xml version="1.0" encoding="UTF-8"?><definitions xmlns="' + BPMN_NS.encode() + b'" id="d">'
           b'<message id="m" name="Approve"/><process id="p" name="Approve">'
           b'<userTask id="t" name="Approve"/><exclusiveGateway id="g" name="Other"/>'
           b'<sequenceFlow id="f" name="Approve" sourceRef="t" targetRef="g"/></process></definitions>')
    out = translate_names(xml, {"Approve": "同意 <&>"}.get)
    root = etree.fromstring(out)
    names = {n.get("id"): n.get("name") for n in root.iter() if n.get("id")}
    assert names == {"d": None, "m": "Approve", "p": "Approve", "t": "同意 <&>", "g": "Other", "f": "同意 <&>"}
    assert translate_names(xml, {}.get) == xml  # untranslated names stay as they are
