"""The org chart as the engine's assignment resolver sees it: managers, department heads, groups."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, aliased

from oa.models import Department, Group, User, user_group
from store.readcache import ReadCache


def department_chain(user: User) -> set[int]:
    """Ids of the user's department and every department above it."""
    found: set[int] = set()
    dept = user.department
    while dept is not None and dept.id not in found:
        found.add(dept.id)
        dept = dept.parent
    return found


class Person(NamedTuple):
    """What the org chart needs of a user, read in one lean statement (no ORM object)."""

    id: int
    username: str
    active: bool
    department_id: int | None
    manager: str | None  # the manager's username
    roles: tuple[str, ...] = ()


# Roles of service accounts (API integrations): they cannot log in and never work, receive or own anyone's work.
SERVICE_ROLES = frozenset({"integrator"})


def is_service_account(roles: object) -> bool:
    """True if these roles mark a service account (an integration such as `erp`), not an employee."""
    return isinstance(roles, list | tuple | set | frozenset) and bool(SERVICE_ROLES.intersection(roles)) \
        and "employee" not in roles and "admin" not in roles


_users, _managers = User.__table__, aliased(User.__table__)
_PERSON_BY_NAME = (
    select(_users.c.id, _users.c.username, _users.c.active, _users.c.department_id,
           _managers.c.username.label("manager"), _users.c.roles)
    .select_from(_users.outerjoin(_managers, _managers.c.id == _users.c.manager_id))
    .where(_users.c.username == bindparam("username")))


# The org chart as each worker last read it (see store.readcache): a change made through this worker
# applies at once, one made elsewhere within 2 s. Every step asks it (assignment, operations, CC).
PEOPLE: ReadCache[Person | None] = ReadCache("org chart: people", 2.0, (User,))
MEMBERS: ReadCache[frozenset[str]] = ReadCache("org chart: group members", 2.0, (User, Group))
GROUP_NAMES: ReadCache[tuple[str, ...]] = ReadCache("org chart: group names", 2.0, (Group,))


class OrgDirectory:
    """Answers org-chart questions from the database; plugged into the engine by the app factory.

    People, group members and group names come through the per-process caches above.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def person(self, username: str | None) -> Person | None:
        """The user of that name (active or not) as the org chart sees them, or None."""
        if not username or not isinstance(username, str):
            return None

        def read() -> Person | None:
            row = self.session.execute(_PERSON_BY_NAME, {"username": username}).first()
            return Person(*row[:5], tuple(row[5] or ())) if row is not None else None
        return PEOPLE.get(self.session, username, read)

    def user(self, username: str | None) -> User | None:
        """The user of that name (active or not) as a database object, or None."""
        person = self.person(username)
        return self.session.get(User, person.id) if person is not None else None

    def user_exists(self, username: str) -> bool:
        """True if an active user of that name exists."""
        person = self.person(username)
        return person is not None and person.active

    def is_employee(self, username: str) -> bool:
        """True if an active person (not a service account such as an integration) of that name exists:
        someone who can be handed work, CC'd or named as a signer or owner."""
        person = self.person(username)
        return person is not None and person.active and not is_service_account(person.roles)

    def manager_of(self, username: str | None) -> str | None:
        """The user's direct manager, or None."""
        person = self.person(username)
        return person.manager if person else None

    def nth_manager_of(self, username: str | None, n: int = 1) -> str | None:
        """The manager `n` levels up (1 = direct manager); None past the top of the chart."""
        current = username
        for _ in range(max(int(n), 1)):
            current = self.manager_of(current)
            if current is None:
                return None
        return current

    def dept_head_of(self, username: str | None) -> str | None:
        """Head of the user's department; if the user heads it, the head of the parent department."""
        person = self.person(username)
        dept = self.session.get(Department, person.department_id) if person and person.department_id else None
        while dept is not None:
            if dept.head is not None and dept.head.username != username:
                return dept.head.username
            dept = dept.parent
        return None

    def reports_of(self, username: str | None, recursive: bool = True) -> set[str]:
        """Usernames of the people who report to `username` (directly, or anywhere below if recursive)."""
        person = self.person(username)
        if person is None:
            return set()
        found: set[str] = set()
        frontier = [person.id]
        while frontier:
            rows = self.session.execute(select(User.id, User.username).where(User.manager_id.in_(frontier))).all()
            frontier = [r.id for r in rows if r.username not in found]
            found.update(r.username for r in rows)
            if not recursive:
                break
        found.discard(person.username)
        return found

    def groups_of(self, username: str | None) -> set[str]:
        """Names of the groups the user belongs to."""
        person = self.person(username)
        if person is None:
            return set()
        return set(self.session.scalars(select(Group.name).join(user_group, user_group.c.group_id == Group.id)
                                        .where(user_group.c.user_id == person.id)))

    def members_of(self, group: str) -> set[str]:
        """Usernames of the active members of a group."""
        return set(MEMBERS.get(self.session, group, lambda: frozenset(self.session.scalars(
            select(User.username).join(User.groups).where(Group.name == group, User.active.is_(True))))))

    def group_name(self, label: str) -> str | None:
        """The group a lane label names (case-insensitive), or None."""
        names = GROUP_NAMES.get(self.session, "all", lambda: tuple(self.session.scalars(select(Group.name))))
        for name in names:
            if name.lower() == label.strip().lower():
                return name
        return None
