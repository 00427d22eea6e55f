"""Opportunities through the pipeline stages, won (with a contract) or lost, with a reason."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from crm import audit
from crm.access import Viewer, get_customer, get_opportunity, opportunity_visible_clause
from crm.common import iso, money, num
from crm.models import Contract, Customer, Opportunity
from store.base import utcnow
from store.clock import company_date
from store.errors import Conflict, InvalidData
from store.messages import Message

# stage -> default probability (%)
STAGES: dict[str, int] = {"lead": 10, "qualified": 25, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0}
OPEN_STAGES = ("lead", "qualified", "proposal", "negotiation")
FIELDS = ("name", "stage", "amount", "probability", "expected_close_date", "source")


def opportunity_dict(o: Opportunity) -> dict[str, Any]:
    """The JSON shape of an opportunity (DESIGN.md, plus close details)."""
    return {"id": o.id, "customer_id": o.customer_id, "name": o.name, "stage": o.stage, "amount": num(o.amount),
            "probability": o.probability, "expected_close_date": iso(o.expected_close_date), "source": o.source,
            "owner": o.owner, "status": o.status, "close_reason": o.close_reason, "closed_at": iso(o.closed_at),
            "created_at": iso(o.created_at)}


def _check_stage(data: dict[str, Any]) -> None:
    if "stage" in data and data["stage"] not in OPEN_STAGES:
        raise InvalidData("stage must be an open stage; use /win or /lose to close",
                          errors=[{"field": "stage", "message": f"must be one of {', '.join(OPEN_STAGES)}"}])


def create_opportunity(session: Session, viewer: Viewer, data: dict[str, Any]) -> Opportunity:
    """Create an open opportunity for a customer the viewer may edit; probability defaults from the stage."""
    customer = get_customer(session, viewer, data["customer_id"], edit=True, field="customer_id")
    stage = data.get("stage") or "lead"
    _check_stage({"stage": stage})
    now = utcnow()
    opp = Opportunity(customer_id=customer.id, name=data["name"].strip(), stage=stage,
                      amount=money(data.get("amount", 0)),
                      probability=data["probability"] if data.get("probability") is not None else STAGES[stage],
                      expected_close_date=data.get("expected_close_date"), source=data.get("source"),
                      owner=viewer.username, status="open",
                      created_at=now, updated_at=now)
    session.add(opp)
    session.flush()
    audit.record(session, "opportunity", opp.id, viewer.username, "create",
                 {"name": (None, opp.name), "stage": (None, stage), "amount": (None, opp.amount)})
    return opp


def update_opportunity(session: Session, viewer: Viewer, opp_id: int, data: dict[str, Any]) -> Opportunity:
    """Move an open opportunity along the pipeline or change its figures (audited)."""
    opp = get_opportunity(session, viewer, opp_id, edit=True)
    if opp.status != "open":
        raise Conflict(Message("opportunity {id} is already {status}", id=opp_id, status=opp.status))
    data = {k: v for k, v in data.items() if k in FIELDS}
    _check_stage(data)
    if "amount" in data:
        data["amount"] = money(data["amount"])
    if "stage" in data and data["stage"] != opp.stage and data.get("probability") is None:
        data["probability"] = STAGES[data["stage"]]
    if data.get("probability", 0) is None:
        data.pop("probability")
    changes = audit.apply_changes(opp, data)
    if changes:
        audit.record(session, "opportunity", opp.id, viewer.username, "update", changes)
    session.flush()
    return opp


def mark_won(session: Session, opp: Opportunity, user: str | None, reason: str | None = None,
             contract_title: str | None = None, amount: Any = None, now: datetime | None = None) -> Contract:
    """Mark an opportunity won and create (or activate) its contract; repeating it returns the same contract."""
    if opp.status == "lost":
        raise Conflict(Message("opportunity {id} is lost", id=opp.id))
    now = now or utcnow()
    if opp.status != "won":
        closing: dict[str, Any] = {"status": "won", "stage": "won", "probability": 100, "close_reason": reason,
                                   "closed_at": now}
        if opp.owner is None:  # a deal in the public pool: whoever wins it owns it and its contract from now on
            if not user:
                raise Conflict(f"opportunity {opp.id} is in the public pool; claim its customer first")
            closing["owner"] = user
        changes = audit.apply_changes(opp, closing)
        if amount is not None:
            changes |= audit.apply_changes(opp, {"amount": money(amount)})
        audit.record(session, "opportunity", opp.id, user, "won", changes)
    contract = session.scalars(select(Contract).where(Contract.opportunity_id == opp.id)
                               .order_by(Contract.id)).first()
    value = money(amount) if amount is not None else Decimal(str(opp.amount))
    if contract is None:
        customer = session.get(Customer, opp.customer_id)
        contract = Contract(customer_id=opp.customer_id, opportunity_id=opp.id,
                            title=(contract_title or f"Contract for {opp.name}")[:200], amount=value,
                            paid_amount=Decimal("0"), status="active", owner=opp.owner or (customer and customer.owner),
                            signed_date=company_date(now), created_at=now)
        session.add(contract)
        session.flush()
        audit.record(session, "contract", contract.id, user, "create",
                     {"title": (None, contract.title), "amount": (None, value), "status": (None, "active")})
    elif contract.status == "draft":
        changes = audit.apply_changes(contract, {"status": "active", "signed_date": company_date(now)})
        audit.record(session, "contract", contract.id, user, "activate", changes)
    session.flush()
    return contract


def win_opportunity(session: Session, viewer: Viewer, opp_id: int, reason: str | None,
                    contract_title: str | None = None, amount: Any = None) -> tuple[Opportunity, Contract]:
    """The viewer marks an open opportunity won (409 if already closed)."""
    opp = get_opportunity(session, viewer, opp_id, edit=True)
    if opp.status != "open":
        raise Conflict(Message("opportunity {id} is already {status}", id=opp_id, status=opp.status))
    return opp, mark_won(session, opp, viewer.username, reason, contract_title, amount)


def lose_opportunity(session: Session, viewer: Viewer, opp_id: int, reason: str) -> Opportunity:
    """The viewer marks an open opportunity lost, with a reason (a pooled one becomes the viewer's: closed deals
    always have an owner)."""
    opp = get_opportunity(session, viewer, opp_id, edit=True)
    if opp.status != "open":
        raise Conflict(Message("opportunity {id} is already {status}", id=opp_id, status=opp.status))
    closing: dict[str, Any] = {"status": "lost", "stage": "lost", "probability": 0, "close_reason": reason,
                               "closed_at": utcnow()}
    if opp.owner is None:  # a deal in the public pool: whoever closes it answers for it in the sales history
        closing["owner"] = viewer.username
    changes = audit.apply_changes(opp, closing)
    audit.record(session, "opportunity", opp.id, viewer.username, "lost", changes)
    session.flush()
    return opp


def list_query(viewer: Viewer, filters: dict[str, Any]) -> Select:
    """Opportunities the viewer sees, filtered by customer, stage, status, owner, close dates."""
    query = select(Opportunity).where(opportunity_visible_clause(viewer))
    for name in ("customer_id", "stage", "status", "owner"):
        if filters.get(name) is not None:
            query = query.where(getattr(Opportunity, name) == filters[name])
    if filters.get("close_from"):
        query = query.where(Opportunity.expected_close_date >= filters["close_from"])
    if filters.get("close_to"):
        query = query.where(Opportunity.expected_close_date <= filters["close_to"])
    return query.order_by(Opportunity.id)


def default_close(day: date | None) -> date | None:
    """Helper for callers: the expected close date as given."""
    return day
