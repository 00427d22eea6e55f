"""The task projection: the open task rows kept equal to the user tasks the saved state has waiting,
each given its people (assignment and approver rules) and its due time when it opens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from engine import assignment
from engine.context import CommandContext
from engine.models import ProcessInstance, Task
from engine.parsing import ElementMeta
from engine.rules import ApprovalRules, apply_rules
from store.base import utcnow
from store.messages import Message


def tasks_in(wf: BpmnWorkflow, state: int) -> list:
    """Tasks of the workflow and of all its subworkflows in `state` (a TaskState mask).

    Read straight from each workflow's task dict (SpiffWorkflow keeps it equal to its tree): walking
    the tree with `get_tasks` costs several times as much, and a step asks this several times.
    """
    found = [t for t in wf.tasks.values() if t._state & state]
    for sub in wf.subprocesses.values():
        found.extend(t for t in sub.tasks.values() if t._state & state)
    return found


def waiting_ids(inst: ProcessInstance, wf: BpmnWorkflow) -> set[str]:
    """Ids of the tasks that wait for people: exactly the instance's open task rows once synced."""
    if inst.status not in ("running", "error"):
        return set()
    return {str(t.id) for t in tasks_in(wf, TaskState.READY) if t.task_spec.manual}


def _open_rows(ctx: CommandContext) -> dict[str, Task]:
    """The instance's open task rows before this sync.

    Every save leaves the open rows equal to the tasks the saved state has waiting, so a loaded
    instance's open rows are those of `ctx.open_ids`: taken from the session when the command has
    already read them (the task being completed), else read by id. Later syncs of the same step
    reuse what the previous one left.
    """
    if ctx.open_rows is not None:
        return dict(ctx.open_rows)
    rows: dict[str, Task] = {}
    unread = []
    for task_id in ctx.open_ids:
        row = ctx.session.identity_map.get(sa_inspect(Task).identity_key_from_primary_key((task_id,)))
        if row is None:
            unread.append(task_id)
        elif row.status == "open":
            rows[task_id] = row
    if unread:
        rows.update({r.id: r for r in ctx.session.scalars(select(Task).where(
            Task.id.in_(sorted(unread)), Task.instance_id == ctx.instance.id, Task.status == "open"))})
    return rows


def sync_tasks(ctx: CommandContext, directory: assignment.Directory, rules: ApprovalRules) -> None:
    """Close the rows of tasks no longer waiting and open (or reuse) rows for the newly waiting ones."""
    session, inst, wf = ctx.session, ctx.instance, ctx.workflow
    ready = {}
    if inst.status in ("running", "error"):
        ready = {str(t.id): t for t in tasks_in(wf, TaskState.READY) if t.task_spec.manual}
    open_rows = _open_rows(ctx)
    now = utcnow()
    for task_id, row in open_rows.items():
        if task_id in ready:
            continue
        if task_id in ctx.completed_by:
            row.status, row.completed_by = "completed", ctx.completed_by[task_id]
        else:
            row.status = "cancelled"
            ctx.record("task_cancelled", user=None, task_id=task_id, element_id=row.element_id)
        row.completed_at = now
        if row.candidate_users or row.candidate_groups:  # the only source of candidate rows
            ctx.dropped_candidates.add(task_id)
    missing = [task_id for task_id in ready if task_id not in open_rows]
    earlier: dict[str, Task] = {}
    if missing and not ctx.new:  # a task reset by 退回 keeps its id: reuse its row
        earlier = {r.id: r for r in session.scalars(select(Task).where(Task.id.in_(missing)))}
    still_open = [row for task_id, row in open_rows.items() if task_id in ready]
    with session.no_autoflush:  # new rows are written once, complete, when the step saves
        for task_id in missing:
            row = earlier.get(task_id) or Task(id=task_id)
            _fill_task(ctx, row, ready[task_id], directory, rules, now)
            ctx.filled.append(row)
            still_open.append(row)
    ctx.open_ids = set(ready)
    ctx.open_rows = {row.id: row for row in still_open}
    inst.open_task_rows = still_open


def _fill_task(ctx: CommandContext, row: Task, spiff_task: Any, directory: assignment.Directory,
               rules: ApprovalRules, now: datetime) -> None:
    spec = spiff_task.task_spec
    meta: ElementMeta | None = ctx.loaded.elements.get(spec.bpmn_id or "")
    row.process_key = ctx.instance.process_key
    row.element_id = spec.bpmn_id or spec.name
    row.name = spec.bpmn_name or (meta.name if meta else None) or row.element_id
    row.status, row.created_at, row.completed_at, row.completed_by = "open", now, None, None
    row.form = meta.form if meta else None
    row.ui_form = meta.ui_form if meta else None

    def evaluate(expression: str) -> Any:
        return ctx.workflow.script_engine.evaluate(spiff_task, expression)

    try:
        people = assignment.resolve(meta, getattr(spec, "lane", None), evaluate, directory)
        due = evaluate_due(meta, evaluate, now)
    except Exception as err:  # a broken expression must not hide the task: keep it, raise an incident
        people, due = assignment.Assignment(), None
        if ctx.instance.status == "running":
            failure = RuntimeError(f"cannot resolve who works task '{row.element_id}': {err}")
            failure.task = spiff_task  # type: ignore[attr-defined]  # the incident names the element
            ctx.fail(failure)
    people = apply_rules(ctx, rules, row, people, directory)
    row.assignee = people.assignee
    row.candidate_users = people.candidate_users
    row.candidate_groups = people.candidate_groups
    row.owner, row.delegation, row.signers_after, row.approvals, row.urged_at = None, None, [], [], None
    row.due_at = due
    ctx.record("task_created", user=None, task_id=row.id, element_id=row.element_id,
               data={"assignee": row.assignee, "candidate_users": row.candidate_users,
                     "candidate_groups": row.candidate_groups})
    if not any(task_id == row.id for task_id, _ in ctx.auto_complete):
        ctx.announce.append(row)


def announce_tasks(ctx: CommandContext, directory: assignment.Directory) -> None:
    """Notify the people of the task rows this step created, and queue their task.created events."""
    inst = ctx.instance
    for row in ctx.announce:
        ctx.notify(people_of(row, directory), "task_assigned",
                   Message("New task: {task}", task=row.name, process_key=inst.process_key),
                   Message("{process} #{instance}", process=ctx.loaded.name or inst.process_key,
                           process_key=inst.process_key, instance=inst.id))
        ctx.events.append(("task.created", {"task_id": row.id, "instance_id": inst.id,
                                            "element_id": row.element_id, "assignee": row.assignee,
                                            "candidate_users": row.candidate_users,
                                            "candidate_groups": row.candidate_groups}))
    ctx.announce.clear()


def people_of(row: Task, directory: assignment.Directory) -> set[str]:
    """Everyone who may act on a task now: its assignee, or its candidate users and group members."""
    if row.assignee:
        return {row.assignee}
    people = set(row.candidate_users or [])
    for group in row.candidate_groups or []:
        people |= directory.members_of(group)
    people.discard(row.excluded_user)  # the applicant is offered no task of their own request
    return people


def evaluate_due(meta: ElementMeta | None, evaluate: Callable[[str], Any], now: datetime) -> datetime | None:
    """A task's due time from its dueDate attribute: an ISO duration/datetime or a `${...}` expression."""
    if meta is None or not meta.due_date:
        return None
    raw = meta.due_date.strip()
    match = assignment._EXPRESSION.match(raw)
    value = evaluate(match.group(1)) if match else raw
    return _parse_due(value, now)


def naive_utc(value: datetime) -> datetime:
    """`value` as a naive UTC datetime (how the database stores times)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _parse_due(value: Any, now: datetime) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return naive_utc(value)
    text = str(value).strip()
    if text.startswith("P"):
        parsed = TimerEventDefinition.parse_iso_duration(text)
        return now + TimerEventDefinition.get_timedelta_from_start(parsed, now.replace(tzinfo=UTC))
    return naive_utc(TimerEventDefinition.get_datetime(text))
