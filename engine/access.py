"""Access checks: who may read a task or an instance, and who may work a task."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import assignment
from engine.context import Actor
from engine.errors import Forbidden, NotFound
from engine.models import InstanceViewer, ProcessInstance, Task


def check_task_access(session: Session, row: Task, actor: Actor) -> None:
    """Reading a task: its people, the instance's starter, or an admin; 404 for anyone else."""
    if actor.is_admin or may_see_task(row, actor):
        return
    inst = session.get(ProcessInstance, row.instance_id)
    if inst is not None and (inst.started_by == actor.username
                             or session.get(InstanceViewer, (inst.id, actor.username)) is not None):
        return
    raise NotFound(f"no task {row.id}")


def may_see_task(row: Task, actor: Actor) -> bool:
    """True for the task's assignee, completer, owner and candidates."""
    return (row.assignee == actor.username or row.completed_by == actor.username
            or row.owner == actor.username or actor.username in (row.candidate_users or [])
            or bool(set(actor.groups).intersection(row.candidate_groups or [])))


def check_may_work(row: Task, actor: Actor) -> None:
    """403 unless the actor may work the task now (assigned to them, or offered to them unclaimed)."""
    if row.excluded_user == actor.username:
        raise Forbidden(f"task {row.id} belongs to your own request: someone else must work it")
    if not assignment.may_work(actor.username, set(actor.groups), row.assignee, row.candidate_users,
                               row.candidate_groups):
        who = f"assigned to {row.assignee}" if row.assignee else "not offered to you"
        raise Forbidden(f"task {row.id} is {who}")


def can_read_instance(session: Session, inst: ProcessInstance, actor: Actor) -> bool:
    """Admins, the starter, people CC'd, and anyone who has or had a task in it may read an instance."""
    if actor.is_admin or inst.started_by == actor.username:
        return True
    if session.get(InstanceViewer, (inst.id, actor.username)) is not None:
        return True
    rows = session.scalars(select(Task).where(Task.instance_id == inst.id)).all()
    return any(may_see_task(r, actor) for r in rows)


def open_task(session: Session, task_id: str, *, fresh: bool = False) -> Task:
    """The task row (404 if none); `fresh` re-reads it (do so after locking its instance, before trusting
    its status)."""
    row = session.get(Task, task_id, populate_existing=fresh)
    if row is None:
        raise NotFound(f"no task {task_id}")
    return row
