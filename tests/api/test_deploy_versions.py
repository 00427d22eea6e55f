"""A process gets a new version only when what it runs from changes: its BPMN, its callees' files, the DMN
tables of its decisions, its forms and translations - not the other files deployed beside it."""

from __future__ import annotations

from api.extensions import db
from engine import content_hash
from engine.models import ProcessDefinition
from tests.conftest import ROOT, deploy_files


def _files(*names: str) -> dict[str, bytes]:
    return {name.rsplit("/", 1)[-1]: (ROOT / name).read_bytes() for name in names}


def _created(resp) -> dict[str, tuple[bool, int]]:  # noqa: ANN001
    assert resp.status_code == 201, resp.get_json()
    return {d["key"]: (d["created"], d["version"]) for d in resp.get_json()["definitions"]}


def test_the_readme_deploy_after_init_keeps_the_version(api) -> None:  # noqa: ANN001
    readme = _files("processes/leave_request.bpmn", "forms/leave_request_start.json", "forms/approval.json")
    assert _created(deploy_files(api, "grace", readme)) == {"leave_request": (False, 1)}
    everything = {**_files(*(f"processes/{p.name}" for p in (ROOT / "processes").iterdir())),
                  **_files(*(f"forms/{p.name}" for p in (ROOT / "forms").glob("*.json")))}
    assert all(v == (False, 1) for v in _created(deploy_files(api, "grace", everything)).values())


def test_a_changed_decision_table_is_a_new_version_of_the_flows_using_it(api) -> None:  # noqa: ANN001
    files = _files("processes/expense_claim.bpmn", "processes/expense_approval_chain.dmn",
                   "processes/leave_request.bpmn")
    files["expense_approval_chain.dmn"] = files["expense_approval_chain.dmn"].replace(b"10000", b"20000")
    assert b"20000" in files["expense_approval_chain.dmn"]
    assert _created(deploy_files(api, "grace", files)) == {"expense_claim": (True, 2), "leave_request": (False, 1)}


def test_a_definition_hashed_the_earlier_way_keeps_its_version(api, app) -> None:  # noqa: ANN001
    from engine.parsing import parse_bundle
    bundle = {p.name: p.read_bytes() for p in (ROOT / "processes").iterdir() if p.suffix in (".bpmn", ".dmn")}
    bpmn = {k: v for k, v in bundle.items() if k.endswith(".bpmn")}
    dmn = {k: v for k, v in bundle.items() if k.endswith(".dmn")}
    proc = parse_bundle(bpmn, dmn)[0]["leave_request"]
    with app.app_context():
        row = db.session.query(ProcessDefinition).filter_by(key="leave_request", version=1).one()
        row.content_hash = content_hash.legacy_hash(proc, bpmn, dmn, row.forms, _translations())
        db.session.commit()
    everything = {**_files(*(f"processes/{p.name}" for p in (ROOT / "processes").iterdir())),
                  **_files(*(f"forms/{p.name}" for p in (ROOT / "forms").glob("*.json")))}
    assert _created(deploy_files(api, "grace", everything))["leave_request"] == (False, 1)
    readme = _files("processes/leave_request.bpmn", "forms/leave_request_start.json", "forms/approval.json")
    assert _created(deploy_files(api, "grace", readme)) == {"leave_request": (False, 1)}


def _translations() -> dict:
    from engine import flow_i18n
    name = "leave_request.i18n.json"
    return flow_i18n.parse(name, (ROOT / "processes" / name).read_bytes())[0]
