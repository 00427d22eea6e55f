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


def test_an_order_given_up_after_a_rejection_reads_cancelled_and_the_console_filters_by_outcome(web: Web, api) -> None:  # noqa: ANN001, E501
    """The rep gives up a rejected order: the order is cancelled, and its approval reads "Cancelled" in the console,
    the approval centre and the applicant's notification (not "Rejected"); the console's status filter offers
    every outcome the list shows, rejected and approved too, and finds each."""
    from tests.crm.conftest import Crm
    from tests.crm.sales_helpers import complete, get_order, order, product, submit
    c = Crm(api).customer("alice")
    p = product(api, "GU-1", 10)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    given_up = submit(api, "alice", o["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", given_up, approved=False, comment="duplicate of a phone order")
    complete(api, "alice", "revise", given_up, resubmit=False)
    assert get_order(api, "alice", o["id"])["status"] == "cancelled"
    rejected, withdrawn = _leave(api), _leave(api)
    [task] = api.tasks("bob", instance_id=rejected)
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": False}, "comment": "no"}).status_code == 200
    assert api.post(f"/api/v1/process-instances/{withdrawn}/withdraw", "alice", json={}).status_code == 200
    approved = _leave(api)
    [task] = api.tasks("bob", instance_id=approved)
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": True}}).status_code == 200
    running = _leave(api)

    web.login("admin")
    web.get("/lang/zh_CN")

    def listed(query: str = "") -> dict[str, str]:
        page = web.get(f"/admin/instances{query}").get_data(as_text=True)
        return {m.group(1): m.group(2) for m in re.finditer(r"/admin/instances/(\d+)\"(.*?)</tr>", page, re.S)}

    rows = listed()
    assert "已取消" in rows[str(given_up)] and "已拒绝" not in rows[str(given_up)]
    page = web.get("/admin/instances").get_data(as_text=True)
    assert re.search(r'<option value="rejected"[^>]*>已拒绝</option>', page)
    assert re.search(r'<option value="approved"[^>]*>已通过</option>', page)
    assert set(listed("?status=rejected")) == {str(rejected)}
    assert set(listed("?status=cancelled")) == {str(given_up)}
    assert set(listed("?status=withdrawn")) == {str(withdrawn)}
    assert set(listed("?status=approved")) == {str(approved)}
    assert set(listed("?status=running")) == {str(running)}
    assert set(listed("?status=completed")) == {str(given_up), str(rejected), str(approved)}
    web.logout()

    web.login("alice")
    web.get("/lang/zh_CN")
    notices = web.get("/notifications").get_data(as_text=True)
    assert f"#{given_up} 已取消" in notices and f"#{given_up} 已拒绝" not in notices
    mine = web.get("/approvals?tab=mine&status=cancelled").get_data(as_text=True)
    assert f"/instances/{given_up}\"" in mine and f"/instances/{rejected}\"" not in mine
