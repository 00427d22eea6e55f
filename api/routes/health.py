"""GET /healthz: database reachability and migration state, for load balancers and operators."""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import text

from api.extensions import db
from api.migrations_state import migration_state

URL_PREFIX = ""
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict, int]:
    """200 when the database answers and is migrated to head, else 503 with what is wrong."""
    body: dict = {"status": "ok", "database": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
        state = migration_state(db.engine, current_app.config["OAFLOW_MIGRATIONS_DIR"])
    except Exception as err:  # any failure to reach the database is what this endpoint reports
        db.session.rollback()
        return {"status": "unavailable", "database": f"unreachable: {type(err).__name__}"}, 503
    finally:
        db.session.rollback()
    body["migrations"] = state
    if not state["up_to_date"]:
        body["status"] = "unavailable"
        return body, 503
    return body, 200
