"""A receipt's size reads the same wherever it is shown: the approver's task page and the request page (new-user
finding 16: "0.0 KB" on one, "0.1 KB" on the other), in bytes under 1 KB and KB above, in English and Chinese."""

from __future__ import annotations

import re

from tests.web.approvals.test_task_page import PDF, _expense, _task_id
from tests.web.conftest import Web

_SIZE = re.compile(r'>receipt\.pdf</a> <span class="muted">([^<·]*?)\s*(?:·|</span>)')


def _sizes(web: Web, path: str) -> list[str]:
    resp = web.get(path)
    assert resp.status_code == 200, resp.status_code
    return _SIZE.findall(resp.get_data(as_text=True))


def test_the_same_receipt_has_one_size_on_every_page(web: Web, api) -> None:  # noqa: ANN001
    for content, shown in ((PDF, f"{len(PDF)} B"), (PDF + b"x" * (1536 - len(PDF)), "1.5 KB")):
        web.login("alice")
        assert _expense(web, filename="receipt.pdf", content=content).status_code == 302
        web.logout()
        task_id = _task_id(api, "bob")
        instance_id = next(t for t in api.tasks("bob") if t["id"] == task_id)["instance_id"]
        web.login("bob")
        for lang in ("en", "zh_CN"):
            web.get(f"/lang/{lang}")
            assert _sizes(web, f"/tasks/{task_id}") == [shown]
            assert _sizes(web, f"/instances/{instance_id}") == [shown]
        web.get("/lang/en")
        resp = api.post(f"/api/v1/tasks/{task_id}/complete", "bob", json={"variables": {"approved": False},
                                                                          "comment": "next"})
        assert resp.status_code == 200, resp.get_json()
        web.logout()
