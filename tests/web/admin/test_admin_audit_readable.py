"""/admin/audit reads like the rest of the console, in English and Chinese: an administration change names
its fields by their labels and shows values as the admin pages do (roles and groups by name, yes/no, times in
the company zone); a process event names its process and step; the action filter is a list of labelled
actions that still takes the raw key in the address."""

from __future__ import annotations

import re

from tests.web.conftest import Web

RAW_KEYS = ("display_name", "act_as", "expires_at", "roles:", "groups:", "manager_approval", "→ employee",
            "True", "False")


def _details(web: Web, query: str) -> list[str]:
    """The text of each Details cell of the trail (tags stripped)."""
    resp = web.get("/admin/audit" + query)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    cells = re.findall(r'<td class="audit-detail">(.*?)</td>', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c.replace("<li>", " "))).strip() for c in cells]


def _row_of(web: Web, query: str, marker: str) -> str:
    """The whole table row (tags stripped) that contains `marker`."""
    html = web.get("/admin/audit" + query).get_data(as_text=True).split('id="audit"')[1]
    rows = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)) for r in html.split("<tr>")]
    found = [r for r in rows if marker in r]
    assert found, html[:3000]
    return found[0]


def _setup(web: Web, api) -> None:  # noqa: ANN001
    web.login("admin")
    resp = web.post("/admin/users/new", {"username": "zoe", "display_name": "Zoe Zhang", "roles": "employee",
                                         "groups": "sales"}, csrf_from="/admin/users/new")
    assert resp.status_code == 303
    resp = web.post("/admin/api-keys", {"name": "erp", "user": "alice", "scopes": "read:crm", "expires": "30d"},
                    csrf_from="/admin/api-keys")
    assert resp.status_code == 303
    assert api.start_leave("alice").status_code == 201


def test_details_in_english(web: Web, api) -> None:  # noqa: ANN001
    _setup(web, api)
    [user_row] = _details(web, "?object_type=user&action=created")
    assert "Name: — → Zoe Zhang" in user_row
    assert "Roles: — → Employee" in user_row and "Groups: — → sales" in user_row
    assert "Active: — → Yes" in user_row and "Password: — → set (not shown)" in user_row
    [key_row] = _details(web, "?object_type=api_key")
    assert "May act on behalf of employees: — → No" in key_row
    assert re.search(r"Expires: — → [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M", key_row), key_row
    process = _details(web, "?object_type=instance&action=task_created")
    assert process == ["Manager approval"]
    assert "Leave request" in _row_of(web, "?object_type=instance&action=task_created", "Manager approval")
    for cell in _details(web, ""):
        for raw in RAW_KEYS:
            assert raw not in cell, (raw, cell)
        assert not re.search(r"\d{4}-\d{2}-\d{2}T", cell), cell


def test_details_in_chinese(web: Web, api) -> None:  # noqa: ANN001
    _setup(web, api)
    web.get("/lang/zh_CN")
    [user_row] = _details(web, "?object_type=user&action=created")
    assert "名称: — → Zoe Zhang" in user_row
    assert "角色: — → 员工" in user_row and "群组: — → 销售" in user_row
    assert "生效: — → 是" in user_row and "密码: — → 已设置（不显示）" in user_row
    [key_row] = _details(web, "?object_type=api_key")
    assert "可代员工操作: — → 否" in key_row
    assert re.search(r"过期时间: — → \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", key_row), key_row
    assert _details(web, "?object_type=instance&action=task_created") == ["经理审批"]
    assert "请假申请" in _row_of(web, "?object_type=instance&action=task_created", "经理审批")
    for cell in _details(web, ""):
        for raw in (*RAW_KEYS, "sales", "Manager approval", "Name:"):
            assert raw not in cell, (raw, cell)


def test_the_action_filter_is_a_labelled_list(web: Web, api) -> None:  # noqa: ANN001
    _setup(web, api)
    html = web.get("/admin/audit").get_data(as_text=True)
    select = html.split('<select name="action">')[1].split("</select>")[0]
    assert '<option value="created" >Added</option>' in select.replace("  ", " ")
    assert '<option value="password_reset" >Password reset</option>' in select.replace("  ", " ")
    assert '<optgroup label="Processes">' in select and '<optgroup label="Administration">' in select
    # the key in the address filters, and the list shows it chosen
    html = web.get("/admin/audit?action=created").get_data(as_text=True)
    assert '<option value="created" selected>' in html
    assert len(_details(web, "?action=created")) == 2  # zoe and the API key, no process or CRM row
    assert _details(web, "?action=started") == [""]  # the leave's start: a process row, no step
    web.get("/lang/zh_CN")
    select = web.get("/admin/audit").get_data(as_text=True).split('<select name="action">')[1].split("</select>")[0]
    assert ">新建<" in select  # "created", the administration "Added"
    assert '<optgroup label="系统管理">' in select
    too_long = web.get("/admin/audit?action=" + "x" * 41).get_data(as_text=True)  # said on the field
    assert re.search(r'<label class="has-error">[^<]*<select name="action">', too_long)
