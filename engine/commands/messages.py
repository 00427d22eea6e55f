"""Message and timer commands: correlate a message to the instance waiting for it (or start a process
that begins with it), and fire due timers."""

from __future__ import annotations

from datetime import timedelta

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import idempotency
from engine.commands.lifecycle import start
from engine.context import RESERVED_VARIABLES, Actor, CommandContext
from engine.definitions import latest_definitions
from engine.errors import Conflict, InvalidData, NotFound
from engine.executor import CommandExecutor
from engine.models import MessageSubscription, ProcessDefinition, ProcessInstance
from engine.tasks import tasks_in
from engine.transactions import is_sqlite
from forms.validation import validate_data
from store.base import utcnow


def correlate(ex: CommandExecutor, session: Session, actor: Actor, name: str, business_key: str | None,
              variables: dict, *, idempotency_key: str | None = None,
              request_hash: str | None = None) -> tuple[ProcessInstance, bool]:
    """Deliver message `name`: resume the one instance waiting for it (by business key), or start
    a process that begins with it. Returns (instance, started). A repeated idempotency key answers
    what it first answered without correlating again (422 if `request_hash` differs)."""
    if not idempotency_key:
        return _correlate(ex, session, actor, name, business_key, variables, None, None)
    first = idempotency.replay(session, actor.username, idempotency_key, request_hash)
    if first is not None:
        return first
    try:
        return _correlate(ex, session, actor, name, business_key, variables, idempotency_key, request_hash)
    except (IntegrityError, Conflict):  # the same key in a concurrent request: answer as it did
        first = idempotency.replay(session, actor.username, idempotency_key, request_hash)
        if first is None:
            raise
        return first


def _correlate(ex: CommandExecutor, session: Session, actor: Actor, name: str, business_key: str | None,
               variables: dict, idempotency_key: str | None,
               request_hash: str | None) -> tuple[ProcessInstance, bool]:
    errors = validate_data(variables, None, RESERVED_VARIABLES)
    if errors:
        raise InvalidData("invalid message variables", errors=[e.to_dict() for e in errors])
    query = (select(ProcessInstance.id).join(MessageSubscription, MessageSubscription.instance_id
                                             == ProcessInstance.id)
             .where(MessageSubscription.name == name, ProcessInstance.status == "running"))
    if business_key is not None:
        query = query.where(ProcessInstance.business_key == business_key)
    waiting = list(session.scalars(query.limit(2)))
    if len(waiting) > 1:
        raise Conflict(f"message '{name}' matches several instances: give a business_key")
    if waiting:
        def action(ctx: CommandContext) -> ProcessInstance:
            for task in tasks_in(ctx.workflow, TaskState.WAITING):
                definition = getattr(task.task_spec, "event_definition", None)
                if isinstance(definition, MessageEventDefinition) and definition.name == name:
                    task.data.update(variables)
            try:
                ctx.workflow.send_event(BpmnEvent(MessageEventDefinition(name), variables))
            except WorkflowException as err:
                raise Conflict(f"instance {ctx.instance.id} no longer waits for message '{name}'") from err
            ctx.record("message_received", data={"message": name, "variables": variables})
            if idempotency_key:
                idempotency.remember(session, actor.username, idempotency_key, ctx.instance.id,
                                     request_hash, False)
            return ctx.instance
        return ex.run(session, waiting[0], actor, action), False
    for definition in _definitions_started_by(session, name):
        inst, _ = start(ex, session, definition.key, actor, variables, business_key, idempotency_key,
                        message=(name, variables), request_hash=request_hash)
        return inst, True
    raise NotFound(f"no instance waits for message '{name}'"
                   + (f" with business key '{business_key}'" if business_key else "")
                   + " and no process starts with it")


def fire_due_timers(ex: CommandExecutor, session: Session, limit: int = 100) -> int:
    """Fire every due timer; each instance is claimed by one worker only. Returns instances advanced."""
    fired = 0
    for _ in range(limit):
        if not _fire_one(ex, session):
            break
        fired += 1
    return fired


def _fire_one(ex: CommandExecutor, session: Session) -> bool:
    def work() -> bool:
        query = (select(ProcessInstance).where(ProcessInstance.status == "running",
                                               ProcessInstance.next_timer_at <= utcnow())
                 .order_by(ProcessInstance.next_timer_at).limit(1))
        if not is_sqlite(session):
            query = query.with_for_update(skip_locked=True)
        inst = session.scalar(query.execution_options(populate_existing=True))
        if inst is None:
            return False
        ctx = ex.load(session, inst, None)
        before = inst.next_timer_at
        ex.advance_and_save(ctx)
        if inst.status == "running" and inst.next_timer_at is not None and inst.next_timer_at <= before:
            # the engine did not consider it due yet (clock skew): look again shortly
            inst.next_timer_at = utcnow() + timedelta(seconds=5)
        return True
    try:
        return ex.transaction(session, work)
    except Conflict:
        return True  # another worker took it; move on


def _definitions_started_by(session: Session, message: str) -> list[ProcessDefinition]:
    return [d for d in latest_definitions(session) if message in (d.message_starts or [])]
