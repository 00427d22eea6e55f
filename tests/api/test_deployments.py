"""Deployments over HTTP: roles, validation problems, the MIWG corpus, and hostile XML."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.extensions import db
from engine.models import Deployment, ProcessDefinition
from tests.bpmn_samples import process, user_task_process
from tests.conftest import deploy_files

MIWG = Path(__file__).resolve().parents[1] / "corpus" / "miwg"
VALIDATE = "/api/v1/deployments/validate"


def _counts(app) -> tuple[int, int]:  # noqa: ANN001
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Deployment)),
                db.session.scalar(select(func.count()).select_from(ProcessDefinition)))


def test_only_designers_and_admins_deploy(api) -> None:  # noqa: ANN001
    files = {"p.bpmn": user_task_process("roles_check")}
    assert deploy_files(api, "alice", files).status_code == 403
    api.use_api_key("erp")
    assert deploy_files(api, "erp", files).status_code == 403  # integrators start processes, not deploy them
    assert api.client.post("/api/v1/deployments").status_code == 401
    resp = deploy_files(api, "grace", files)
    assert resp.status_code == 201
    assert resp.get_json()["definitions"][0]["key"] == "roles_check"


def test_validate_reports_every_problem_at_once(api, app) -> None:  # noqa: ANN001
    broken = process("broken", """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:exclusiveGateway id="choose"><bpmn:incoming>f1</bpmn:incoming>
    <bpmn:outgoing>a</bpmn:outgoing><bpmn:outgoing>b</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:userTask id="form_task" name="Fill">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="missing_form.json" />
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>c</bpmn:outgoing></bpmn:userTask>
  <bpmn:serviceTask id="call_erp" name="Call ERP"><bpmn:incoming>b</bpmn:incoming>
    <bpmn:outgoing>d</bpmn:outgoing></bpmn:serviceTask>
  <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>c</bpmn:incoming><bpmn:outgoing>e</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>"three days"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:endEvent id="end"><bpmn:incoming>d</bpmn:incoming><bpmn:incoming>e</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="choose" />
  <bpmn:sequenceFlow id="a" sourceRef="choose" targetRef="form_task" />
  <bpmn:sequenceFlow id="b" sourceRef="choose" targetRef="call_erp" />
  <bpmn:sequenceFlow id="c" sourceRef="form_task" targetRef="wait" />
  <bpmn:sequenceFlow id="d" sourceRef="call_erp" targetRef="end" />
  <bpmn:sequenceFlow id="e" sourceRef="wait" targetRef="end" />""")
    no_start = process("no_start", '<bpmn:userTask id="lonely" name="Lonely" />')
    dup = process("dup", """
  <bpmn:startEvent id="same"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:endEvent id="same"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="same" targetRef="same" />""")
    not_exec = user_task_process("descriptive").replace(b'isExecutable="true"', b'isExecutable="false"')
    before = _counts(app)
    resp = deploy_files(api, "grace", {"broken.bpmn": broken, "no_start.bpmn": no_start, "dup.bpmn": dup,
                                       "descriptive.bpmn": not_exec}, VALIDATE)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["valid"] is False
    problems = body["problems"]
    for p in problems:
        assert set(p) == {"file", "element_id", "line", "severity", "message"}

    def find(file: str, element: str | None) -> list[dict]:
        return [p for p in problems if p["file"] == file and (element is None or p["element_id"] == element)]

    assert find("broken.bpmn", "choose"), problems            # gateway without condition or default
    assert any("missing_form.json" in p["message"] for p in find("broken.bpmn", "form_task"))
    assert find("broken.bpmn", "call_erp")                     # service task with no implementation
    assert find("broken.bpmn", "wait")                         # bad timer expression
    assert find("no_start.bpmn", None)
    assert any(p["element_id"] == "same" for p in find("dup.bpmn", None))
    assert any("executable" in p["message"] for p in find("descriptive.bpmn", None))
    assert all(p["line"] for p in find("broken.bpmn", None) if p["element_id"])
    # deploying the same files answers 422 with the same problems and stores nothing
    resp = deploy_files(api, "grace", {"broken.bpmn": broken})
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert {e["element_id"] for e in resp.get_json()["errors"]} >= {"choose", "form_task", "call_erp", "wait"}
    assert _counts(app) == before


def test_unknown_file_types_and_empty_uploads(api) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"notes.txt": b"hello"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["file"] == "notes.txt"
    resp = api.client.post("/api/v1/deployments", data={}, headers=api.headers("grace"),
                           content_type="multipart/form-data")
    assert resp.status_code == 422
    resp = api.post("/api/v1/deployments", "grace", json={"files": []})
    assert resp.status_code == 415


def test_a_bad_form_file_is_a_problem(api) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"f.json": b"{not json", "g.json": b'{"type": 12}'}, VALIDATE)
    files = {p["file"] for p in resp.get_json()["problems"]}
    assert files == {"f.json", "g.json"}


@pytest.mark.parametrize("path", sorted(MIWG.glob("*.bpmn")), ids=lambda p: p.name)
def test_miwg_reference_models_deploy_or_answer_422(api, path: Path) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {path.name: path.read_bytes()})
    assert resp.status_code in (201, 422), resp.get_json()
    body = resp.get_json()
    if resp.status_code == 201:
        assert body["definitions"], body
    else:
        assert body["errors"]
        for problem in body["errors"]:
            assert problem["file"] == path.name and problem["message"]


def test_miwg_corpus_is_present() -> None:
    assert len(list(MIWG.glob("*.bpmn"))) >= 20, f"MIWG corpus missing at {MIWG}"


def test_the_executable_miwg_model_runs(api) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"C.9.1.bpmn": (MIWG / "C.9.1.bpmn").read_bytes()})
    assert resp.status_code == 201, resp.get_json()
    key = resp.get_json()["definitions"][0]["key"]
    inst = api.post(f"/api/v1/process-definitions/{key}/start", "admin", json={})
    assert inst.status_code == 201, inst.get_json()
    assert inst.get_json()["status"] in ("running", "completed")


XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<bpmn:process id="p" name="&x;" isExecutable="true"><bpmn:startEvent id="s"/></bpmn:process></bpmn:definitions>"""
XXE_HTTP = XXE_FILE.replace(b"file:///etc/passwd", b"http://127.0.0.1:9/secret")
LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
                     for i in range(1, 10))
          + b']>\n<lolz>&lol9;</lolz>')
QUADRATIC = (b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "' + b"A" * 50_000 + b'">]><q>'
             + b"&a;" * 50_000 + b"</q>")


@pytest.mark.parametrize("name,content", [
    ("xxe_file.bpmn", XXE_FILE), ("xxe_http.bpmn", XXE_HTTP), ("laughs.bpmn", LAUGHS),
    ("quadratic.bpmn", QUADRATIC), ("malformed.bpmn", b"<bpmn:definitions><unclosed>"),
    ("latin1.bpmn", '<?xml version="1.0" encoding="UTF-8"?><a>caf\xe9</a>'.encode("latin-1")),
    ("binary.bpmn", bytes(range(256)) * 4),
])
def test_hostile_xml_is_a_4xx_problem_and_leaks_nothing(api, app, name: str, content: bytes) -> None:  # noqa: ANN001
    before = _counts(app)
    for path in (VALIDATE, "/api/v1/deployments"):
        resp = deploy_files(api, "grace", {name: content}, path)
        assert resp.status_code in (200, 413, 422) if path == VALIDATE else 400 <= resp.status_code < 500
        text = resp.get_data(as_text=True)
        assert "root:" not in text and "/bin/" not in text
        problems = resp.get_json().get("problems") or resp.get_json().get("errors")
        assert problems and problems[0]["file"] == name
    assert _counts(app) == before


def test_oversized_upload_is_413(api, app) -> None:  # noqa: ANN001
    before = _counts(app)
    big = b'<?xml version="1.0"?><a>' + b"<b>x</b>" * (20 * 1024 * 1024 // 8) + b"</a>"
    resp = deploy_files(api, "grace", {"big.bpmn": big})
    assert resp.status_code == 413 and resp.mimetype == "application/problem+json"
    assert _counts(app) == before
