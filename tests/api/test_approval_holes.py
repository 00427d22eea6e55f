"""Attacker's probes on approver actions: work handed to a service account, a delegate keeping the task,
an admin urging someone else's request; and the admin's way to reassign a stranded task."""

from __future__ import annotations


def fields_of(resp) -> list[str]:  # noqa: ANN001
    """The field names a problem+json response complains about."""
    return [e.get("field") for e in resp.get_json().get("errors", [])]


def _leave_task(api, user: str = "alice") -> dict:  # noqa: ANN001
    inst = api.start_leave(user, days=1).get_json()
    return next(t for t in api.tasks("bob", assignee="me") if t["instance_id"] == inst["id"])


def test_service_account_is_never_handed_work(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    base = f"/api/v1/tasks/{task['id']}"
    for action, body, field in (("transfer", {"to": "erp"}, "to"), ("delegate", {"to": "erp"}, "to"),
                                ("add-signer", {"user": "erp", "position": "before"}, "user")):
        resp = api.post(f"{base}/{action}", "bob", json=body)
        assert resp.status_code == 422 and fields_of(resp) == [field], (action, resp.get_json())
    cc = api.post(f"/api/v1/process-instances/{task['instance_id']}/cc", "bob", json={"users": ["dave", "erp"]})
    assert cc.status_code == 422 and fields_of(cc) == ["users/1"]
    assert api.tasks("bob", assignee="me")[0]["id"] == task["id"]  # nothing moved


def test_service_account_is_no_signer_and_owns_no_customer(api) -> None:  # noqa: ANN001
    signoff = api.post("/api/v1/process-definitions/policy_signoff/start", "alice", json={"variables": {
        "title": "Travel policy", "signers": ["bob", "erp"], "mode": "all"}})
    assert signoff.status_code == 422 and "signers" in str(signoff.get_json())
    c = api.post("/api/v1/customers", "alice", json={"name": "Acme", "industry": "retail", "region": "north",
                                                     "level": "B", "source": "web"}).get_json()
    resp = api.post(f"/api/v1/customers/{c['id']}/transfer", "alice", json={"to": "erp"})
    assert resp.status_code == 422 and fields_of(resp) == ["to"]
    assert api.post(f"/api/v1/customers/{c['id']}/transfer", "admin", json={"to": "erp"}).status_code == 422


def test_admin_reassigns_a_stranded_task(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    url = f"/api/v1/tasks/{task['id']}/transfer"
    assert api.post(url, "carol", json={"to": "dave"}).status_code == 404  # not an admin: cannot even see it
    resp = api.post(url, "admin", json={"to": "dave", "comment": "bob left"})
    assert resp.status_code == 200 and resp.get_json()["assignee"] == "dave"
    assert api.post(url, "admin", json={"to": "alice"}).status_code == 422  # never to the applicant
    assert api.post(url, "admin", json={"to": "dave"}).status_code == 409  # already dave's


def test_delegate_may_only_resolve(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    base = f"/api/v1/tasks/{task['id']}"
    assert api.post(base + "/delegate", "bob", json={"to": "carol"}).status_code == 200
    assert api.post(base + "/transfer", "carol", json={"to": "dave"}).status_code == 409
    assert api.post(base + "/unclaim", "carol").status_code == 409
    assert api.post(base + "/add-signer", "carol", json={"user": "dave", "position": "before"}).status_code == 409
    row = api.get(base, "carol").get_json()
    assert row["assignee"] == "carol"
    resolved = api.post(base + "/complete", "carol", json={"variables": {"approved": True}})
    assert resolved.status_code == 200 and resolved.get_json()["assignee"] == "bob"  # back with the delegator


def test_signer_before_may_only_sign(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    base = f"/api/v1/tasks/{task['id']}"
    assert api.post(base + "/add-signer", "bob", json={"user": "dave", "position": "before"}).status_code == 200
    assert api.post(base + "/transfer", "dave", json={"to": "carol"}).status_code == 409
    assert api.post(base + "/unclaim", "dave").status_code == 409
    assert api.get(base, "dave").get_json()["assignee"] == "dave"


def test_only_the_applicant_urges(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    assert api.post(f"/api/v1/tasks/{task['id']}/urge", "admin").status_code == 403
    assert api.post(f"/api/v1/tasks/{task['id']}/urge", "alice").status_code == 200


def test_a_new_signer_can_be_urged_at_once(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    base = f"/api/v1/tasks/{task['id']}"
    assert api.post(base + "/urge", "alice").status_code == 200
    assert api.post(base + "/urge", "alice").status_code == 409  # bob was just reminded
    assert api.post(base + "/add-signer", "bob", json={"user": "dave", "position": "before"}).status_code == 200
    assert api.post(base + "/urge", "alice").status_code == 200  # dave never was
    notified = api.get("/api/v1/notifications", "dave").get_json()["items"]
    assert [n["kind"] for n in notified].count("urge") == 1
