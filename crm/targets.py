"""Sales targets per period (YYYY-MM or YYYY-Qn) for the company, each team (a manager and everyone below)
and each rep. A split downwards must add up: the team targets of a period may not exceed the company target,
and the rep targets of a team may not exceed the team target (422 naming the period and owner)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm import audit
from crm.access import Viewer
from crm.common import money, num, parse_period
from crm.models import SalesTarget
from oa.models import User
from oa.org import OrgDirectory
from store.errors import Forbidden, InvalidData

SCOPES = ("company", "team", "rep")
COMPANY = "*"


def target_dict(t: SalesTarget) -> dict[str, Any]:
    """JSON shape of a target."""
    return {"id": t.id, "period": t.period, "scope": t.scope, "owner": None if t.owner == COMPANY else t.owner,
            "amount": num(t.amount)}


def _get(session: Session, period: str, scope: str, owner: str) -> SalesTarget | None:
    return session.scalar(select(SalesTarget).where(SalesTarget.period == period, SalesTarget.scope == scope,
                                                    SalesTarget.owner == owner))


def _parent(session: Session, period: str, scope: str, owner: str) -> SalesTarget | None:
    """The target this one is split from: a rep's nearest manager with a team target, else the company."""
    if scope == "company":
        return None
    if scope == "rep":
        org = OrgDirectory(session)
        manager = org.manager_of(owner)
        seen = set()
        while manager and manager not in seen:
            seen.add(manager)
            team = _get(session, period, "team", manager)
            if team is not None:
                return team
            manager = org.manager_of(manager)
    return _get(session, period, "company", COMPANY)


def _children_sum(session: Session, parent: SalesTarget, exclude_id: int | None = None) -> Decimal:
    """Sum of the targets split from `parent`."""
    if parent.scope == "company":
        rows = session.scalars(select(SalesTarget).where(SalesTarget.period == parent.period,
                                                         SalesTarget.scope == "team"))
        children = [t for t in rows if _parent(session, t.period, t.scope, t.owner) is parent]
        # reps whose chain has no team target hang off the company directly
        reps = session.scalars(select(SalesTarget).where(SalesTarget.period == parent.period,
                                                         SalesTarget.scope == "rep"))
        children += [t for t in reps if _parent(session, t.period, t.scope, t.owner) is parent]
    else:
        rows = session.scalars(select(SalesTarget).where(SalesTarget.period == parent.period,
                                                         SalesTarget.scope == "rep"))
        children = [t for t in rows if _parent(session, t.period, t.scope, t.owner) is parent]
    return sum((Decimal(str(t.amount)) for t in children if t.id != exclude_id), Decimal("0"))


def set_target(session: Session, viewer: Viewer, period: str, scope: str, owner: str | None,
               amount: Any) -> SalesTarget:
    """Create or change a target. Admins set any; a manager sets the targets of the people
    (and teams) below them."""
    parse_period(period)
    value = money(amount)
    if scope == "company":
        owner = COMPANY
        if not viewer.is_admin:
            raise Forbidden("only an administrator sets the company target")
    else:
        if not owner or session.scalar(select(User.id).where(User.username == owner)) is None:
            raise InvalidData("unknown owner", errors=[{"field": "owner", "message": "unknown user"}])
        if not (viewer.is_admin or owner in viewer.team):
            raise Forbidden(f"you may not set targets for {owner}")
        if scope == "team" and not OrgDirectory(session).reports_of(owner):
            raise InvalidData(f"{owner} has no team", errors=[{"field": "owner", "message": "has nobody reporting"}])
    target = _get(session, period, scope, owner)
    old = target.amount if target else None
    if target is None:
        target = SalesTarget(period=period, scope=scope, owner=owner, amount=value, created_by=viewer.username)
        session.add(target)
    target.amount = value
    session.flush()
    who = "the company" if owner == COMPANY else owner
    parent = _parent(session, period, scope, owner)
    if parent is not None:
        total = _children_sum(session, parent)
        if total > Decimal(str(parent.amount)):
            raise InvalidData(f"targets split from {parent.scope} target {parent.period} "
                              f"({'company' if parent.owner == COMPANY else parent.owner}) add up to {num(total)},"
                              f" more than its {num(parent.amount)}",
                              errors=[{"field": "amount", "period": period, "owner": who,
                                       "message": f"children of {period} exceed the parent target"}])
    if scope != "rep":
        total = _children_sum(session, target)
        if total > value:
            raise InvalidData(f"the targets split from {period} ({who}) already add up to {num(total)}",
                              errors=[{"field": "amount", "period": period, "owner": who,
                                       "message": f"below the {num(total)} already split downwards"}])
    audit.record(session, "target", target.id, viewer.username, "set", {"amount": (old, value)})
    return target


def list_query(viewer: Viewer, filters: dict[str, Any]) -> Select:
    """Targets the viewer sees: admins all; others the company's, their own and their team's."""
    query = select(SalesTarget)
    if not viewer.is_admin:
        query = query.where(SalesTarget.owner.in_(sorted(viewer.owners | {COMPANY})))
    for name in ("period", "scope"):
        if filters.get(name):
            query = query.where(getattr(SalesTarget, name) == filters[name])
    if filters.get("owner"):
        query = query.where(SalesTarget.owner == filters["owner"])
    return query.order_by(SalesTarget.period, SalesTarget.scope, SalesTarget.owner)


def rep_target(session: Session, period: str, username: str) -> Decimal | None:
    """The rep's target for a period, if set."""
    t = _get(session, period, "rep", username)
    return Decimal(str(t.amount)) if t else None


def count(session: Session) -> int:
    """How many targets exist."""
    return session.scalar(select(func.count()).select_from(SalesTarget)) or 0
