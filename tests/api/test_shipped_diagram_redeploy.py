"""Re-laying out a shipped diagram (DI only) and running `oaflow deploy` again: a deployed version is never changed;
the changed file's process gets a new version, requests already running keep theirs (and their diagram), new
requests start on the new one, and deploying the same files again creates nothing (issue #15). A process's version
hash covers the other BPMN files of its bundle (call activities), so one changed shipped file gives every process
deployed with it from processes/ a new version too."""

from __future__ import annotations

import shutil
from pathlib import Path

from api.cli import deploy_paths
from api.config import ROOT


def test_a_relaid_out_diagram_deploys_as_a_new_version(api, app, tmp_path: Path) -> None:  # noqa: ANN001
    running = api.start_leave("alice").get_json()
    assert running["status"] == "running"
    shipped = tmp_path / "processes"
    shutil.copytree(ROOT / "processes", shipped)
    leave = shipped / "leave_request.bpmn"
    text = leave.read_text(encoding="utf-8")
    moved = text.replace('<dc:Bounds x="', '<dc:Bounds x="1', 1)  # the start event's DI moves; no semantic change
    assert moved != text
    leave.write_text(moved, encoding="utf-8")
    lines = deploy_paths(app, [shipped, ROOT / "forms"])
    assert "leave_request v2 (new)" in lines, lines
    assert deploy_paths(app, [shipped, ROOT / "forms"]) == [line.replace("(new)", "(unchanged)") for line in lines]
    old = api.get(f"/api/v1/process-instances/{running['id']}", "alice").get_json()
    assert old["status"] == "running" and old["version"] == 1  # a running request keeps its version
    assert api.start_leave("alice", days=1).get_json()["version"] == 2  # a new one starts on the new version
    v1 = api.get("/api/v1/process-definitions/leave_request/xml", "alice", query_string={"version": 1})
    v2 = api.get("/api/v1/process-definitions/leave_request/xml", "alice", query_string={"version": 2})
    assert v1.get_data() == (ROOT / "processes" / "leave_request.bpmn").read_bytes()  # deployed versions never change
    assert v2.get_data(as_text=True) == moved
