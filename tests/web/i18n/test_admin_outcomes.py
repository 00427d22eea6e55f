"""The admin console says a request's outcome as the approval centre does (已撤回 / 已拒绝, not 已取消 /
已完成) and names processes by their translated name, not their key."""

from __future__ import annotations

import re

from tests.web.conftest import Web


def _leave(api) -> int:  # noqa: ANN001
    resp = api.start_leave("alice", 1)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_admin_instances_show_outcomes_and_process_names_in_chinese(web: Web, api) -> None:  # noqa: ANN001
    rejected, withdrawn = _leave(api), _leave(api)
    [task] = api.tasks("bob", instance_id=rejected)
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": False}, "comment": "no"}).status_code == 200
    assert api.post(f"/api/v1/process-instances/{withdrawn}/withdraw", "alice", json={}).status_code == 200
    web.login("admin")
    web.get("/lang/zh_CN")
    page = web.get("/admin/instances").get_data(as_text=True)
    rows = {m.group(1): m.group(2) for m in re.finditer(r"/admin/instances/(\d+)\"(.*?)</tr>", page, re.S)}
    assert "已拒绝" in rows[str(rejected)] and "已完成" not in rows[str(rejected)]
    assert "已撤回" in rows[str(withdrawn)] and "已取消" not in rows[str(withdrawn)]
    assert "请假申请" in rows[str(rejected)] and ">leave_request<" not in page
    detail = web.get(f"/admin/instances/{withdrawn}").get_data(as_text=True)
    assert f"请假申请 #{withdrawn}" in detail and "已撤回" in detail and f"leave_request #{withdrawn}" not in detail
