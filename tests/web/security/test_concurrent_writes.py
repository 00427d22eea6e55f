"""Two people saving at once on the default SQLite file database both succeed (no 503 "database is
locked"), and a request page read while others write always answers 200 (its CC mark-read included)."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from api.extensions import db
from crm.models import FollowUp
from tests.conftest import run_in_threads
from tests.crm.conftest import Crm
from tests.web.conftest import Web

SECONDS = 3.0


def _logged_in(app, user: str) -> Web:  # noqa: ANN001
    client = Web(app)
    assert client.login(user).status_code == 302
    return client


def test_two_reps_saving_follow_ups_at_once_never_get_503(app, api) -> None:  # noqa: ANN001
    crm = Crm(api)
    mine = {"alice": crm.customer("alice", name="甲客户")["id"], "bob": crm.customer("bob", name="乙客户")["id"]}
    clients = {user: _logged_in(app, user) for user in mine}
    tokens = {user: clients[user].csrf(f"/customers/{cid}") for user, cid in mine.items()}
    statuses: dict[str, list[int]] = {"alice": [], "bob": []}

    def work(i: int) -> None:
        user = ("alice", "bob")[i]
        end = time.monotonic() + SECONDS
        while time.monotonic() < end:
            resp = clients[user].client.post(f"/customers/{mine[user]}/follow-ups",
                                             data={"type": "call", "content": "回访", "csrf_token": tokens[user]})
            statuses[user].append(resp.status_code)

    run_in_threads(2, work)
    for user, got in statuses.items():
        assert got and set(got) == {302}, (user, sorted(set(got)))
    with app.app_context():
        saved = db.session.scalar(select(func.count()).select_from(FollowUp))
    assert saved == sum(len(got) for got in statuses.values())


def test_request_page_read_while_others_write_is_always_200(app, api) -> None:  # noqa: ANN001
    crm = Crm(api)
    resp = api.start_leave("alice", 2)
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()["id"]
    [task] = api.tasks("bob", instance_id=inst)
    assert api.post(f"/api/v1/tasks/{task['id']}/cc", "bob", json={"users": ["carol"]}).status_code == 200
    customer = crm.customer("alice", name="丙客户")["id"]
    writer, reader = _logged_in(app, "alice"), _logged_in(app, "carol")
    token = writer.csrf(f"/customers/{customer}")
    writes: list[int] = []
    reads: list[int] = []

    def work(i: int) -> None:
        end = time.monotonic() + SECONDS
        while time.monotonic() < end:
            if i == 0:
                form = {"type": "call", "content": "回访", "csrf_token": token}
                writes.append(writer.client.post(f"/customers/{customer}/follow-ups", data=form).status_code)
            else:
                reads.append(reader.get(f"/instances/{inst}").status_code)

    run_in_threads(2, work)
    assert writes and set(writes) == {302}, sorted(set(writes))
    assert reads and set(reads) == {200}, sorted(set(reads))
    unread = api.get("/api/v1/notifications", "carol", query_string={"unread": "true"}).get_json()["items"]
    assert not [n for n in unread if n["kind"] == "cc"]
