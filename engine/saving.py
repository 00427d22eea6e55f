"""Saving a step: the instance's state and columns, its task and candidate rows, subscriptions, history,
notifications and webhook events, written together in the command's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, insert, select
from sqlalchemy import inspect as sa_inspect

from engine import assignment, references, webhooks
from engine.context import CommandContext, jsonable
from engine.models import HistoryEvent, MessageSubscription, Task, TaskCandidate
from engine.outcomes import final_word
from engine.pruning import prune_finished
from engine.serialization import dump_state
from engine.tasks import announce_tasks, naive_utc, tasks_in
from store.base import utcnow
from store.direct import insert_now, update_now
from store.messages import Message

# a state of fewer tasks is saved as it is: pruning finished loop rounds pays only for instances that loop
PRUNE_ABOVE_TASKS = 60
INSTANCE_EVENTS = ("completed", "cancelled", "error", "withdrawn")

# (session, [(user, kind, title, body), ...], instance id): writes the notifications in the session's transaction
Deliver = Callable[[Any, list[tuple[str, str, str, str]], int | None], Any]


def save(ctx: CommandContext, directory: assignment.Directory, deliver: Deliver) -> None:
    """Write everything the step changed and recorded."""
    inst, wf, session = ctx.instance, ctx.workflow, ctx.session
    completed = inst.status == "running" and wf.is_completed()
    if completed:
        inst.status = "completed"
        inst.ended_at = utcnow()
        ctx.record("completed", user=None, closing=True)
    names = _save_state(ctx)
    if inst.status in references.ENDED and not ctx.new and references.may_claim(ctx.loaded.forms):
        references.release_claims(session, inst.id)
    if inst.status != "running" and inst.status != "error" and ctx.open_ids:
        with session.no_autoflush:
            for row in session.scalars(select(Task).where(Task.instance_id == inst.id, Task.status == "open")):
                row.status, row.completed_at = "cancelled", utcnow()
                ctx.dropped_candidates.add(row.id)
    _write_rows(ctx)
    announce_tasks(ctx, directory)
    if completed:
        ctx.notify([inst.started_by or ""], "outcome",  # worded as the request's pages word its outcome
                   Message("{process} #{instance} {outcome}", process=ctx.loaded.name or inst.process_key,
                           process_key=inst.process_key, instance=inst.id,
                           outcome=final_word(inst.variables or {})))
    _write_subscriptions(ctx, names)
    _write_history(ctx)
    deliver(session, ctx.notices, inst.id)
    ctx.notices.clear()
    for name, payload in ctx.events:
        webhooks.enqueue(session, name, payload)
    ctx.events.clear()
    session.flush()


def _save_state(ctx: CommandContext) -> set[str]:
    """Serialize the state onto the instance with its derived columns; returns the messages it waits for."""
    inst, wf = ctx.instance, ctx.workflow
    if len(wf.tasks) + sum(len(sub.tasks) for sub in wf.subprocesses.values()) > PRUNE_ABOVE_TASKS:
        prune_finished(wf)  # finished loop iterations leave the state (the history table keeps them)
    inst.state = dump_state(wf)
    inst.variables = _visible_variables(wf)
    waiting = tasks_in(wf, TaskState.WAITING)
    active = [t for t in tasks_in(wf, TaskState.READY) + waiting if t.task_spec.bpmn_id]
    inst.active_element_ids = sorted({t.task_spec.bpmn_id for t in active}) if inst.status != "completed" else []
    inst.next_timer_at = None
    names: set[str] = set()
    if inst.status == "running":
        for event in wf.waiting_events():
            if "Timer" in event.event_type and event.value:
                when = _timer_value(event.value)
                if when and (inst.next_timer_at is None or when < inst.next_timer_at):
                    inst.next_timer_at = when
            elif "Message" in event.event_type:
                names.add(event.name)
    return names


def _write_subscriptions(ctx: CommandContext, names: set[str]) -> None:
    if names == ctx.subscribed:
        return
    if ctx.subscribed:
        ctx.session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == ctx.instance.id))
    for name in sorted(names):
        ctx.session.add(MessageSubscription(instance_id=ctx.instance.id, name=name))
    ctx.subscribed = names


def _write_history(ctx: CommandContext) -> None:
    inst = ctx.instance
    for event in ctx.history + ctx.closing:
        if event.type in INSTANCE_EVENTS:
            ctx.events.append((f"instance.{event.type}", {"instance_id": inst.id, "key": inst.process_key,
                                                          "business_key": inst.business_key,
                                                          "variables": inst.variables}))
    if ctx.history or ctx.closing:  # append-only rows nobody reads back in this step: plain INSERT, no ORM
        ctx.session.execute(insert(HistoryEvent.__table__), [
            {"instance_id": inst.id, "type": e.type, "user": e.user, "task_id": e.task_id,
             "element_id": e.element_id, "comment": e.comment, "data": e.data, "at": e.at}
            for e in ctx.history + ctx.closing])
    ctx.history.clear()
    ctx.closing.clear()


def _write_rows(ctx: CommandContext) -> None:
    """Write the instance row and the task rows of this step with plain statements (no unit of work):
    the instance first (INSERT if new, else UPDATE of what changed, version-checked), then the new task
    rows in one INSERT, the changed ones by UPDATE, and their candidate rows."""
    session, inst = ctx.session, ctx.instance
    if inst.id is None:
        insert_now(session, [inst])
    else:
        update_now(session, inst)
    new_rows = [row for row in ctx.filled if sa_inspect(row).transient]
    for row in new_rows:
        row.instance_id = inst.id
    insert_now(session, new_rows)
    for row in [obj for obj in session.dirty if isinstance(obj, Task)]:
        update_now(session, row)
    if ctx.dropped_candidates:
        candidate = TaskCandidate.__table__
        session.execute(delete(candidate).where(candidate.c.task_id.in_(sorted(ctx.dropped_candidates))))
    candidates = [{"task_id": row.id, "kind": kind, "value": value} for row in ctx.filled if row.status == "open"
                  for kind, values in (("user", row.candidate_users), ("group", row.candidate_groups))
                  for value in dict.fromkeys(values or [])]
    if candidates:
        session.execute(insert(TaskCandidate.__table__), candidates)
    ctx.filled.clear()
    ctx.dropped_candidates.clear()


def message_names(wf: BpmnWorkflow) -> set[str]:
    """Names of the messages the workflow waits for (one subscription row each while it runs)."""
    return {event.name for event in wf.waiting_events() if "Message" in event.event_type}


def _timer_value(value: Any) -> datetime | None:
    try:
        if isinstance(value, dict):
            value = value.get("next")
        return naive_utc(TimerEventDefinition.parse_time_or_duration(str(value)))
    except Exception:  # an unparseable pending value: the poller ignores it
        return None


def _visible_variables(wf: BpmnWorkflow) -> dict:
    if wf.is_completed() and wf.data:
        data = wf.data
    elif wf.last_task is not None:
        data = wf.last_task.data
    else:
        data = {}
    clean = {k: v for k, v in data.items() if not callable(v) and not k.startswith("spiff__")}
    return jsonable(clean)
