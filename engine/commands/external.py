"""External-task commands: fetch and lock, complete, failure, BPMN error, extend lock, unlock, set retries.

A worker locks tasks of its topics for a while; two workers never lock the same task (SELECT … FOR UPDATE
SKIP LOCKED on PostgreSQL, and on every database an UPDATE that only takes a task still unlocked); a lock that
expires makes the task fetchable again. Completing or throwing a BPMN error moves the instance on through the
command executor; a failure counts down the retries, and at zero the task is an incident an admin re-arms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from engine.context import RESERVED_VARIABLES, Actor, CommandContext
from engine.errors import DomainError, Forbidden, NotFound
from engine.executor import CommandExecutor
from engine.models import ExternalTask, ProcessInstance
from engine.transactions import run_transaction
from store.base import utcnow

WORKER_ROLES = ("integrator", "admin")


class NotYourLock(DomainError):
    """The task is locked by another worker (or by none): Camunda's BadUserRequestException."""


@dataclass(frozen=True)
class TopicRequest:
    """One topic of a fetch: its name, how long to lock, and which variables to hand out (None: all)."""

    name: str
    lock_ms: int
    variables: tuple[str, ...] | None = None


def check_worker(actor: Actor) -> None:
    """Only integrators (service accounts) and admins work external tasks."""
    if not any(role in actor.roles for role in WORKER_ROLES):
        raise Forbidden("working external tasks needs the integrator or admin role")


def _row(session: Session, task_id: str, *, lock: bool = False) -> ExternalTask:
    query = select(ExternalTask).where(ExternalTask.id == task_id)
    row = session.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"External task with id {task_id[:50]} does not exist")
    return row


def _owned(row: ExternalTask, worker_id: str) -> None:
    if row.worker_id != worker_id:
        raise NotYourLock(f"External Task {row.id} cannot be completed by worker '{worker_id[:100]}'. It is locked "
                          f"by worker '{row.worker_id}'." if row.worker_id else
                          f"External Task {row.id} is not locked by worker '{worker_id[:100]}'")


def fetch_and_lock(session: Session, actor: Actor, worker_id: str, max_tasks: int, topics: list[TopicRequest],
                   use_priority: bool = False) -> list[ExternalTask]:
    """Lock up to `max_tasks` fetchable tasks of `topics` for `worker_id`; returns them, locked."""
    check_worker(actor)
    by_topic = {t.name: t for t in topics}

    def work() -> list[ExternalTask]:
        now = utcnow()
        fetchable = (ExternalTask.topic.in_(sorted(by_topic))
                     & or_(ExternalTask.lock_expires_at.is_(None), ExternalTask.lock_expires_at < now)
                     & or_(ExternalTask.retries.is_(None), ExternalTask.retries > 0))
        running = select(ProcessInstance.id).where(ProcessInstance.status == "running")
        query = select(ExternalTask.id, ExternalTask.topic).where(fetchable, ExternalTask.instance_id.in_(running))
        order = (ExternalTask.priority.desc(),) if use_priority else ()
        query = query.order_by(*order, ExternalTask.created_at, ExternalTask.id).limit(max_tasks)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=ExternalTask)
        taken = []
        for task_id, topic in session.execute(query).all():
            until = now + timedelta(milliseconds=by_topic[topic].lock_ms)
            result = session.execute(update(ExternalTask).where(ExternalTask.id == task_id, fetchable)
                                     .values(worker_id=worker_id, lock_expires_at=until)
                                     .execution_options(synchronize_session=False))
            if result.rowcount == 1:
                taken.append(task_id)
        rows = session.scalars(select(ExternalTask).where(ExternalTask.id.in_(taken))).all() if taken else []
        for row in rows:
            session.refresh(row)
        return sorted(rows, key=lambda r: taken.index(r.id))
    return run_transaction(session, work)


def _variables_ok(variables: dict) -> dict:
    bad = sorted(set(variables) & RESERVED_VARIABLES)
    if bad:
        raise DomainError(f"reserved variable name(s): {', '.join(bad)}")
    return variables


def complete(ex: CommandExecutor, session: Session, actor: Actor, task_id: str, worker_id: str,
             variables: dict) -> None:
    """The worker finished: its variables join the instance's data and the flow moves on."""
    check_worker(actor)
    _variables_ok(variables)
    instance_id = _row(session, task_id).instance_id

    def action(ctx: CommandContext) -> None:
        row = _row(ctx.session, task_id)
        _owned(row, worker_id)
        spiff = _waiting(ctx, task_id)
        spiff.data.update(variables)
        spiff.complete()
        ctx.record("external_task_completed", task_id=task_id, element_id=row.element_id,
                   data={"worker_id": worker_id, "variables": sorted(variables)})
    ex.run(session, instance_id, actor, action)


def _waiting(ctx: CommandContext, task_id: str):  # noqa: ANN202
    spiff = ctx.workflow.get_task_from_id(UUID(task_id))
    if spiff is None or spiff.state != TaskState.STARTED:
        raise NotFound(f"External task with id {task_id} is not waiting")
    return spiff


def bpmn_error(ex: CommandExecutor, session: Session, actor: Actor, task_id: str, worker_id: str, code: str,
               message: str | None, variables: dict) -> None:
    """Throw a BPMN error from the task: a boundary error event on it catches it (400 if none does)."""
    check_worker(actor)
    _variables_ok(variables)
    instance_id = _row(session, task_id).instance_id

    def action(ctx: CommandContext) -> None:
        row = _row(ctx.session, task_id)
        _owned(row, worker_id)
        spiff = _waiting(ctx, task_id)
        spiff.data.update(variables)
        event = BpmnEvent(ErrorEventDefinition(code, code=code), {"message": message, **variables})
        if ctx.workflow.event_manager.catch(event) == 0:  # the boundary event runs when the engine steps
            raise DomainError(f"no boundary error event on {row.element_id} catches error code '{code[:100]}'")
        for sibling in spiff.parent.children if spiff.parent is not None else []:
            if sibling is not spiff:  # the boundary events: the error path sees the variables, as in Camunda
                sibling.data.update(variables)
        ctx.record("external_task_bpmn_error", task_id=task_id, element_id=row.element_id,
                   data={"worker_id": worker_id, "error_code": code})
    ex.run(session, instance_id, actor, action)


def failure(session: Session, actor: Actor, task_id: str, worker_id: str, message: str | None,
            details: str | None, retries: int, retry_timeout_ms: int) -> ExternalTask:
    """Report a failure: `retries` left; the task is fetchable again after `retry_timeout_ms`, or, at zero
    retries, an incident until an admin sets retries again."""
    check_worker(actor)

    def work() -> ExternalTask:
        row = _row(session, task_id, lock=True)
        _owned(row, worker_id)
        row.retries, row.error_message, row.error_details = retries, message, details
        row.worker_id = None
        row.lock_expires_at = utcnow() + timedelta(milliseconds=retry_timeout_ms) if retry_timeout_ms else None
        session.flush()
        return row
    return run_transaction(session, work)


def extend_lock(session: Session, actor: Actor, task_id: str, worker_id: str, new_duration_ms: int) -> None:
    """Lock the task for `new_duration_ms` from now (only its worker, only while the lock holds)."""
    check_worker(actor)

    def work() -> None:
        row = _row(session, task_id, lock=True)
        _owned(row, worker_id)
        now = utcnow()
        if row.lock_expires_at is None or row.lock_expires_at < now:
            raise NotYourLock(f"the lock of external task {task_id} has expired")
        row.lock_expires_at = now + timedelta(milliseconds=new_duration_ms)
    run_transaction(session, work)


def unlock(session: Session, actor: Actor, task_id: str) -> None:
    """Release the task's lock (any worker may then fetch it)."""
    check_worker(actor)

    def work() -> None:
        row = _row(session, task_id, lock=True)
        row.worker_id, row.lock_expires_at = None, None
    run_transaction(session, work)


def set_retries(session: Session, actor: Actor, task_id: str, retries: int) -> None:
    """Re-arm a task (an admin resolving the incident of a task out of retries)."""
    if not actor.is_admin:
        raise Forbidden("setting the retries of an external task needs the admin role")

    def work() -> None:
        row = _row(session, task_id, lock=True)
        row.retries = retries
        if retries > 0:
            row.lock_expires_at, row.worker_id = None, None
    run_transaction(session, work)
