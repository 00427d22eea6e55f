"""Sales targets per period (YYYY, YYYY-MM or YYYY-Qn) for the company, each team (a manager and everyone
below) and each rep. A split downwards must add up: the team targets of a period may not exceed the company
target, and the rep targets of a team may not exceed the team target (422 naming the period and owner).

Attainment rolls up from the months: the target of a quarter is the sum of its monthly targets (the quarter's
own target only when none of its months has one), and the target of a year is the sum of its quarters so
computed (the year's own target only when no quarter has one). A manager sets targets for their team: the
people reporting to them (transitively) and everyone in the departments (and sub-departments) they head."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm import audit
from crm.access import Viewer
from crm.common import money, num, parse_period
from crm.models import SalesTarget
from oa.models import Department, User
from oa.org import OrgDirectory
from store.errors import Conflict, Forbidden, InvalidData

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
        if not (viewer.is_admin or owner in team_of(session, viewer)):
            raise Forbidden(f"you may not set targets for {owner}")
        if scope == "team" and not OrgDirectory(session).reports_of(owner):
            raise InvalidData(f"{owner} has no team", errors=[{"field": "owner", "message": "has nobody reporting"}])
    _refuse_shadowed(session, period, scope, owner)
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


def _refuse_shadowed(session: Session, period: str, scope: str, owner: str) -> None:
    """409 naming the period when a quarter's (or year's) own target would be ignored because its months (or
    quarters) have targets: the period's target is their sum (see the module docstring)."""
    parts = [p for p in _parts(period) if target_for(session, p, scope, owner) is not None]
    if parts:
        raise Conflict(f"the target of {period} is the sum of its targets for {', '.join(parts)}; change those "
                       "instead", errors=[{"field": "period", "period": period,
                                           "message": f"rolled up from {', '.join(parts)}"}])


def team_of(session: Session, viewer: Viewer) -> frozenset[str]:
    """Whose targets the viewer sets: everyone reporting to them (transitively) and everyone in the departments
    (and their sub-departments) they head; never themselves."""
    headed = set(session.scalars(select(Department.id).join(User, User.id == Department.head_id)
                                 .where(User.username == viewer.username)))
    found, frontier = set(headed), set(headed)
    while frontier:
        frontier = set(session.scalars(select(Department.id).where(Department.parent_id.in_(frontier)))) - found
        found |= frontier
    members = set(session.scalars(select(User.username).where(User.department_id.in_(found)))) if found else set()
    return frozenset((set(viewer.team) | members) - {viewer.username})


def list_query(viewer: Viewer, filters: dict[str, Any], team: frozenset[str] = frozenset()) -> Select:
    """Targets the viewer sees: admins all; others the company's, their own and their team's (`team_of`)."""
    query = select(SalesTarget)
    if not viewer.is_admin:
        query = query.where(SalesTarget.owner.in_(sorted(viewer.owners | team | {COMPANY})))
    for name in ("period", "scope"):
        if filters.get(name):
            query = query.where(getattr(SalesTarget, name) == filters[name])
    if filters.get("owner"):
        query = query.where(SalesTarget.owner == filters["owner"])
    return query.order_by(SalesTarget.period, SalesTarget.scope, SalesTarget.owner)


def _parts(period: str) -> list[str]:
    """The periods a period rolls up from: a year its quarters, a quarter its months, a month none."""
    start, _end = parse_period(period)
    if len(period) == 4:
        return [f"{start.year:04d}-Q{q}" for q in range(1, 5)]
    if "Q" in period:
        return [f"{start.year:04d}-{start.month + n:02d}" for n in range(3)]
    return []


def target_for(session: Session, period: str, scope: str, owner: str) -> Decimal | None:
    """The target of (period, scope, owner), rolled up from the months (see the module docstring)."""
    parts = [t for t in (target_for(session, p, scope, owner) for p in _parts(period)) if t is not None]
    if parts:
        return sum(parts, Decimal("0"))
    t = _get(session, period, scope, owner)
    return Decimal(str(t.amount)) if t else None


def rep_target(session: Session, period: str, username: str) -> Decimal | None:
    """The rep's target for a period (a month, or a quarter or year rolled up from the months), if any."""
    return target_for(session, period, "rep", username)


def count(session: Session) -> int:
    """How many targets exist."""
    return session.scalar(select(func.count()).select_from(SalesTarget)) or 0


def rep_targets(session: Session, period: str, reps: list[str]) -> dict[str, Decimal | None]:
    """`rep_target` of many reps at once: one query for every period the roll-up may read."""
    periods, frontier = {period}, [period]
    while frontier:
        frontier = [p for q in frontier for p in _parts(q)]
        periods.update(frontier)
    found = {(t.period, t.owner): Decimal(str(t.amount)) for t in session.scalars(
        select(SalesTarget).where(SalesTarget.scope == "rep", SalesTarget.period.in_(sorted(periods)),
                                  SalesTarget.owner.in_(reps)))} if reps else {}

    def target(p: str, rep: str) -> Decimal | None:
        parts = [t for t in (target(q, rep) for q in _parts(p)) if t is not None]
        return sum(parts, Decimal("0")) if parts else found.get((p, rep))

    return {rep: target(period, rep) for rep in reps}
