"""Administering the organisation: departments (a tree with heads), users, groups and roles.

Everything here refuses cycles (a department under itself, a user managing themselves through a chain) with
InvalidData naming the field. Passwords are hashed with werkzeug (salted scrypt), as the login code expects.
Every change writes its administration audit row (oa.admin_audit) naming `actor`, in the same transaction;
a refused change writes none.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from oa import admin_audit
from oa.models import ROLES, Department, Group, User
from store.errors import Conflict, InvalidData, NotFound

MIN_PASSWORD = 8
# hook(session, username, actor) after a user is deactivated, in the same transaction (the app factory plugs the
# hand-over of their open tasks in; oa knows no engine)
ON_USER_DEACTIVATED: list[Callable[[Session, str, str], None]] = []
HIRE_DATES = (date(1900, 1, 1), date(2999, 12, 31))  # a hire date users may have (date arithmetic stays in range)


def _invalid(field_name: str, message: str) -> InvalidData:
    return InvalidData(message, errors=[{"field": field_name, "message": message}])


# --------------------------------------------------------------------------- departments
def get_department(session: Session, dept_id: int) -> Department:
    """A department by id (404 if unknown)."""
    dept = session.get(Department, dept_id)
    if dept is None:
        raise NotFound(f"no department {dept_id}")
    return dept


def departments_query(include_inactive: bool = False) -> Select:
    """All departments by name (active only unless asked)."""
    query = select(Department).order_by(Department.name)
    return query if include_inactive else query.where(Department.active.is_(True))


def _department_ref(session: Session, dept_id: int | None, field_name: str) -> Department | None:
    if dept_id is None:
        return None
    dept = session.get(Department, dept_id)
    if dept is None or not dept.active:
        raise _invalid(field_name, f"no active department {dept_id}")
    return dept


def _user_ref(session: Session, username: str | None, field_name: str) -> User | None:
    if username is None:
        return None
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise _invalid(field_name, f"no active user {username}")
    return user


def _check_parent(dept: Department, parent: Department | None) -> None:
    seen: set[int] = set()
    node = parent
    while node is not None and node.id not in seen:
        if node.id == dept.id:
            raise _invalid("parent_id", "a department cannot be placed under itself or one of its sub-departments")
        seen.add(node.id)
        node = node.parent


def _name_free(session: Session, name: str, dept_id: int | None = None) -> None:
    clash = session.scalar(select(Department.id).where(func.lower(Department.name) == name.lower()))
    if clash is not None and clash != dept_id:
        raise Conflict(f"a department named {name!r} exists")


def create_department(session: Session, name: str, parent_id: int | None = None,
                      head: str | None = None, *, actor: str) -> Department:
    """Create a department under `parent_id`, optionally with a head (a username)."""
    name = name.strip()
    if not name:
        raise _invalid("name", "a name is required")
    _name_free(session, name)
    dept = Department(name=name, parent=_department_ref(session, parent_id, "parent_id"),
                      head=_user_ref(session, head, "head"), active=True)
    session.add(dept)
    session.flush()
    admin_audit.record(session, actor, "department", dept.id, dept.name, "created",
                       admin_audit.diff({}, admin_audit.department_fields(dept)))
    return dept


def update_department(session: Session, dept_id: int, changes: dict[str, Any], *, actor: str) -> Department:
    """Change name, parent_id, head or active; moving a department under its own subtree is refused."""
    dept = get_department(session, dept_id)
    before = admin_audit.department_fields(dept)
    if "name" in changes:
        name = changes["name"].strip()
        if not name:
            raise _invalid("name", "a name is required")
        _name_free(session, name, dept.id)
        dept.name = name
    if "parent_id" in changes:
        parent = _department_ref(session, changes["parent_id"], "parent_id")
        _check_parent(dept, parent)
        dept.parent = parent
    if "head" in changes:
        dept.head = _user_ref(session, changes["head"], "head")
    if "active" in changes:
        if changes["active"]:
            dept.active = True
        else:
            _deactivate_department(session, dept)
    session.flush()
    _record_changes(session, actor, "department", dept.id, dept.name, before, admin_audit.department_fields(dept))
    return dept


def _record_changes(session: Session, actor: str, object_type: str, object_id: int, name: str,
                    before: dict[str, Any], after: dict[str, Any]) -> None:
    """Record what changed between two snapshots (nothing if nothing did): deactivated or reactivated when
    `active` flipped, updated otherwise."""
    changed = admin_audit.diff(before, after)
    if not changed:
        return
    action = "updated"
    if "active" in changed:
        action = "reactivated" if after["active"] else "deactivated"
    admin_audit.record(session, actor, object_type, object_id, name, action, changed)


def deactivate_department(session: Session, dept_id: int, *, actor: str) -> Department:
    """Deactivate a department; refused (409) while active users or active sub-departments remain in it."""
    dept = get_department(session, dept_id)
    before = admin_audit.department_fields(dept)
    _deactivate_department(session, dept)
    _record_changes(session, actor, "department", dept.id, dept.name, before, admin_audit.department_fields(dept))
    return dept


def _deactivate_department(session: Session, dept: Department) -> None:
    members = session.scalar(select(func.count()).select_from(User).where(User.department_id == dept.id,
                                                                         User.active.is_(True)))
    children = session.scalar(select(func.count()).select_from(Department).where(
        Department.parent_id == dept.id, Department.active.is_(True)))
    if members or children:
        raise Conflict(f"the department still has {members} active user(s) and {children} active "
                       "sub-department(s); move them first")
    dept.active = False
    session.flush()


# --------------------------------------------------------------------------- groups
def groups_query() -> Select:
    """Every group by name."""
    return select(Group).order_by(Group.name)


def create_group(session: Session, name: str, *, actor: str) -> Group:
    """Create a group (409 if the name is taken)."""
    name = name.strip()
    if not name:
        raise _invalid("name", "a name is required")
    if session.scalar(select(Group.id).where(func.lower(Group.name) == name.lower())) is not None:
        raise Conflict(f"a group named {name!r} exists")
    group = Group(name=name)
    session.add(group)
    session.flush()
    admin_audit.record(session, actor, "group", group.id, group.name, "created", {"name": (None, group.name)})
    return group


def _groups(session: Session, names: list[str]) -> list[Group]:
    found = {g.name: g for g in session.scalars(select(Group).where(Group.name.in_(names)))}
    missing = [n for n in names if n not in found]
    if missing:
        raise InvalidData("unknown groups", errors=[{"field": "groups", "message": f"unknown group {n}"}
                                                    for n in missing])
    return [found[n] for n in dict.fromkeys(names)]


# --------------------------------------------------------------------------- users
def get_user(session: Session, user_id: int) -> User:
    """A user by id (404 if unknown)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def users_query(*, include_inactive: bool = False, q: str | None = None, department_id: int | None = None) -> Select:
    """Users by username, optionally searched by name and filtered by department."""
    query = select(User).order_by(User.username)
    if not include_inactive:
        query = query.where(User.active.is_(True))
    if q:
        needle = q.lower()
        query = query.where(or_(func.lower(User.username).contains(needle, autoescape=True),
                                func.lower(User.display_name).contains(needle, autoescape=True)))
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    return query


def _check_roles(roles: list[str]) -> list[str]:
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise InvalidData("unknown roles", errors=[{"field": "roles", "message": f"unknown role {r}; one of "
                                                    f"{', '.join(ROLES)}"} for r in bad])
    return list(dict.fromkeys(roles))


def _check_manager(user: User, manager: User | None) -> None:
    seen: set[int] = set()
    node = manager
    while node is not None and node.id not in seen:
        if node.id == user.id:
            raise _invalid("manager", "a user cannot be their own manager, directly or through a chain")
        seen.add(node.id)
        node = node.manager


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise _invalid("password", f"at least {MIN_PASSWORD} characters")
    return generate_password_hash(password)


def _check_start_date(value: date | None) -> date | None:
    if value is not None and not HIRE_DATES[0] <= value <= HIRE_DATES[1]:
        raise _invalid("start_date", f"must be between {HIRE_DATES[0].isoformat()} and {HIRE_DATES[1].isoformat()}")
    return value


def create_user(session: Session, data: dict[str, Any], *, actor: str) -> User:
    """Create a user: username, password?, display_name?, email?, roles, department_id?, manager?, groups,
    start_date? (hire date, within HIRE_DATES)."""
    username = data["username"].strip()
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise Conflict(f"the username {username!r} is taken")
    user = User(username=username, display_name=data.get("display_name"), email=data.get("email"),
                roles=_check_roles(data.get("roles") or ["employee"]), active=True, token_version=1,
                start_date=_check_start_date(data.get("start_date")))
    if data.get("password"):
        user.password_hash = _check_password(data["password"])
    user.department = _department_ref(session, data.get("department_id"), "department_id")
    user.manager = _user_ref(session, data.get("manager"), "manager")
    user.groups = _groups(session, data.get("groups") or [])
    session.add(user)
    session.flush()
    fields = admin_audit.diff({}, {k: v for k, v in admin_audit.user_fields(user).items() if v not in (None, [])})
    if user.password_hash:
        fields["password"] = (None, admin_audit.SET)
    admin_audit.record(session, actor, "user", user.id, admin_audit.user_name(user), "created",
                       {"username": (None, user.username), **fields})
    return user


def update_user(session: Session, user_id: int, changes: dict[str, Any], *, actor: str,
                acting: User | None = None) -> User:
    """Change display_name, email, start_date, roles, department_id, manager, groups or active (cycles
    refused)."""
    user = get_user(session, user_id)
    before = admin_audit.user_fields(user)
    for key in ("display_name", "email"):
        if key in changes:
            setattr(user, key, changes[key])
    if "start_date" in changes:
        user.start_date = _check_start_date(changes["start_date"])
    if "roles" in changes:
        roles = _check_roles(changes["roles"])
        if acting is not None and acting.id == user.id and "admin" not in roles:
            raise _invalid("roles", "you cannot remove your own admin role")
        if set(roles) != set(user.roles or []):
            user.token_version += 1
        user.roles = roles
    if "department_id" in changes:
        user.department = _department_ref(session, changes["department_id"], "department_id")
    if "manager" in changes:
        manager = _user_ref(session, changes["manager"], "manager")
        _check_manager(user, manager)
        user.manager = manager
    if "groups" in changes:
        user.groups = _groups(session, changes["groups"])
    if "active" in changes:
        if changes["active"]:
            user.active = True
        else:
            _deactivate_user(session, user, acting, actor)
    session.flush()
    _record_changes(session, actor, "user", user.id, admin_audit.user_name(user), before,
                    admin_audit.user_fields(user))
    return user


def deactivate_user(session: Session, user_id: int, *, actor: str, acting: User | None = None) -> User:
    """Deactivate a user: they can no longer log in, their tokens stop working at once, and the work waiting on
    them moves on (ON_USER_DEACTIVATED: the app hands their open tasks over)."""
    user = get_user(session, user_id)
    before = admin_audit.user_fields(user)
    _deactivate_user(session, user, acting, actor)
    session.flush()
    _record_changes(session, actor, "user", user.id, admin_audit.user_name(user), before,
                    admin_audit.user_fields(user))
    return user


def _deactivate_user(session: Session, user: User, acting: User | None, actor: str) -> None:
    if acting is not None and acting.id == user.id:
        raise Conflict("you cannot deactivate yourself")
    if user.active:
        user.active = False
        user.token_version += 1
        session.flush()
        for hook in list(ON_USER_DEACTIVATED):
            hook(session, user.username, actor)


def reset_password(session: Session, user_id: int, password: str, *, actor: str) -> User:
    """Set a new password and invalidate the user's existing tokens."""
    user = get_user(session, user_id)
    user.password_hash = _check_password(password)
    user.token_version += 1
    session.flush()
    admin_audit.record(session, actor, "user", user.id, admin_audit.user_name(user), "password_reset",
                       {"password": (None, admin_audit.CHANGED)})
    return user
