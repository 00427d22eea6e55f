"""Hand-over of a leaver's open tasks: when a user is deactivated, work waiting on them moves on at once.

Each open task assigned to them goes to their manager (an active user who is not the task's applicant), else to
the empty approver (`OAFLOW_EMPTY_APPROVER=user:NAME`; with `skip`, to `admin`, since nothing may approve on a
leaver's behalf); a task they delegated out comes back to the same person when it returns; a task delegated to
them goes back to its delegator. Each move is a `task_reassigned` history entry saying why, and the new holder
is notified. Runs in the deactivation's transaction (the caller commits).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.assignment import Directory
from engine.models import HistoryEvent, Task
from engine.rules import ApprovalRules
from store.base import utcnow


def _successor(username: str, row: Task, directory: Directory, rules: ApprovalRules) -> str:
    manager = directory.manager_of(username)
    if manager and manager != username and manager != row.excluded_user and directory.user_exists(manager):
        return manager
    fallback = rules.empty_approver.removeprefix("user:") if rules.empty_approver.startswith("user:") else ""
    return fallback or "admin"


def hand_over_tasks(session: Session, username: str, actor: str, directory: Directory,
                    rules: ApprovalRules) -> list[tuple[Task, str]]:
    """Move the open tasks of deactivated `username` on; returns (task, new assignee) for each assignee change."""
    rows = session.scalars(select(Task).where(Task.status == "open",
                                              or_(Task.assignee == username, Task.owner == username))
                           .order_by(Task.id).with_for_update()).all()
    moved: list[tuple[Task, str]] = []
    now = utcnow()
    for row in rows:
        if row.assignee == username and row.delegation and row.owner and row.owner != username:
            to, rule = row.owner, f"{username} was deactivated; the task went back to its delegator"
            row.assignee, row.owner, row.delegation = to, None, None
        elif row.assignee == username:
            to = _successor(username, row, directory, rules)
            rule = f"{username} was deactivated"
            row.assignee = to
            if row.owner == username:
                row.owner, row.delegation = None, None
        else:  # they delegated it out: it returns to their successor
            to = _successor(username, row, directory, rules)
            rule = f"{username} was deactivated; the task returns to {to} when it comes back"
            row.owner = to
            session.add(HistoryEvent(instance_id=row.instance_id, at=now, type="task_reassigned", user=actor,
                                     task_id=row.id, element_id=row.element_id,
                                     data={"from": username, "to": to, "rule": rule, "as": "delegator"}))
            continue
        row.urged_at = None
        session.add(HistoryEvent(instance_id=row.instance_id, at=now, type="task_reassigned", user=actor,
                                 task_id=row.id, element_id=row.element_id,
                                 data={"from": username, "to": to, "rule": rule}))
        moved.append((row, to))
    session.flush()
    return moved
