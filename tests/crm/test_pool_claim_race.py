"""The claim cap holds under concurrent claims: one rep claiming many pool customers at once gets exactly
`claim_cap` of them (on PostgreSQL and SQLite)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select, update

from api.extensions import db
from crm.models import Customer
from tests.conftest import run_in_threads
from tests.crm.conftest import C

CAP, CLAIMS = 3, 8


def test_concurrent_claims_by_one_rep_stop_at_the_cap(api, app, crm) -> None:  # noqa: ANN001
    assert crm.put("/api/v1/crm/settings", "admin", {"claim_cap": CAP}).status_code == 200
    ids = [crm.customer("admin")["id"] for _ in range(CLAIMS)]
    with app.app_context():
        db.session.execute(update(Customer).where(Customer.id.in_(ids)).values(owner=None))
        db.session.commit()
    token = api.token("frank")
    barrier = threading.Barrier(CLAIMS)
    statuses: list[int] = []

    def claim(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(f"{C}/{ids[i]}/claim", headers={"Authorization": f"Bearer {token}"})
        statuses.append(resp.status_code)

    run_in_threads(CLAIMS, claim)
    assert sorted(statuses) == [200] * CAP + [409] * (CLAIMS - CAP), statuses
    with app.app_context():
        owned = db.session.scalar(select(func.count()).select_from(Customer).where(Customer.owner == "frank"))
    assert owned == CAP
