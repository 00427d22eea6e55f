"""Pages name people by their display name, not their username: owners in CRM lists and record pages, the
operation log and its owner changes, the admin console's "started by", the history of a request and report
rows. The username stays only where it is the account's identity (the admin's user list, in <code>)."""

from __future__ import annotations

import re

from tests.conftest import Api
from tests.web.conftest import Web

ALICE, BOB = "Alice (Sales Rep)", "Bob (Head of Sales)"


def _cells(page: str) -> list[str]:
    """The text of every table cell and timeline user of a page."""
    found = re.findall(r'<td[^>]*>(.*?)</td>|<span class="ev-user"[^>]*>(.*?)</span>', page, re.S)
    return [re.sub(r"<[^>]+>", "", text).strip() for pair in found for text in pair if text]


def test_crm_pages_show_owners_by_name(web: Web, crm: dict) -> None:
    web.login("alice")
    web.get("/lang/zh_CN")
    listing = web.get("/customers").get_data(as_text=True)
    assert ALICE in _cells(listing) and "alice" not in _cells(listing)
    opp = web.get(f"/opportunities/{crm['opp']['id']}").get_data(as_text=True)
    assert ALICE in opp and ">alice<" not in opp
    customer = web.get(f"/customers/{crm['mine']['id']}").get_data(as_text=True)
    assert ALICE in customer and ">alice<" not in customer


def test_request_history_and_admin_console_name_people(web: Web, api: Api) -> None:
    inst = api.start_leave("alice", 1).get_json()["id"]
    [task] = api.tasks("bob", instance_id=inst)
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": True}, "comment": "ok"}).status_code == 200
    web.login("admin")
    web.get("/lang/zh_CN")
    listing = web.get("/admin/instances").get_data(as_text=True)
    row = re.search(rf"/admin/instances/{inst}\"(.*?)</tr>", listing, re.S)
    assert row and ALICE in row.group(1) and ">alice<" not in row.group(1)
    detail = web.get(f"/admin/instances/{inst}").get_data(as_text=True)
    users = re.findall(r'<span class="ev-user" title="([^"]*)">([^<]*)</span>', detail)
    assert ("alice", ALICE) in users and ("bob", BOB) in users, users  # the username stays as the tooltip
    people = web.get("/admin/users").get_data(as_text=True)
    assert "<code>alice</code>" in people  # the account list keeps the username as the account's identity
