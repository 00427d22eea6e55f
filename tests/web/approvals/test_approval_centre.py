"""The approval centre and the request page: tabs, one-line summaries per shipped flow, outcome labels that
say what happened, filters and search, the unread badge, who may open a request, urge / withdraw / copy /
resubmit, the chain preview on the start form — and the attacker's tries (wrong user, markup, bad input)."""

from __future__ import annotations

import re

from sqlalchemy import update

from api.extensions import db
from engine.models import ProcessInstance
from tests.conftest import leave_span
from tests.web.conftest import ESCAPED, PAYLOAD, RAW, Web


def _leave(api, user: str = "alice", days: float = 2, **extra) -> int:  # noqa: ANN001, ANN003
    resp = api.start_leave(user, days, **extra)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _decide(api, user: str, instance_id: int, approved: bool, comment: str | None = None) -> None:  # noqa: ANN001
    [task] = api.tasks(user, instance_id=instance_id)
    resp = api.post(f"/api/v1/tasks/{task['id']}/complete", user,
                    json={"variables": {"approved": approved}, "comment": comment})
    assert resp.status_code == 200, resp.get_json()


def _outcomes(html: str) -> dict[int, str]:
    """instance id -> data-outcome of each row of a centre page."""
    rows = re.findall(r'<tr data-instance="(\d+)".*?data-outcome="(\w+)"', html, re.S)
    return {int(i): o for i, o in rows}


def _set_status(app, instance_id: int, status: str) -> None:  # noqa: ANN001
    with app.app_context():
        db.session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id).values(status=status))
        db.session.commit()


def test_tabs_show_each_outcome_and_filter_by_it(web: Web, api, app) -> None:  # noqa: ANN001
    approved, rejected, withdrawn, running, broken = (_leave(api) for _ in range(5))
    _decide(api, "bob", approved, True)
    _decide(api, "bob", rejected, False, "not now")
    assert api.post(f"/api/v1/process-instances/{withdrawn}/withdraw", "alice", json={}).status_code == 200
    _set_status(app, broken, "error")  # an incident as the engine leaves it

    web.login("alice")
    html = web.get("/approvals?tab=mine").get_data(as_text=True)
    assert _outcomes(html) == {approved: "approved", rejected: "rejected", withdrawn: "withdrawn",
                               running: "running", broken: "incident"}
    assert ">Rejected<" in html and ">Withdrawn<" in html and ">In approval<" in html and ">Incident<" in html
    for status, expected in [("approved", approved), ("rejected", rejected), ("withdrawn", withdrawn),
                             ("running", running), ("incident", broken)]:
        page = web.get(f"/approvals?tab=mine&status={status}").get_data(as_text=True)
        assert set(_outcomes(page)) == {expected}, status
    web.logout()

    web.login("bob")
    todo = web.get("/approvals").get_data(as_text=True)
    assert set(_outcomes(todo)) == {running, broken} and "/tasks/" in todo
    done = web.get("/approvals?tab=done").get_data(as_text=True)
    assert _outcomes(done) == {approved: "approved", rejected: "rejected"}
    assert set(_outcomes(web.get("/approvals?tab=mine").get_data(as_text=True))) == set()


def test_a_rejection_is_never_a_green_completed(web: Web, api) -> None:  # noqa: ANN001
    rejected = _leave(api)
    _decide(api, "bob", rejected, False, "no")
    web.login("alice")
    page = web.get(f"/instances/{rejected}").get_data(as_text=True)
    assert 'data-outcome="rejected"' in page and 'class="badge bad"' in page
    assert "s-completed" not in page and ">Completed<" not in page


def test_summaries_of_the_shipped_flows(web: Web, api) -> None:  # noqa: ANN001
    from tests.crm.sales_helpers import product, submit
    leave = _leave(api, days=2, leave_type="sick")
    expense = api.post("/api/v1/process-definitions/expense_claim/start", "alice", json={"variables": {"items": [
        {"category": "travel", "amount": 1000.25, "date": "2026-11-20", "description": "train"},
        {"category": "meals", "amount": 234.25, "date": "2026-11-21", "description": "dinner"}]}}).get_json()["id"]
    customer = api.post("/api/v1/customers", "alice", json={"name": "Acme Trading", "industry": "manufacturing"})
    customer = customer.get_json()
    opp = api.post("/api/v1/opportunities", "alice", json={
        "customer_id": customer["id"], "name": "ERP rollout", "stage": "negotiation", "amount": 50000,
        "expected_close_date": "2026-12-31"}).get_json()
    contract = api.post("/api/v1/process-definitions/contract_approval/start", "alice", json={
        "business_key": f"opportunity:{opp['id']}", "variables": {
            "opportunity_id": opp["id"], "title": "ERP contract", "amount": 88000}})
    assert contract.status_code == 201, contract.get_json()
    visit = api.post("/api/v1/process-definitions/customer_visit/start", "alice", json={"variables": {
        "customer_id": customer["id"], "visit_date": "2031-11-20", "purpose": "review"}}).get_json()["id"]
    p = product(api, "SRV-9", 1000)
    quote = api.post("/api/v1/quotes", "alice", json={"opportunity_id": opp["id"], "lines": [
        {"product_id": p["id"], "quantity": 2, "discount": 0}]}).get_json()
    order = api.post(f"/api/v1/quotes/{quote['id']}/order", "alice", json={"payment_terms": "30_70"}).get_json()
    order_inst = submit(api, "alice", order["id"])["instance_id"]
    policy = api.post("/api/v1/process-definitions/policy_signoff/start", "alice", json={"variables": {
        "title": "Travel policy 2027", "signers": ["bob", "carol"], "mode": "all"}})
    assert policy.status_code == 201, policy.get_json()

    web.login("alice")
    html = web.get("/approvals?tab=mine").get_data(as_text=True)
    lines = dict(re.findall(r'<tr data-instance="(\d+)".*?class="summary-line">([^<]*)<', html, re.S))
    assert re.fullmatch(r"Sick leave · \w{3} \d+, 20\d\d → \w{3} \d+, 20\d\d · 2 working days", lines[str(leave)])
    assert lines[str(expense)] == "Total 1,234.50"
    assert lines[str(contract.get_json()["id"])] == "Acme Trading · ERP contract · 88,000.00"
    assert lines[str(visit)] == "Acme Trading · Nov 20, 2031"
    assert lines[str(order_inst)] == f"{order['number']} · Acme Trading · {order['total']:,.2f}"
    assert lines[str(policy.get_json()["id"])] == \
        "Document: Travel policy 2027 · Signers: Bob (Head of Sales), Carol (Finance) · Rule: Everyone approves"
    web.client.get("/lang/zh_CN")
    html = web.get("/approvals?tab=mine").get_data(as_text=True)
    lines = dict(re.findall(r'<tr data-instance="(\d+)".*?class="summary-line">([^<]*)<', html, re.S))
    assert re.fullmatch(r"病假 · 20\d\d年\d+月\d+日 → 20\d\d年\d+月\d+日 · 2 个工作日", lines[str(leave)])
    assert lines[str(expense)] == "合计 1,234.50"


def test_request_page_shows_the_data_with_labels_and_no_internal_variables(web: Web, api) -> None:  # noqa: ANN001
    resp = api.post("/api/v1/process-definitions/expense_claim/start", "alice", json={"variables": {"items": [
        {"category": "travel", "amount": 12000, "date": "2026-11-20", "description": PAYLOAD}],
        "note": "trip to Shanghai"}})
    inst = resp.get_json()["id"]
    web.login("alice")
    page = web.get(f"/instances/{inst}").get_data(as_text=True)
    data = page[page.index('id="request-data"'):page.index('id="timeline"')]
    assert "Line items" in data and "12,000.00" in data and "trip to Shanghai" in data and "Total" in data
    for internal in ("by_category", "chain", "votes", "reviewers", "finance_approved", "{&#34;", '{"'):
        assert internal not in data, internal
    assert ESCAPED in page and RAW not in page  # markup in the form data is text
    assert "Submitted the request" in page and "Manager approval" in page  # timeline and who has it now
    assert 'id="diagram-link"' in page and 'class="diagram"' not in page  # the diagram is one click away
    diagram = web.get(f"/instances/{inst}?view=diagram").get_data(as_text=True)
    assert 'class="diagram"' in diagram and 'data-zoom="fit"' in diagram


def test_timeline_names_each_action_with_comment(web: Web, api) -> None:  # noqa: ANN001
    inst = _leave(api, days=5)
    [task] = api.tasks("bob", instance_id=inst)
    assert api.post(f"/api/v1/tasks/{task['id']}/comments", "bob", json={"text": "checking"}).status_code == 201
    assert api.post(f"/api/v1/tasks/{task['id']}/cc", "bob", json={"users": ["carol"]}).status_code == 200
    _decide(api, "bob", inst, True, "fine by me")
    web.login("alice")
    page = web.get(f"/instances/{inst}").get_data(as_text=True)
    timeline = page[page.index('id="timeline"'):]
    assert timeline.index("Submitted the request") < timeline.index("Comment") < timeline.index("Copied to")
    assert "checking" in timeline and "fine by me" in timeline and 'tl-ok' in timeline
    pending = page[page.index('id="pending"'):page.index('id="timeline"')]
    assert "HR approval" in pending and "— HR" in pending  # the group by its name, not its key


def test_who_may_open_a_request(web: Web, api) -> None:  # noqa: ANN001
    inst = _leave(api)
    web.login("carol")
    assert web.get(f"/instances/{inst}").status_code == 404
    assert "Nothing here" in web.get("/approvals?tab=cc").get_data(as_text=True)
    web.logout()
    [task] = api.tasks("bob", instance_id=inst)
    assert api.post(f"/api/v1/tasks/{task['id']}/cc", "bob", json={"users": ["carol"]}).status_code == 200
    web.login("carol")
    home = web.get("/").get_data(as_text=True)
    assert re.search(r'id="approvals-badge"[^>]*>1<', home)  # the unread CC item
    cc_tab = web.get("/approvals?tab=cc").get_data(as_text=True)
    assert f'data-instance="{inst}"' in cc_tab
    assert web.get(f"/instances/{inst}").status_code == 200  # CC'd: may read it, and it is read now
    assert 'id="approvals-badge"' not in web.get("/").get_data(as_text=True)
    page = web.get(f"/instances/{inst}").get_data(as_text=True)
    assert 'id="withdraw"' not in page and 'id="urge"' not in page and 'id="copy"' not in page
    assert web.post(f"/instances/{inst}/urge", {}, csrf_from="/").status_code == 403
    assert web.get(f"/start/leave_request?from={inst}").status_code == 404  # not her request to copy


def test_badge_counts_tasks_waiting(web: Web, api) -> None:  # noqa: ANN001
    _leave(api)
    _leave(api)
    web.login("bob")
    assert re.search(r'id="approvals-badge"[^>]*>2<', web.get("/").get_data(as_text=True))
    web.logout()
    web.login("alice")
    assert 'id="approvals-badge"' not in web.get("/").get_data(as_text=True)


def test_urge_is_rate_limited_and_tells_the_approver(web: Web, api) -> None:  # noqa: ANN001
    inst = _leave(api)
    web.login("alice")
    page = web.get(f"/instances/{inst}").get_data(as_text=True)
    assert 'id="urge"' in page
    resp = web.post(f"/instances/{inst}/urge", {}, csrf_from=f"/instances/{inst}")
    assert resp.status_code == 302
    page = web.get(f"/instances/{inst}").get_data(as_text=True)
    assert 'id="urge"' not in page and 'id="urged"' in page
    assert web.post(f"/instances/{inst}/urge", {}, csrf_from=f"/instances/{inst}").status_code == 409
    inbox = api.get("/api/v1/notifications", "bob").get_json()["items"]
    assert any(n["kind"] == "urge" for n in inbox)


def test_withdraw_is_offered_only_while_allowed(web: Web, api) -> None:  # noqa: ANN001
    inst = _leave(api, days=5)
    web.login("alice")
    assert 'id="withdraw"' in web.get(f"/instances/{inst}").get_data(as_text=True)
    _decide(api, "bob", inst, True)  # the manager acted: still running (HR next) but no longer withdrawable
    page = web.get(f"/instances/{inst}").get_data(as_text=True)
    assert 'data-outcome="running"' in page and 'id="withdraw"' not in page
    assert web.post(f"/requests/{inst}/withdraw", {}, csrf_from="/").status_code == 409
    fresh = _leave(api)
    assert web.post(f"/requests/{fresh}/withdraw", {}, csrf_from="/").status_code == 302
    page = web.get(f"/instances/{fresh}").get_data(as_text=True)
    assert 'data-outcome="withdrawn"' in page and 'id="withdraw"' not in page
    web.logout()
    web.login("bob")  # not his request
    other = _leave(api)
    assert web.post(f"/requests/{other}/withdraw", {}, csrf_from="/").status_code == 403


def test_copy_and_resubmit_prefill_the_start_form(web: Web, api) -> None:  # noqa: ANN001
    inst = _leave(api, reason="see the <b>doctor</b>")
    _decide(api, "bob", inst, False, "dates clash")
    web.login("alice")
    page = web.get(f"/instances/{inst}").get_data(as_text=True)
    assert 'id="resubmit"' in page and 'id="copy"' in page
    form = web.get(f"/start/leave_request?from={inst}").get_data(as_text=True)
    assert "see the &lt;b&gt;doctor&lt;/b&gt;</textarea>" in form
    assert re.search(r'<option value="annual"\s+selected', form)
    running = _leave(api)
    page = web.get(f"/instances/{running}").get_data(as_text=True)
    assert 'id="resubmit"' not in page and 'id="copy"' in page
    assert web.get("/start/leave_request?from=abc").status_code == 422
    assert web.get(f"/start/expense_claim?from={inst}").status_code == 404  # another process


def test_search_and_bad_filters(web: Web, api) -> None:  # noqa: ANN001
    one = _leave(api, reason="dentist appointment")
    two = _leave(api, reason="wedding")
    three = _leave(api, reason="上海出差开会")
    web.login("alice")
    assert set(_outcomes(web.get("/approvals?tab=mine&q=出差").get_data(as_text=True))) == {three}
    assert set(_outcomes(web.get("/approvals?tab=mine&q=dentist").get_data(as_text=True))) == {one}
    assert set(_outcomes(web.get("/approvals?tab=mine&q=Leave").get_data(as_text=True))) == {one, two, three}
    assert set(_outcomes(web.get("/approvals?tab=mine&q=expense").get_data(as_text=True))) == set()
    assert set(_outcomes(web.get("/approvals?tab=mine&key=leave_request&start=&end=").get_data(as_text=True))) \
        == {one, two, three}
    assert set(_outcomes(web.get("/approvals?tab=mine&start=2000-01-01&end=2000-01-02")
                         .get_data(as_text=True))) == set()
    for bad, field in [("tab=everything", "tab"), ("status=lost", "status"), ("start=soon", "start"),
                       ("start=2026-02-01&end=2026-01-01", "end"), ("q=" + "x" * 101, "q"), ("colour=red", "colour")]:
        resp = web.get(f"/approvals?{bad}")
        assert resp.status_code == 422 and field in resp.get_data(as_text=True), bad
    assert web.get(f"/approvals?q={PAYLOAD}").status_code == 200
    assert RAW not in web.get(f"/approvals?q={PAYLOAD}").get_data(as_text=True)


def test_chain_preview_follows_the_flow_rules(web: Web, api) -> None:  # noqa: ANN001
    web.login("alice")
    token = web.csrf("/start/expense_claim")
    page = web.get("/start/expense_claim").get_data(as_text=True)
    assert 'id="chain-preview"' in page and "approvals.js" in page

    def preview(key: str, form: dict) -> dict:
        resp = web.client.post(f"/start/{key}/chain-preview", data=form, headers={"X-CSRFToken": token})
        assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
        return resp.get_json()

    small = preview("expense_claim", {"v:items/0/category": "travel", "v:items/0/amount": "300"})
    assert [s["step"] for s in small["steps"]] == ["Manager approval"] and small["steps"][0]["people"]
    big = preview("expense_claim", {"v:items/0/category": "travel", "v:items/0/amount": "20000"})
    assert [s["step"] for s in big["steps"]] == ["Manager approval", "Finance approval", "General manager approval"]
    assert big["inputs"]["total"] == 20000
    long_leave = preview("leave_request", {"v:leave_type": "annual", **{f"v:{k}": v for k, v in
                                                                       leave_span(5).items()}})
    assert [s["step"] for s in long_leave["steps"]] == ["Manager approval", "HR approval"]
    short = preview("leave_request", {"v:leave_type": "annual", **{f"v:{k}": v for k, v in leave_span(2).items()}})
    assert [s["step"] for s in short["steps"]] == ["Manager approval"]
    contract = preview("contract_approval", {"v:title": "<b>x</b>", "v:amount": "200000"})
    assert [s["step"] for s in contract["steps"]] == ["Sales head approval", "Legal and finance review (countersign)",
                                                      "General manager approval"]
    assert len(contract["steps"][1]["people"]) == 2  # the first of legal and the first of finance
    order = preview("sales_order_approval", {"v:order_id": "999999"})  # no order of hers: nothing said about it
    assert order["steps"] == [] and order["note"]
    many = {f"v:items/{i}/amount": "1" for i in range(1000)} | {f"v:items/{i}/category": "meals" for i in range(1000)}
    capped = preview("expense_claim", many)  # the form keeps at most 200 lines
    assert capped["inputs"]["total"] <= 200
    assert web.client.post("/start/expense_claim/chain-preview", data={}).status_code == 400  # no CSRF token
    assert web.client.post("/start/policy_signoff/chain-preview", data={},
                           headers={"X-CSRFToken": token}).status_code == 404


def test_attachments_are_listed_and_downloaded_by_readers_only(web: Web, api) -> None:  # noqa: ANN001
    import io
    inst = _leave(api)
    resp = api.client.post(f"/api/v1/process-instances/{inst}/attachments", headers=api.headers("alice"),
                           data={"file": (io.BytesIO(b"%PDF-1.4 note"), "<b>note<b>.pdf")},
                           content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    file_id = resp.get_json()["id"]
    web.login("alice")
    page = web.get(f"/instances/{inst}").get_data(as_text=True)
    assert "&lt;b&gt;note&lt;b&gt;.pdf" in page and "<b>note" not in page
    assert "Attachment added" in page[page.index('id="timeline"'):]
    link = f"/instances/{inst}/attachments/{file_id}"
    assert link in page
    got = web.get(link)
    assert got.status_code == 200 and got.data == b"%PDF-1.4 note"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert web.get(f"/instances/{inst}/attachments/{file_id + 99}").status_code == 404
    web.logout()
    web.login("carol")
    assert web.get(link).status_code == 404


def test_group_tasks_wait_in_the_centre_and_pages_speak_chinese(web: Web, api) -> None:  # noqa: ANN001
    inst = _leave(api, days=5)
    _decide(api, "bob", inst, True, "ok")
    web.login("erin")  # HR: the task is offered to her group
    todo = web.get("/approvals").get_data(as_text=True)
    assert f'data-instance="{inst}"' in todo and ">Group<" in todo and "HR approval" in todo
    web.client.get("/lang/zh_CN")
    for path in ("/approvals", "/approvals?tab=done", "/approvals?tab=mine", "/approvals?tab=cc",
                 f"/instances/{inst}"):
        html = web.get(path).get_data(as_text=True)
        body = html[html.index("<main>"):html.index("</main>")]
        text = re.sub(r"<[^>]+>", " ", body)
        for english in ("Waiting for me", "Done by me", "Copied to me", "Approvals", "Summary", "Applicant",
                        "In approval", "Manager approval", "HR approval", "Leave request", "What was submitted",
                        "Timeline", "Submitted the request", "working days", "annual", "Group", "Nothing here"):
            assert english not in text, (path, english)
    assert "待我处理" in web.get("/approvals").get_data(as_text=True)


def test_two_urges_at_once_send_one_reminder(app, api) -> None:  # noqa: ANN001
    from tests.conftest import run_in_threads
    inst = _leave(api)
    clients = [Web(app), Web(app)]
    tokens = []
    for c in clients:
        c.login("alice")
        tokens.append(c.csrf(f"/instances/{inst}"))
    codes: list[int] = []

    def urge(i: int) -> None:
        codes.append(clients[i].client.post(f"/instances/{inst}/urge", data={"csrf_token": tokens[i]}).status_code)
    run_in_threads(2, urge)
    assert sorted(codes) == [302, 409]
    inbox = api.get("/api/v1/notifications", "bob").get_json()["items"]
    assert len([n for n in inbox if n["kind"] == "urge"]) == 1


def test_who_acted_keeps_the_request_and_sees_it_as_handled(web: Web, api) -> None:  # noqa: ANN001
    """bob transfers one request to dave and adds a signer "after me" on another, then approves it: both stay
    readable to him (web page and API) and both are in his 我已处理 tab; someone who never acted still gets 404."""
    transferred, signed = _leave(api), _leave(api)
    [task] = api.tasks("bob", instance_id=transferred)
    assert api.post(f"/api/v1/tasks/{task['id']}/transfer", "bob", json={"to": "dave"}).status_code == 200
    [task] = api.tasks("bob", instance_id=signed)
    resp = api.post(f"/api/v1/tasks/{task['id']}/add-signer", "bob", json={"user": "erin", "position": "after"})
    assert resp.status_code == 200, resp.get_json()
    _decide(api, "bob", signed, True)

    for instance_id in (transferred, signed):
        assert api.get(f"/api/v1/process-instances/{instance_id}", "bob").status_code == 200
        assert api.get(f"/api/v1/process-instances/{instance_id}", "frank").status_code == 404
    web.login("bob")
    assert set(_outcomes(web.get("/approvals?tab=done").get_data(as_text=True))) == {transferred, signed}
    for instance_id in (transferred, signed):
        assert web.get(f"/instances/{instance_id}").status_code == 200
    web.logout()
    web.login("frank")
    assert web.get(f"/instances/{transferred}").status_code == 404
    assert set(_outcomes(web.get("/approvals?tab=done").get_data(as_text=True))) == set()
