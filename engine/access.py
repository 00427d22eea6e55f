"""Access checks: who may read a task or an instance, and who may work a task."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from engine import assignment
from engine.context import Actor
from engine.errors import Forbidden, NotFound
from engine.models import HistoryEvent, InstanceViewer, ProcessInstance, Task, TaskCandidate

#: History event types that mean "this person acted on the request": they keep read access to it (also
#: after transferring, delegating or adding a signer) and see it under 我已处理.
ACTED_EVENTS = ("task_completed", "task_resolved", "task_signed", "task_transferred", "task_delegated",
                "signer_added", "task_returned", "comment")

#: History event types by which an approver has acted on a request: after one of them (by anyone but the
#: applicant) the applicant may neither withdraw nor cancel it; only an admin may end it.
APPROVER_EVENTS = ("task_completed", "task_transferred", "task_delegated", "task_resolved", "task_signed",
                   "task_returned", "signer_added")


def approver_has_acted(session: Session, instance_id: int, applicant: str | None) -> bool:
    """True if someone other than the applicant has acted on the instance as an approver."""
    return session.scalar(select(HistoryEvent.id).where(
        HistoryEvent.instance_id == instance_id, HistoryEvent.type.in_(APPROVER_EVENTS),
        HistoryEvent.user.is_not(None), HistoryEvent.user != applicant).limit(1)) is not None


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
    """Admins, the starter, people CC'd, anyone who has or had a task in it, and anyone who acted on it
    (approved, rejected, transferred, delegated, added a signer, returned, commented) may read an instance."""
    if actor.is_admin or inst.started_by == actor.username:
        return True
    if session.get(InstanceViewer, (inst.id, actor.username)) is not None:
        return True
    rows = session.scalars(select(Task).where(Task.instance_id == inst.id)).all()
    if any(may_see_task(r, actor) for r in rows):
        return True
    return session.scalar(select(acted_on(inst.id, actor.username))) is True


def acted_on(instance_id: ColumnElement[int] | int, username: str) -> ColumnElement[bool]:
    """EXISTS: `username` has an acted history event (:data:`ACTED_EVENTS`) in the instance."""
    return exists().where(HistoryEvent.instance_id == instance_id, HistoryEvent.user == username,
                          HistoryEvent.type.in_(ACTED_EVENTS))


def readable_instances(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition of :func:`can_read_instance` on ProcessInstance rows, for lists filtered in the
    database (indexed EXISTS look-ups, no rows read to be dropped in Python). Admins: use no condition."""
    name, groups = actor.username, sorted(actor.groups)
    offered = select(TaskCandidate.task_id).where(or_(
        and_(TaskCandidate.kind == "user", TaskCandidate.value == name),
        and_(TaskCandidate.kind == "group", TaskCandidate.value.in_(groups))))
    return or_(
        ProcessInstance.started_by == name,
        exists().where(InstanceViewer.instance_id == ProcessInstance.id, InstanceViewer.username == name),
        acted_on(ProcessInstance.id, name),
        exists().where(Task.instance_id == ProcessInstance.id,
                       or_(Task.assignee == name, Task.completed_by == name, Task.owner == name,
                           Task.id.in_(offered))))


def open_task(session: Session, task_id: str, *, fresh: bool = False) -> Task:
    """The task row (404 if none); `fresh` re-reads it (do so after locking its instance, before trusting
    its status)."""
    row = session.get(Task, task_id, populate_existing=fresh)
    if row is None:
        raise NotFound(f"no task {task_id}")
    return row
