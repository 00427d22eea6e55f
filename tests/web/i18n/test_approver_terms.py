"""One Chinese term per approver action, the README's: transfer 转交 (the task leaves you), delegate 委派 (it comes
back) — on the task page's buttons, the confirmation after the action, the timeline and the notifications alike,
never 转办 or 委托 beside them."""

from __future__ import annotations

import re
from pathlib import Path

from api.web.zh_cn_messages import ZH_CN
from tests.web.conftest import Web

ROOT = Path(__file__).resolve().parents[3]
ZH = {"Accept-Language": "zh-CN"}


def test_the_catalogue_and_the_readme_use_one_term_for_each_action() -> None:
    assert ZH_CN["Transfer"] == "转交" and ZH_CN["Transferred"] == "转交"
    assert ZH_CN["Delegate"] == "委派" and ZH_CN["Delegated"] == "委派"
    other = {k: v for k, v in ZH_CN.items() if "转办" in v or "委托" in v}
    assert not other, other
    readme = (ROOT / "README.md").read_text()
    assert "transfer 转交" in readme and "delegate 委派" in readme


def test_the_task_page_the_confirmation_and_the_notification_say_the_same_words(web: Web, api) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", 2).get_json()["id"]
    [task] = api.tasks("bob", instance_id=inst)
    web.login("bob")
    page = web.get(f"/tasks/{task['id']}", headers=ZH).get_data(as_text=True)
    buttons = re.findall(r'class="inline-form action-(transfer|delegate)".*?<button type="submit">([^<]+)</button>',
                         page, re.S)
    assert dict(buttons) == {"transfer": "转交", "delegate": "委派"}, buttons
    resp = web.post(f"/tasks/{task['id']}/delegate", {"to": "dave"}, csrf_from=f"/tasks/{task['id']}",
                    headers=ZH, follow_redirects=True)
    assert "已委派给" in resp.get_data(as_text=True)
    web.logout()
    web.login("dave")
    inbox = web.get("/notifications", headers=ZH).get_data(as_text=True)
    assert "任务已委派给您" in inbox and "委托" not in inbox
    timeline = web.get(f"/instances/{inst}", headers=ZH).get_data(as_text=True).split('id="timeline"', 1)[1]
    assert "委派" in timeline and "委托" not in timeline
