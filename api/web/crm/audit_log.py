"""The operation-log tab of a customer, an opportunity and a contract: who did what when, and which fields
changed from what to what (crm.trail, which answers 404 to anyone who may not read the record)."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from flask import render_template

from api.extensions import db
from api.web.blueprint import bp
from api.web.crm.pages import crm_viewer
from api.web.labels import process_name
from crm.access import get_customer, get_opportunity
from crm.contracts import get_contract
from crm.models import Customer
from crm.trail import audit_trail
from engine.models import Task

MAX_ENTRIES = 500  # newest changes shown; the API's /audit gives the whole trail


def grouped(entity: str, entity_id: int) -> list[dict]:
    """The record's trail, newest first, one item per action (same user, action and moment) with its fields."""
    rows = audit_trail(db.session, crm_viewer(), entity, entity_id)[-MAX_ENTRIES:]
    items = []
    for (user, action, at), group in groupby(reversed(rows), key=lambda r: (r["user"], r["action"], r["at"])):
        changes = [readable_change(r) for r in group if r["field"]]
        items.append({"user": user, "action": action, "at": datetime.fromisoformat(at), "changes": changes})
    return items


def readable_change(change: dict) -> dict:
    """A change as people read it: a read through a task names the request (process and number), not the
    task's internal id."""
    if change["field"] != "task" or not change.get("new"):
        return change
    task = db.session.get(Task, str(change["new"])[:36])
    shown = f"{process_name(task.process_key)} #{task.instance_id}" if task is not None else "—"
    return {**change, "new": shown}


@bp.get("/customers/<int:customer_id>/log")
def customer_log(customer_id: int) -> str:
    """A customer's operation log."""
    c = get_customer(db.session, crm_viewer(), customer_id)
    return render_template("crm/audit_log.html", kind="customer", record=c, title=c.name,
                           entries=grouped("customer", c.id))


@bp.get("/opportunities/<int:opp_id>/log")
def opportunity_log(opp_id: int) -> str:
    """An opportunity's operation log."""
    o = get_opportunity(db.session, crm_viewer(), opp_id)
    return render_template("crm/audit_log.html", kind="opportunity", record=o, title=o.name,
                           entries=grouped("opportunity", o.id))


@bp.get("/contracts/<int:contract_id>/log")
def contract_log(contract_id: int) -> str:
    """A contract's operation log."""
    k = get_contract(db.session, crm_viewer(), contract_id)
    return render_template("crm/audit_log.html", kind="contract", record=k, title=k.title,
                           entries=grouped("contract", k.id), customer=db.session.get(Customer, k.customer_id))
