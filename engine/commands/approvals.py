"""Approver actions as OA users know them: transfer, delegate, add signer, return, CC, urge, batch
approve and withdraw. Each runs through the command executor and lands in history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import APPROVER_EVENTS, approver_has_acted, check_may_work, check_task_access, open_task
from engine.commands.lifecycle import complete
from engine.context import Actor, CommandContext
from engine.executor import CommandExecutor
from engine.models import InstanceViewer, ProcessInstance, Task
from engine.return_bounds import writing_step_after
from engine.serialization import load_state
from engine.tasks import people_of, tasks_in
from store.base import utcnow
from store.errors import Conflict, DomainError, Forbidden, InvalidData, NotFound
from store.messages import Message

T = TypeVar("T")
URGE_INTERVAL = timedelta(minutes=10)
ACTED_EVENTS = APPROVER_EVENTS


# -- helpers ---------------------------------------------------------------------------------------
def _task_command(ex: CommandExecutor, session: Session, task_id: str, actor: Actor,
                  act: Callable[[CommandContext, Task], T]) -> T:
    """Run `act` on an open task the actor may read, under its instance's lock."""
    row = open_task(session, task_id)
    check_task_access(session, row, actor)

    def action(ctx: CommandContext) -> T:
        fresh = ctx.task
        if fresh.status != "open":
            raise Conflict(f"task {task_id} is already {fresh.status}")
        return act(ctx, fresh)
    return ex.run(session, row.instance_id, actor, action, task_id=task_id)


def _require_user(ex: CommandExecutor, session: Session, username: Any, field: str) -> str:
    """The username of an active employee (service accounts such as integrations cannot take work), else 422."""
    if not isinstance(username, str) or not ex.directory(session).is_employee(username):
        raise InvalidData(f"no active employee '{username}'",
                          errors=[{"field": field, "message": "unknown user or not an employee"}])
    return username


def refuse_delegate(row: Task, actor: Actor, action: str) -> None:
    """409 when the actor holds the task only as a delegate or signer-before: they approve or comment, and the
    task then returns to the person who handed it to them (README: delegation comes back to the delegator)."""
    if row.delegation and row.owner and row.owner != actor.username and row.assignee == actor.username:
        raise Conflict(f"this task was handed to you by {row.owner}: you may approve or comment, not {action} it")


def _refuse_applicant(row: Task, user: str, field: str) -> None:
    """No hand-over may give a task to the applicant of its own request (see engine.rules.apply_rules)."""
    if row.excluded_user and user == row.excluded_user:
        raise InvalidData(f"{user} is the applicant of this request and cannot work this task",
                          errors=[{"field": field, "message": "is the applicant of this request"}])


# -- transfer / delegate / add signer ---------------------------------------------------------------
def transfer(ex: CommandExecutor, session: Session, task_id: str, actor: Actor, to: str,
             comment: str | None = None) -> Task:
    """转交: hand the task to someone else for good."""
    _require_user(ex, session, to, "to")
    if to == actor.username:
        raise InvalidData("cannot transfer a task to yourself", errors=[{"field": "to", "message": "is you"}])

    def act(ctx: CommandContext, row: Task) -> Task:
        if not actor.is_admin or row.assignee == actor.username:
            # an admin may reassign any open task (work stranded with someone who left); others only their own
            check_may_work(row, actor)
            refuse_delegate(row, actor, "transfer")
        _refuse_applicant(row, to, "to")
        if row.assignee == to:
            raise Conflict(f"task {row.id} is already assigned to {to}")
        previous = row.assignee
        row.assignee, row.owner, row.delegation = to, None, None
        row.urged_at = None  # a reminder is per person: the new assignee was never urged
        ctx.record("task_transferred", task_id=row.id, element_id=row.element_id, comment=comment,
                   data={"from": previous or actor.username, "to": to})
        sender = "from {user}: {comment}" if comment else "from {user}"  # keys listed in the web app
        ctx.notify([to], "task_assigned",
                   Message("Task transferred to you: {task}", task=row.name, process_key=row.process_key),
                   Message(sender, user=actor.username, comment=comment))
        return row
    return _task_command(ex, session, task_id, actor, act)


def delegate(ex: CommandExecutor, session: Session, task_id: str, actor: Actor, to: str,
             comment: str | None = None) -> Task:
    """委派: someone else works the task, then it comes back to the delegator to finish."""
    _require_user(ex, session, to, "to")
    if to == actor.username:
        raise InvalidData("cannot delegate a task to yourself", errors=[{"field": "to", "message": "is you"}])

    def act(ctx: CommandContext, row: Task) -> Task:
        check_may_work(row, actor)
        refuse_delegate(row, actor, "delegate")
        _refuse_applicant(row, to, "to")
        if row.delegation:
            raise Conflict("this task is already out with someone else; wait for it to come back")
        row.owner, row.assignee, row.delegation = actor.username, to, "delegated"
        row.urged_at = None
        ctx.record("task_delegated", task_id=row.id, element_id=row.element_id, comment=comment,
                   data={"from": actor.username, "to": to})
        ctx.notify([to], "task_assigned",
                   Message("Task delegated to you: {task}", task=row.name, process_key=row.process_key),
                   Message("by {user}", user=actor.username))
        return row
    return _task_command(ex, session, task_id, actor, act)


def add_signer(ex: CommandExecutor, session: Session, task_id: str, actor: Actor, user: str,
               position: str) -> Task:
    """加签: another approver signs before me (then it returns to me) or after me (before the flow moves on)."""
    _require_user(ex, session, user, "user")
    if position not in ("before", "after"):
        raise InvalidData("position must be 'before' or 'after'",
                          errors=[{"field": "position", "message": "must be before or after"}])
    if user == actor.username:
        raise InvalidData("cannot add yourself as a signer", errors=[{"field": "user", "message": "is you"}])

    def act(ctx: CommandContext, row: Task) -> Task:
        check_may_work(row, actor)
        refuse_delegate(row, actor, "add a signer to")
        _refuse_applicant(row, user, "user")
        if row.delegation:
            raise Conflict("this task is already out with someone else; wait for it to come back")
        if position == "before":
            row.owner, row.assignee, row.delegation = actor.username, user, "signer_before"
            row.urged_at = None  # the added signer was never urged (the applicant may remind them at once)
            ctx.notify([user], "task_assigned",
                       Message("Please sign first: {task}", task=row.name, process_key=row.process_key),
                       Message("for {user}", user=actor.username))
        else:
            if user in (row.signers_after or []):
                raise Conflict(f"{user} already signs after this step")
            row.assignee = row.assignee or actor.username
            row.signers_after = [*(row.signers_after or []), user]
        ctx.record("signer_added", task_id=row.id, element_id=row.element_id,
                   data={"user": user, "position": position})
        return row
    return _task_command(ex, session, task_id, actor, act)


# -- return (退回) ------------------------------------------------------------------------------------
def return_targets(ex: CommandExecutor, session: Session, task_id: str, actor: Actor) -> list[dict]:
    """Earlier user-task nodes this instance passed, oldest first (where 退回 may send it)."""
    return [t for t in _return_candidates(ex, session, task_id, actor) if "crosses" not in t]


def _return_candidates(ex: CommandExecutor, session: Session, task_id: str, actor: Actor) -> list[dict]:
    """Every earlier user-task node with a run still in the state; those a return may not reach carry
    `crosses`: the completed record-writing step after their latest run (engine.return_bounds)."""
    row = open_task(session, task_id)
    check_task_access(session, row, actor)
    done = session.execute(
        select(Task.element_id, Task.name).where(Task.instance_id == row.instance_id, Task.status == "completed",
                                                 Task.element_id != row.element_id)
        .order_by(Task.completed_at, Task.created_at)).all()
    seen: dict[str, str | None] = {}
    for element_id, name in done:
        seen.setdefault(element_id, name)
    # only steps whose run is still in the state (a return that went back a round may have undone the
    # last run of a step whose earlier runs were pruned as finished loop iterations)
    inst = session.get(ProcessInstance, row.instance_id)
    loaded = ex.specs.for_id(session, inst.definition_id)
    workflow = load_state(inst.state, loaded.spec, loaded.subprocess_specs)
    latest: dict[str, Any] = {}
    for t in tasks_in(workflow, TaskState.COMPLETED):
        element = t.task_spec.bpmn_id
        if element in seen and (element not in latest or t.last_state_change > latest[element].last_state_change):
            latest[element] = t
    found = []
    for element_id, name in seen.items():
        if element_id not in latest:
            continue
        target = {"element_id": element_id, "name": name}
        crossed = writing_step_after(workflow, latest[element_id], ex.services)
        if crossed is not None:
            target["crosses"] = crossed.bpmn_id or crossed.name
        found.append(target)
    return found


def return_to(ex: CommandExecutor, session: Session, task_id: str, actor: Actor, target_element_id: str,
              comment: str | None = None) -> ProcessInstance:
    """退回: send the instance back to an earlier user task; everything after it is undone. Never across a
    completed step that wrote records (its records stay; running it again would refuse or write twice)."""
    candidates = {t["element_id"]: t for t in _return_candidates(ex, session, task_id, actor)}
    if target_element_id not in candidates:
        raise InvalidData(f"'{target_element_id}' is not an earlier step of this instance",
                          errors=[{"field": "target_element_id", "message": "not a return target"}])
    if "crosses" in candidates[target_element_id]:
        raise _crosses(target_element_id, candidates[target_element_id]["crosses"])

    def act(ctx: CommandContext, row: Task) -> ProcessInstance:
        check_may_work(row, actor)
        refuse_delegate(row, actor, "return")
        wf = ctx.workflow
        runs = [t for t in tasks_in(wf, TaskState.COMPLETED) if t.task_spec.bpmn_id == target_element_id]
        if not runs:
            raise Conflict(f"step '{target_element_id}' can no longer be returned to")
        target = max(runs, key=lambda t: t.last_state_change)
        crossed = writing_step_after(wf, target, ex.services)  # again under the lock: the state may have moved
        if crossed is not None:
            raise _crosses(target_element_id, crossed.bpmn_id or crossed.name)
        wf.reset_from_task_id(target.id)
        ctx.record("task_returned", task_id=row.id, element_id=row.element_id, comment=comment,
                   data={"to": target_element_id})
        return ctx.instance
    _task_command(ex, session, task_id, actor, act)
    return session.get(ProcessInstance, open_task(session, task_id).instance_id)


def _crosses(target_element_id: str, step: str) -> InvalidData:
    """422 naming target_element_id: a return there would run a step that already wrote records again."""
    return InvalidData(f"cannot return to '{target_element_id}': step '{step}' after it has already written "
                       "records", errors=[{"field": "target_element_id",
                                           "message": "a later step has already written records"}])


# -- CC, urge -----------------------------------------------------------------------------------------
def cc(ex: CommandExecutor, session: Session, instance_id: int, actor: Actor, users: list[str],
       task_id: str | None = None) -> list[str]:
    """抄送: let people read the instance and tell them about it."""
    if not isinstance(users, list) or not users:
        raise InvalidData("name at least one user", errors=[{"field": "users", "message": "must not be empty"}])
    for i, user in enumerate(users):
        _require_user(ex, session, user, f"users/{i}")

    def action(ctx: CommandContext) -> list[str]:
        added = []
        for user in dict.fromkeys(users):
            if session.get(InstanceViewer, (instance_id, user)) is None:
                session.add(InstanceViewer(instance_id=instance_id, username=user, added_by=actor.username))
                added.append(user)
        ctx.record("cc", task_id=task_id, data={"users": list(dict.fromkeys(users))})
        ctx.notify(added, "cc", Message("For your information: {process} #{instance}",
                                        process=ctx.loaded.name or ctx.instance.process_key,
                                        process_key=ctx.instance.process_key, instance=instance_id),
                   Message("from {user}", user=actor.username))
        return added
    return ex.run(session, instance_id, actor, action, require_running=False)


def urge(ex: CommandExecutor, session: Session, task_id: str, actor: Actor) -> Task:
    """催办: remind the people a task waits for (only the applicant; once per 10 minutes per task)."""
    row = open_task(session, task_id)
    inst = session.get(ProcessInstance, row.instance_id)
    if inst.started_by != actor.username:
        check_task_access(session, row, actor)
        raise Forbidden("only the applicant can urge this task")

    def act(ctx: CommandContext, fresh: Task) -> Task:
        now = utcnow()
        if fresh.urged_at and now - fresh.urged_at < URGE_INTERVAL:
            raise Conflict("this task was urged less than 10 minutes ago")
        fresh.urged_at = now
        people = people_of(fresh, ex.directory(session))
        ctx.record("urged", task_id=fresh.id, element_id=fresh.element_id, data={"notified": sorted(people)})
        ctx.notify(people, "urge",
                   Message("Reminder: {task} is waiting for you", task=fresh.name, process_key=fresh.process_key),
                   Message("{user} is waiting on {process} #{instance}", user=actor.username,
                           process=ctx.loaded.name or ctx.instance.process_key,
                           process_key=ctx.instance.process_key, instance=ctx.instance.id))
        return fresh
    return _task_command(ex, session, task_id, actor, act)


# -- batch, withdraw ----------------------------------------------------------------------------------
def batch_complete(ex: CommandExecutor, session: Session, task_ids: list[str], actor: Actor, variables: dict,
                   comment: str | None = None) -> list[dict]:
    """Complete several tasks with the same data; each succeeds or fails on its own."""
    results = []
    for task_id in dict.fromkeys(task_ids):
        try:
            complete(ex, session, task_id, actor, dict(variables), comment)
            results.append({"task_id": task_id, "status": 200})
        except DomainError as err:
            results.append({"task_id": task_id, "status": err.status, "detail": err.detail,
                            **({"errors": err.errors} if err.errors else {})})
    return results


def withdraw(ex: CommandExecutor, session: Session, instance_id: int, actor: Actor,
             reason: str | None = None) -> ProcessInstance:
    """撤回: the applicant takes the request back while no approver has acted on it (409 after)."""
    inst = session.get(ProcessInstance, instance_id)
    if inst is None:
        raise NotFound(f"no process instance {instance_id}")
    if inst.started_by != actor.username:
        raise Forbidden("only the applicant can withdraw a request")

    def action(ctx: CommandContext) -> ProcessInstance:
        if approver_has_acted(session, instance_id, actor.username):
            raise Conflict("an approver has already acted on this request; it can no longer be withdrawn")
        ctx.workflow.cancel()
        ctx.instance.status, ctx.instance.ended_at = "cancelled", utcnow()
        ctx.ended = "withdrawn"
        ctx.record("withdrawn", comment=reason, closing=True)
        return ctx.instance
    return ex.run(session, instance_id, actor, action)
