"""Revision c1500000003 lets an opportunity have no owner (a deal in the public pool with its customer). On SQLite
it recreates crm_opportunity, which contracts, quotes and orders reference: upgrading and downgrading a database
with such rows, through the app's own engine (foreign keys enforced), keeps every row; downgrading gives a pooled
deal back an owner (its customer's, else the last one its operation log names)."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from api.extensions import db


def test_pool_owner_migration_keeps_referencing_rows(api, app) -> None:  # noqa: ANN001
    customer = api.post("/api/v1/customers", "alice", json={"name": "Acme"}).get_json()
    won = api.post("/api/v1/opportunities", "alice", json={"customer_id": customer["id"], "name": "Won"}).get_json()
    pooled = api.post("/api/v1/opportunities", "alice", json={"customer_id": customer["id"], "name": "Open"}).get_json()
    assert api.post(f"/api/v1/opportunities/{won['id']}/win", "alice", json={"reason": "signed"}).status_code == 200
    assert api.post(f"/api/v1/customers/{customer['id']}/release", "alice", json={}).status_code == 200
    directory = app.config["OAFLOW_MIGRATIONS_DIR"]
    with app.app_context():
        db.session.remove()
        downgrade(directory=directory, revision="i2000000002")
        rows = dict(db.session.execute(text("SELECT id, owner FROM crm_opportunity")).all())
        assert rows == {won["id"]: "alice", pooled["id"]: "alice"}  # the pooled deal got its last owner back
        contract = db.session.execute(text("SELECT opportunity_id FROM crm_contract")).scalar_one()
        assert contract == won["id"]
        db.session.remove()
        upgrade(directory=directory, revision="heads")
        db.session.execute(text("UPDATE crm_opportunity SET owner = NULL WHERE id = :id"), {"id": pooled["id"]})
        db.session.commit()
        assert db.session.execute(text("SELECT count(*) FROM crm_contract")).scalar_one() == 1
        fk_on = db.session.execute(text("PRAGMA foreign_keys")).scalar() if db.engine.dialect.name == "sqlite" else 1
        assert fk_on == 1  # enforced again after migrating
