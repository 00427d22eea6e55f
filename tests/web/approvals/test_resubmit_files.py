"""Copy / resubmit a rejected expense claim: its receipts come along as new uploads of the applicant, so the
form submits as it is; nobody else's request can be copied, and copies do not pile up on reload."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.web.approvals.test_task_page import _expense
from tests.web.conftest import Web


def _receipt_value(html: str) -> str:
    found = re.search(r'name="v:items/0/receipt"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="v:items/0/receipt"', html)
    assert found, "the receipt field carries no file"
    return found.group(1) or found.group(2)


def test_resubmitted_claim_keeps_its_receipt(web: Web, api, app) -> None:  # noqa: ANN001
    from api.extensions import db
    from engine.models import InstanceAttachment
    web.login("alice")
    resp = _expense(web, amounts=("80",))
    inst = int(resp.headers["Location"].rsplit("/", 1)[1])
    task = api.tasks("bob", assignee="me")[0]
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": False, "comment": "wrong project"}}).status_code == 200
    page = web.get(f"/start/expense_claim?from={inst}")
    assert page.status_code == 200
    first = _receipt_value(page.get_data(as_text=True))
    assert _receipt_value(web.get(f"/start/expense_claim?from={inst}").get_data(as_text=True)) == first  # reused
    with app.app_context():
        pending = db.session.scalar(select(func.count()).select_from(InstanceAttachment)
                                    .where(InstanceAttachment.instance_id.is_(None)))
        assert pending == 1
    data = {"v:items/__present": "1", "v:note": "trip", "v:items/0/category": "travel", "v:items/0/amount": "80",
            "v:items/0/date": "2026-11-03", "v:items/0/description": "line 0", "v:items/0/receipt": first}
    again = web.post("/start/expense_claim", data, csrf_from="/start/expense_claim")
    assert again.status_code == 302, again.get_data(as_text=True)[:2000]
    new_inst = int(again.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        names = db.session.scalars(select(InstanceAttachment.filename)
                                   .where(InstanceAttachment.instance_id == new_inst)).all()
        assert names == ["taxi.pdf"]
        assert db.session.scalar(select(func.count()).select_from(InstanceAttachment)
                                 .where(InstanceAttachment.instance_id == inst)) == 1  # the original stays
    web.logout()
    web.login("bob")  # not his request: no copy, no file
    assert web.get(f"/start/expense_claim?from={inst}").status_code == 404


def _rejected_claim(web: Web, api, filename: str = "taxi.pdf") -> int:  # noqa: ANN001
    resp = _expense(web, amounts=("80",), filename=filename)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    inst = int(resp.headers["Location"].rsplit("/", 1)[1])
    task = api.tasks("bob", assignee="me")[0]
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": False, "comment": "wrong project"}}).status_code == 200
    return inst


def test_a_copied_receipt_is_listed_by_its_own_name_and_can_be_dropped(web: Web, api, app) -> None:  # noqa: ANN001
    from api.extensions import db
    from engine.models import InstanceAttachment
    web.login("alice")
    inst = _rejected_claim(web, api, filename="出租车 taxi.pdf")
    html = web.get(f"/start/expense_claim?from={inst}").get_data(as_text=True)
    kept = re.search(r'<span class="file-kept"><span class="file-name">([^<]+)</span><label class="opt">'
                     r'<input type="checkbox" name="_drop_file" value="items/0/receipt"> Remove</label>', html)
    assert kept and kept.group(1) == "出租车 taxi.pdf"  # its original name, never a stored one
    first = _receipt_value(html)
    with app.app_context():
        stored = db.session.get(InstanceAttachment, int(first)).stored_name
    assert stored not in html
    data = {"v:items/__present": "1", "v:note": "trip", "v:items/0/category": "travel", "v:items/0/amount": "80",
            "v:items/0/date": "2026-11-03", "v:items/0/description": "line 0", "v:items/0/receipt": first,
            "_drop_file": "items/0/receipt"}
    again = web.post("/start/expense_claim", data, csrf_from="/start/expense_claim")
    assert again.status_code == 302, again.get_data(as_text=True)[:2000]
    new_inst = int(again.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():  # dropped: the new claim has no receipt
        assert db.session.scalars(select(InstanceAttachment.id)
                                  .where(InstanceAttachment.instance_id == new_inst)).all() == []


def test_a_form_never_names_or_attaches_a_file_that_is_not_the_users_own(web: Web, api, app) -> None:  # noqa: ANN001
    """bob posts alice's upload id (of her request, or her pending copy): refused naming the field, and the form
    shown again does not name her file."""
    web.login("alice")
    inst = _rejected_claim(web, api, filename="alice-secret.pdf")
    pending = _receipt_value(web.get(f"/start/expense_claim?from={inst}").get_data(as_text=True))
    attached = api.get(f"/api/v1/process-instances/{inst}/attachments", "alice").get_json()["items"][0]["id"]
    web.logout()
    web.login("bob")
    for upload in (pending, str(attached)):
        data = {"v:items/__present": "1", "v:items/0/category": "travel", "v:items/0/amount": "80",
                "v:items/0/date": "2026-11-03", "v:items/0/description": "line 0", "v:items/0/receipt": upload}
        resp = web.post("/start/expense_claim", data, csrf_from="/start/expense_claim")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 422, html[:2000]
        assert 'id="err-items/0/receipt"' in html and "alice-secret" not in html
        assert 'class="file-kept"' not in html  # the field does not claim a file it does not hold
    assert web.get(f"/start/expense_claim?from={inst}").status_code == 404  # and her request cannot be copied


def test_a_copy_of_a_paid_claim_does_not_carry_its_receipt(web: Web, api) -> None:  # noqa: ANN001
    web.login("alice")
    resp = _expense(web, amounts=("80",))
    inst = int(resp.headers["Location"].rsplit("/", 1)[1])
    task = api.tasks("bob", assignee="me")[0]
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": True}}).status_code == 200
    pay = next(t for t in api.tasks("carol", candidate="me") if t["instance_id"] == inst)
    assert api.post(f"/api/v1/tasks/{pay['id']}/complete", "carol",
                    json={"variables": {"payment_reference": "PAY-7"}}).status_code == 200
    page = web.get(f"/start/expense_claim?from={inst}").get_data(as_text=True)
    assert not re.search(r'name="v:items/0/receipt"[^>]*value="\d+"|value="\d+"[^>]*name="v:items/0/receipt"', page)
    assert "80" in page  # the rest of the claim is copied
