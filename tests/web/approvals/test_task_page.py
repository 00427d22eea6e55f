"""The approver's task page: only the declared fields (formatted), record cards, secret countersign votes,
only the actions the user may take now, reject with a reason and a confirmation, errors inline."""

from __future__ import annotations

import io
import re

from tests.web.conftest import LEAVE, Web

PDF = b"%PDF-1.4\n% a receipt\n"
INTERNAL = ("by_category", "chain", "reviewers", "votes")


def _task_id(api, user: str, **query) -> str:  # noqa: ANN001, ANN003
    tasks = api.tasks(user, **query)
    assert tasks, f"{user} has no task"
    return tasks[0]["id"]


def _expense(web: Web, amounts: tuple[str, ...] = ("12345.6", "100"), filename: str = "taxi.pdf",
             content: bytes = PDF) -> object:
    """alice submits an expense claim through the web form, the first line with a receipt file."""
    data: dict = {"v:items/__present": "1", "v:note": "trip"}
    for i, amount in enumerate(amounts):
        data.update({f"v:items/{i}/category": "travel", f"v:items/{i}/amount": amount,
                     f"v:items/{i}/date": "2026-11-03", f"v:items/{i}/description": f"line {i}"})
    data["file:items/0/receipt"] = (io.BytesIO(content), filename)
    return web.post("/start/expense_claim", data, csrf_from="/start/expense_claim",
                    content_type="multipart/form-data")


def test_expense_task_shows_declared_fields_formatted_and_the_receipt(web: Web, api) -> None:  # noqa: ANN001
    web.login("alice")
    resp = _expense(web)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    web.logout()
    web.login("bob")
    task_id = _task_id(api, "bob")
    page = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    for word in INTERNAL:  # the flow's own variables never reach the approver
        assert word not in page, word
    assert "12,345.60" in page and "12,445.60" in page  # money: 2 decimals, separators, the total
    assert "Nov 3, 2026" in page  # dates in the reader's locale format
    assert ">Travel<" in page or ">travel<" in page
    found = re.search(rf'href="(/tasks/{task_id}/attachments/(\d+))">taxi.pdf</a>', page)
    assert found, page[:5000]
    download = web.get(found.group(1))
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    web.logout()
    web.login("carol")  # no part in this request: neither the task nor its files
    assert web.get(found.group(1)).status_code == 404


def test_upload_rules_size_type_and_attacker_filename(web: Web, api, app) -> None:  # noqa: ANN001
    web.login("alice")
    resp = _expense(web, content=b"<html><script>alert(1)</script></html>", filename="evil.html")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'id="err-items/0/receipt"' in html and "<script>alert" not in html
    assert ">line 0</textarea>" in html  # what was typed is kept
    app.config["OAFLOW_MAX_FILE_BYTES"] = 64
    resp = _expense(web, content=PDF + b"x" * 200)
    assert resp.status_code == 422 and 'id="err-items/0/receipt"' in resp.get_data(as_text=True)
    app.config["OAFLOW_MAX_FILE_BYTES"] = 10_000
    resp = _expense(web, filename="../../x.html")
    assert resp.status_code == 302
    inst_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    files = api.get(f"/api/v1/process-instances/{inst_id}/attachments", "alice").get_json()
    items = files["items"] if isinstance(files, dict) else files
    assert [(f["filename"], f["content_type"]) for f in items] == [("x.html", "application/pdf")]
    # someone else's pending upload cannot be named as a receipt
    other = api.post("/api/v1/attachments", "bob", data={"file": (io.BytesIO(PDF), "bob.pdf")},
                     content_type="multipart/form-data").get_json()
    resp = web.post("/start/expense_claim", {
        "v:items/0/category": "meals", "v:items/0/amount": "5", "v:items/0/date": "2026-11-03",
        "v:items/0/description": "lunch", "v:items/0/receipt": str(other["id"])}, csrf_from="/start/expense_claim")
    assert resp.status_code == 422 and 'id="err-items/0/receipt"' in resp.get_data(as_text=True)


def test_contract_document_upload_opportunity_card_and_secret_votes(web: Web, api, crm) -> None:  # noqa: ANN001
    web.login("alice")
    form = web.get("/start/contract_approval").get_data(as_text=True)
    assert 'data-picker="crm.opportunity"' in form and 'type="file" name="file:document"' in form
    resp = web.post("/start/contract_approval", {
        "v:opportunity_id": str(crm["opp"]["id"]), "v:title": "Arm upgrade contract", "v:amount": "80000",
        "file:document": (io.BytesIO(PDF), "draft.pdf")}, csrf_from="/start/contract_approval",
        content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    web.logout()
    web.login("bob")
    head_task = _task_id(api, "bob")
    page = web.get(f"/tasks/{head_task}").get_data(as_text=True)
    assert 'data-kind="opportunity"' in page and "Arm upgrade</a>" in page
    assert f'href="/customers/{crm["mine"]["id"]}"' in page and "draft.pdf" in page and "80,000.00" in page
    resp = web.post(f"/tasks/{head_task}/complete", {"v:approved": "true"}, csrf_from=f"/tasks/{head_task}")
    assert resp.status_code == 302
    web.logout()
    frank_task = _task_id(api, "frank")
    assert api.post(f"/api/v1/tasks/{frank_task}/complete", "frank",
                    json={"variables": {"approved": True}, "comment": "clause 7 is fine"}).status_code == 200
    web.login("carol")  # the other reviewer: sees the record card by her task, not frank's vote
    page = web.get(f"/tasks/{_task_id(api, 'carol')}").get_data(as_text=True)
    assert 'data-kind="opportunity"' in page
    assert "clause 7 is fine" not in page and "1 of 2 approvers" in page
    franks = [li for li in page.split("<li") if 'ev-user" title="frank">Frank (Legal)<' in li]
    assert franks and not any("badge ok" in li or "badge bad" in li for li in franks)
    for word in INTERNAL:
        assert word not in page, word
    web.logout()
    web.login("frank")  # frank voted already; carol's vote stays hidden from him while the step is open
    carol_task = _task_id(api, "carol")
    page = web.get(f"/tasks/{frank_task}").get_data(as_text=True)
    assert "clause 7 is fine" in page and "1 of 2 approvers" in page  # his own vote, the count
    assert api.post(f"/api/v1/tasks/{carol_task}/complete", "carol",
                    json={"variables": {"approved": True}, "comment": "numbers ok"}).status_code == 200
    page = web.get(f"/tasks/{frank_task}").get_data(as_text=True)
    assert "numbers ok" in page  # the step is over: every vote shows


def test_actions_offered_per_state_and_user(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice", days=5)
    task_id = _task_id(api, "bob")
    web.login("bob")
    page = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="task-form"' in page and "action-transfer" in page and "action-delegate" in page
    assert "action-add-signer" in page and "action-cc" in page and 'id="claim"' not in page
    assert 'id="urge"' not in page  # only the applicant urges
    assert re.search(r"<dt>Working days</dt><dd>5</dd>", page)  # computed by the platform, shown with the form's
    web.logout()
    web.login("alice")  # the applicant: may read and urge, never decide or hand over her own request
    page = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="task-form"' not in page and 'id="more-actions"' not in page and 'id="urge"' in page
    assert web.post(f"/tasks/{task_id}/urge", csrf_from=f"/tasks/{task_id}").status_code == 302
    page = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="urge"' not in page  # urged less than 10 minutes ago: the engine would refuse
    resp = web.post(f"/tasks/{task_id}/urge", csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 409 and 'id="task-form"' not in resp.get_data(as_text=True)
    assert "<h1>" in resp.get_data(as_text=True) and "Manager approval" in resp.get_data(as_text=True)
    web.logout()
    assert api.post(f"/api/v1/tasks/{task_id}/complete", "bob", json={"variables": {"approved": True}}).status_code \
        == 200
    hr_task = _task_id(api, "erin")
    web.login("erin")  # a group task: take it; after taking it, give it back
    page = web.get(f"/tasks/{hr_task}").get_data(as_text=True)
    assert 'id="claim"' in page and 'id="unclaim"' not in page
    web.post(f"/tasks/{hr_task}/claim", csrf_from=f"/tasks/{hr_task}")
    page = web.get(f"/tasks/{hr_task}").get_data(as_text=True)
    assert 'id="claim"' not in page and 'id="unclaim"' in page
    web.logout()
    web.login("bob")  # bob finished his step: he may read it but nothing is offered
    page = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="task-form"' not in page and 'id="more-actions"' not in page and 'id="claim"' not in page


def test_reject_needs_a_reason_and_a_confirmation(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice")
    task_id = _task_id(api, "bob")
    web.login("bob")
    page = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'class="danger reject" data-confirm=' in page
    for reason in ("", "   \n "):
        resp = web.post(f"/tasks/{task_id}/complete", {"v:approved": "false", "v:comment": reason,
                                                       "confirmed": "reject"}, csrf_from=f"/tasks/{task_id}")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 422 and 'id="err-comment"' in html and "Give a reason" in html
    resp = web.post(f"/tasks/{task_id}/complete", {"v:approved": "false", "v:comment": "no <b>cover</b>"},
                    csrf_from=f"/tasks/{task_id}")
    html = resp.get_data(as_text=True)  # no confirmation yet: asked again, the reason kept (escaped)
    assert resp.status_code == 200 and 'id="confirm-reject"' in html and "no &lt;b&gt;cover&lt;/b&gt;" in html
    assert 'name="confirmed" value="reject"' in html
    assert api.tasks("bob")[0]["id"] == task_id  # still open
    resp = web.post(f"/tasks/{task_id}/complete", {"v:approved": "false", "v:comment": "no cover",
                                                   "confirmed": "reject"}, csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 302 and not api.tasks("bob")


def test_action_errors_show_inline_with_the_input_kept(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice")
    task_id = _task_id(api, "bob")
    web.login("bob")
    for action, field, value in (("transfer", "to", "nobody-here"), ("delegate", "to", "alice"),
                                 ("add-signer", "user", "bob"), ("cc", "users", "carol, ghost")):
        resp = web.post(f"/tasks/{task_id}/{action}", {field: value}, csrf_from=f"/tasks/{task_id}")
        html = resp.get_data(as_text=True)
        assert resp.status_code in (403, 409, 422), (action, resp.status_code)
        assert 'id="task-form"' in html and f'action-{action}' in html, action  # the task page, not error.html
        assert f'value="{value}"' in html and 'class="field-error"' in html, action
    resp = web.post(f"/tasks/{task_id}/transfer", {"to": "x" * 5000}, csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 422
    resp = web.post(f"/tasks/{task_id}/cc", {"users": ",".join(f"u{i}" for i in range(60))},
                    csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 422 and "At most 50" in resp.get_data(as_text=True)
    resp = web.post(f"/tasks/{task_id}/comment", {"text": "<script>x</script>" + "y" * 5000},
                    csrf_from=f"/tasks/{task_id}")
    assert resp.status_code == 422 and "<script>x" not in resp.get_data(as_text=True)


def test_a_stale_page_refuses_inline(web: Web, api) -> None:  # noqa: ANN001
    """Race: bob's open page still offers Approve, but the task moved on meanwhile: the refusal shows on the
    task page (with what he typed), which no longer offers the decision."""
    api.start_leave("alice")
    task_id = _task_id(api, "bob")
    web.login("bob")
    csrf = web.csrf(f"/tasks/{task_id}")
    assert api.post(f"/api/v1/tasks/{task_id}/delegate", "bob", json={"to": "dave"}).status_code == 200
    resp = web.client.post(f"/tasks/{task_id}/complete", data={"csrf_token": csrf, "v:approved": "true",
                                                               "v:comment": "fine by me"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 403 and "Manager approval" in html and 'id="history"' in html
    assert 'id="task-form"' not in html and "assigned to dave" in html
    assert api.tasks("dave")[0]["id"] == task_id


def test_people_picker(web: Web, app) -> None:  # noqa: ANN001
    resp = web.get("/people?q=car")  # login required: a script asking gets JSON it can act on, not a login page
    assert resp.status_code == 401 and resp.headers["Content-Type"].startswith("application/problem+json")
    from api.extensions import db
    from oa.models import User
    with app.app_context():
        for i in range(30):
            db.session.add(User(username=f"temp{i:02d}", display_name=f"Temp <b>{i}</b>", roles=["employee"]))
        db.session.add(User(username="gone", display_name="Carla Gone", roles=["employee"], active=False))
        db.session.commit()
    web.login("alice")
    people = web.get("/people?q=temp").get_json()
    assert len(people) == 20 and people[0]["name"] == "Temp <b>0</b>"  # capped; data, escaped by the consumer
    assert web.get("/people?q=temp").headers["Content-Type"].startswith("application/json")
    found = web.get("/people?q=car").get_json()
    assert [p["username"] for p in found] == ["carol"]  # inactive users are never offered
    assert {p["username"] for p in web.get("/people?q=finance").get_json()} == {"carol"}  # by department
    assert web.get("/people?q=" + "x" * 101).status_code == 422
    assert web.get("/people?q=%25").get_json() == []  # LIKE wildcards are literal


def test_record_picker_lists_only_accessible_records(web: Web, api, crm) -> None:  # noqa: ANN001
    assert web.get("/pick/crm.customer?q=a").status_code == 401
    web.login("alice")
    names = [r["name"] for r in web.get("/pick/crm.customer?q=o").get_json()]
    assert "Acme Robotics" in names and "Bobcat Foods" not in names  # bob's customer is outside her scope
    assert web.get(f"/pick/crm.customer?id={crm['other']['id']}").get_json() == []
    opps = web.get("/pick/crm.opportunity?q=arm").get_json()
    assert [o["id"] for o in opps] == [crm["opp"]["id"]]
    assert web.get("/pick/crm.secret?q=a").status_code == 404
    assert web.get("/pick/crm.customer?q=" + "x" * 101).status_code == 422
    for i in range(25):
        api.post("/api/v1/customers", "alice", json={"name": f"Many {i:02d}"})
    assert len(web.get("/pick/crm.customer?q=many").get_json()) == 20
    web.logout()
    web.login("frank")  # legal, no sales scope: none of the sales team's customers
    assert web.get("/pick/crm.customer?q=acme").get_json() == []


def test_leave_days_endpoint_matches_the_start_check(web: Web, api) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", start_date="2026-09-28", end_date="2026-10-09", leave_type="annual",
                           reason="autumn").get_json()
    web.login("alice")
    got = web.get("/leave-days?start_date=2026-09-28&end_date=2026-10-09").get_json()
    assert got["days"] == inst["variables"]["days"]
    resp = web.get("/leave-days?start_date=2026-10-09&end_date=2026-10-01")
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "end_date"
    assert web.get("/leave-days?start_date=soon&end_date=2026-10-01").status_code == 422


def test_start_form_widgets_mirror_the_schema(web: Web) -> None:
    web.login("alice")
    html = web.get("/start/expense_claim").get_data(as_text=True)
    assert 'name="file:items/0/receipt"' in html and 'type="file"' in html and 'enctype="multipart/form-data"' in html
    assert 'data-sum="amount"' in html and 'maxlength="500"' in html and 'minlength="1"' in html
    html = web.get("/start/leave_request").get_data(as_text=True)
    assert 'id="leave-days"' in html and 'data-url="/leave-days"' in html
    html = web.get("/start/customer_visit").get_data(as_text=True)
    assert 'data-picker="crm.customer"' in html and 'data-pick-url="/pick/crm.customer"' in html
    resp = web.post("/start/leave_request", LEAVE, csrf_from="/start/leave_request")
    assert resp.status_code == 302


def test_forms_script_never_writes_markup() -> None:
    from tests.web.conftest import ROOT
    script = (ROOT / "api" / "web" / "static" / "forms.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink


def test_picker_and_leave_day_errors_are_problem_json(web: Web) -> None:
    """The pages' own lookups answer errors as problem+json like the API (attacker finding)."""
    web.login("alice")
    for path, status in (("/pick/crm.zzz?q=a", 404), ("/leave-days?start_date=2026-01-01&end_date=2999-12-31", 422)):
        resp = web.get(path)
        assert resp.status_code == status and resp.mimetype == "application/problem+json", (path, resp.mimetype)
        assert resp.get_json()["status"] == status and resp.get_json()["title"]


def test_a_group_task_names_the_group_by_its_label(web: Web, api) -> None:  # noqa: ANN001
    """The HR step of a long leave is offered to the group `hr`: pages say HR (人事), never the key."""
    started = api.start_leave("alice", days=5)
    assert started.status_code == 201, started.get_json()
    instance_id = started.get_json()["id"]
    manager = _task_id(api, "bob", instance_id=instance_id)
    done = api.post(f"/api/v1/tasks/{manager}/complete", "bob", json={"variables": {"approved": True}})
    assert done.status_code == 200, done.get_json()
    hr_task = _task_id(api, "erin", instance_id=instance_id)
    web.login("erin")
    page = web.get(f"/tasks/{hr_task}").get_data(as_text=True)
    assert re.search(r"Assignee</dt><dd>HR</dd>", page), page[:5000]
    web.get("/lang/zh_CN")
    assert re.search(r"<dd>人事</dd>", web.get(f"/tasks/{hr_task}").get_data(as_text=True))
    web.logout()
    web.login("alice")  # the applicant's request page and her list say who it waits for
    web.get("/lang/en")
    assert "— HR" in web.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "(HR)" in web.get("/requests").get_data(as_text=True)
