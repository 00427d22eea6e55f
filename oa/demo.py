"""The demo organisation of DESIGN.md: departments, users (password `demo`), groups and managers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from oa.models import Department, Group, User

# username, display name, roles, manager, department, groups
DEMO_USERS = [
    ("admin", "Admin", ["admin"], None, None, []),
    ("dave", "Dave (General Manager)", ["employee"], None, "Management", ["management"]),
    ("bob", "Bob (Head of Sales)", ["employee"], "dave", "Sales", ["sales"]),
    ("alice", "Alice (Sales Rep)", ["employee"], "bob", "Sales", ["sales"]),
    ("carol", "Carol (Finance)", ["employee"], "dave", "Finance", ["finance"]),
    ("erin", "Erin (HR)", ["employee"], "dave", "HR", ["hr"]),
    ("frank", "Frank (Legal)", ["employee"], "dave", "Legal", ["legal"]),
    ("grace", "Grace (Process Designer)", ["designer", "employee"], "dave", "Management", []),
    ("erp", "ERP integration", ["integrator"], None, None, []),
]
# hire dates of the people with a shift (admin and erp are accounts, not staff): no absences before them
HIRE_DATES = {"dave": date(2018, 3, 1), "bob": date(2019, 9, 2), "alice": date(2022, 4, 18),
              "carol": date(2020, 1, 6), "erin": date(2021, 6, 1), "frank": date(2023, 2, 13),
              "grace": date(2024, 8, 5)}
# department, parent, head
DEMO_DEPARTMENTS = [
    ("Management", None, "dave"),
    ("Sales", "Management", "bob"),
    ("Finance", "Management", "carol"),
    ("HR", "Management", "erin"),
    ("Legal", "Management", "frank"),
]
DEMO_GROUPS = ["sales", "finance", "hr", "legal", "management"]


def seed_organisation(session: Session, password: str = "demo",
                      progress: Callable[[str], None] = lambda _m: None, hash_method: str | None = None) -> int:
    """Create (or complete) the demo organisation; returns how many users were created.

    `hash_method` overrides werkzeug's default (scrypt) — the test suite uses a cheaper one.
    """
    groups = {}
    for name in DEMO_GROUPS:
        groups[name] = session.scalar(select(Group).where(Group.name == name)) or Group(name=name)
        session.add(groups[name])
    departments = {}
    for name, parent, _head in DEMO_DEPARTMENTS:
        dept = session.scalar(select(Department).where(Department.name == name)) or Department(name=name)
        dept.parent = departments.get(parent) if parent else None
        departments[name] = dept
        session.add(dept)
    progress(f"{len(DEMO_GROUPS)} groups, {len(DEMO_DEPARTMENTS)} departments")
    users: dict[str, User] = {}
    created = 0
    pw_hash = generate_password_hash(password, **({"method": hash_method} if hash_method else {}))
    for username, display, roles, _manager, dept, group_names in DEMO_USERS:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, password_hash=None if username == "erp" else pw_hash)
            created += 1
        user.display_name, user.roles = display, roles
        user.email = f"{username}@example.com"
        user.department = departments.get(dept) if dept else None
        user.groups = [groups[g] for g in group_names]
        user.start_date = user.start_date or HIRE_DATES.get(username)
        users[username] = user
        session.add(user)
    for username, _d, _r, manager, _dept, _g in DEMO_USERS:
        users[username].manager = users[manager] if manager else None
    session.flush()
    for name, _parent, head in DEMO_DEPARTMENTS:
        departments[name].head = users[head]
    session.flush()
    progress(f"{len(DEMO_USERS)} users (password '{password}'; erp uses an API key)")
    return created
