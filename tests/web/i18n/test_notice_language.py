"""Notifications are stored as a message key + parameters and rendered in the reader's language when read;
rows written before (no key) stay readable; the API and other channels keep the English text."""

from __future__ import annotations

from tests.conftest import Api
from tests.web.conftest import Web


def test_task_notification_reads_in_each_readers_language(api: Api, web: Web) -> None:
    started = api.start_leave("alice")
    assert started.status_code == 201, started.get_json()
    number = started.get_json()["id"]
    inbox = api.get("/api/v1/notifications", "bob").get_json()
    items = inbox["items"] if isinstance(inbox, dict) else inbox
    assert any(n["title"] == "New task: Manager approval" for n in items), items  # API: English as before
    web.login("bob")
    web.get("/lang/zh_CN")
    page = web.get("/notifications").get_data(as_text=True)
    assert "新任务：经理审批" in page and f"请假申请 #{number}" in page and "New task" not in page
    web.get("/lang/en")
    page = web.get("/notifications").get_data(as_text=True)
    assert "New task: Manager approval" in page and f"Leave request #{number}" in page


def test_old_rows_without_a_key_stay_readable_and_parameters_are_escaped(app, web: Web) -> None:  # noqa: ANN001
    from api.extensions import db
    from oa.notifications import notify
    from store.messages import Message
    with app.app_context():
        notify(db.session, "carol", "info", "Written before keys existed")
        notify(db.session, "carol", "invitation", Message("Invitation: {title}", title="<script>x</script>{task}"))
        db.session.commit()
    web.login("carol")
    web.get("/lang/zh_CN")
    page = web.get("/notifications").get_data(as_text=True)
    assert "Written before keys existed" in page
    assert "邀请：&lt;script&gt;x&lt;/script&gt;{task}" in page and "<script>x" not in page
