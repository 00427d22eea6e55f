"""The people an attendance report counts, read as plain rows (issue #19): a month report covers up to every
active person (~1,000 at full size), and building that many ORM objects cost more than counting their month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from oa.models import User


@dataclass(frozen=True, slots=True)
class Member:
    """What the month counts read of a person (the same attribute names as oa.models.User)."""

    username: str
    display_name: str | None
    department_id: int | None
    start_date: date | None
    active: bool
    roles: tuple[str, ...]

    def has_role(self, *roles: str) -> bool:
        """True if the person holds any of `roles`."""
        for role in roles:  # (a loop: called twice a person per report, any() with a generator costs more)
            if role in self.roles:
                return True
        return False


Someone = User | Member  # either form of a person the counts accept

FEW = 64  # up to this many people a statement names them; past it, their departments


def among(users: list[Someone]) -> list[str] | Select:
    """What a statement's `user IN (...)` should test for `users`: their names while they are few, else the
    people of their departments - a superset the database joins by index instead of binding ~1,000 names (which
    cost SQLAlchemy more than the query: issue #19). A caller given the superset ignores rows of anyone else."""
    if len(users) <= FEW:
        return [u.username for u in users]
    departments = {u.department_id for u in users}
    known = [d for d in departments if d is not None]
    conds = [User.department_id.in_(known)] if known else []
    if None in departments:
        conds.append(User.department_id.is_(None))
    return select(User.username).where(or_(*conds))


def members(session: Session, *where: Any) -> list[Member]:
    """Active people matching `where` (conditions on oa.models.User), ordered by username."""
    rows = session.execute(
        select(User.username, User.display_name, User.department_id, User.start_date, User.roles)
        .where(User.active.is_(True), *where).order_by(User.username))
    return [Member(name, display, dept, start, True, tuple(roles or ()))
            for name, display, dept, start, roles in rows]
