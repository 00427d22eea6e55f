"""An integrator's API key with the act-as permission starts a flow on behalf of a named employee."""

from __future__ import annotations

from api.extensions import db
from oa.models import User

EXPENSE = {"items": [{"category": "travel", "amount": 120.5, "date": "2026-11-02", "description": "taxi"}]}


def _key(api, username: str, act_as: bool) -> str:  # noqa: ANN001
    from api.auth import create_api_key
    with api.app.app_context():
        account = db.session.query(User).filter_by(username=username).one()
        key = create_api_key(account, f"{username}-erp", act_as=act_as)
        db.session.commit()
    return key


def _start(api, key: str, body: dict):  # noqa: ANN001, ANN202
    return api.client.post("/api/v1/process-definitions/expense_claim/start", json=body,
                           headers={"Authorization": f"Bearer {key}"})


def test_an_erp_claim_is_routed_to_the_employee_s_manager(api) -> None:  # noqa: ANN001
    key = _key(api, "erp", act_as=True)
    resp = _start(api, key, {"started_by": "alice", "variables": EXPENSE})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()
    assert inst["started_by"] == "alice" and [t["assignee"] for t in inst["active_tasks"]] == ["bob"]
    history = api.get(f"/api/v1/process-instances/{inst['id']}/history", "alice").get_json()["items"]
    started = next(h for h in history if h["type"] == "started")
    assert started["user"] == "erp" and started["data"]["on_behalf_of"] == "alice"
    # the integrator may follow what it started; alice sees it as her own request
    read = api.client.get(f"/api/v1/process-instances/{inst['id']}", headers={"Authorization": f"Bearer {key}"})
    assert read.status_code == 200
    mine = api.get("/api/v1/process-instances", "alice", query_string={"started_by": "alice"}).get_json()
    assert [i["id"] for i in mine["items"]] == [inst["id"]]


def test_started_by_needs_the_permission_and_a_real_employee(api) -> None:  # noqa: ANN001
    plain = _key(api, "erp", act_as=False)
    denied = _start(api, plain, {"started_by": "alice", "variables": EXPENSE})
    assert denied.status_code == 403 and denied.headers["Content-Type"].startswith("application/problem+json")
    # a person's login token cannot act for someone else either
    assert api.post("/api/v1/process-definitions/expense_claim/start", "bob",
                    json={"started_by": "alice", "variables": EXPENSE}).status_code == 403
    # naming yourself is just a normal start
    assert api.post("/api/v1/process-definitions/expense_claim/start", "bob",
                    json={"started_by": "bob", "variables": EXPENSE}).status_code == 201
    key = _key(api, "erp", act_as=True)
    for who in ("nobody", "<script>alert(1)</script>", "x" * 101, ""):
        resp = _start(api, key, {"started_by": who, "variables": EXPENSE})
        assert resp.status_code == 422, (who, resp.get_json())
        assert resp.get_json()["errors"][0]["field"] == "started_by"
    with api.app.app_context():
        db.session.query(User).filter_by(username="frank").one().active = False
        db.session.commit()
    assert _start(api, key, {"started_by": "frank", "variables": EXPENSE}).status_code == 422


def test_the_erp_hears_expense_paid_for_the_claims_it_filed(api, app) -> None:  # noqa: ANN001
    from api.scheduler import deliver_webhooks_once
    from tests.webhook_receiver import receiver
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True
    key = _key(api, "erp", act_as=True)
    auth = {"Authorization": f"Bearer {key}"}
    with receiver() as (server, received):
        hook = api.client.post("/api/v1/webhooks", headers=auth, json={
            "url": f"http://127.0.0.1:{server.server_port}/paid", "events": ["expense.paid"]})
        assert hook.status_code == 201
        filed = _start(api, key, {"started_by": "alice", "variables": EXPENSE}).get_json()
        own = api.post("/api/v1/process-definitions/expense_claim/start", "alice", json={"variables": EXPENSE})
        for inst_id in (filed["id"], own.get_json()["id"]):
            manager = next(t for t in api.tasks("bob", assignee="me") if t["instance_id"] == inst_id)
            assert api.post(f"/api/v1/tasks/{manager['id']}/complete", "bob",
                            json={"variables": {"approved": True}}).status_code == 200
            pay = next(t for t in api.tasks("carol", candidate="me") if t["instance_id"] == inst_id)
            assert api.post(f"/api/v1/tasks/{pay['id']}/complete", "carol",
                            json={"variables": {"payment_reference": f"PAY-{inst_id}"}}).status_code == 200
        assert deliver_webhooks_once(app) == 1
        [(_path, body)] = received
        assert body["event"] == "expense.paid" and body["data"]["instance_id"] == filed["id"]
        assert body["data"]["payload"]["claimant"] == "alice"
