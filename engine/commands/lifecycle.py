"""Lifecycle commands: start, complete, claim, unclaim, cancel, retry, comment, and the timer starts."""

from __future__ import annotations

import logging
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from engine import assignment, attachments, idempotency, references, service_prechecks
from engine.access import approver_has_acted, check_may_work, check_task_access, open_task
from engine.camunda_forms import with_defaults
from engine.context import RESERVED_VARIABLES, SCHEDULER, Actor, CommandContext
from engine.definitions import LoadedSpec, get_definition
from engine.errors import Conflict, EngineError, Forbidden, InvalidData, NotFound
from engine.executor import CommandExecutor
from engine.instance_ends import ending_of
from engine.models import HistoryEvent, InstanceViewer, ProcessDefinition, ProcessInstance, Task, TaskCandidate
from engine.parsing import ElementMeta
from engine.rules import form_comment, intercept_completion
from engine.tasks import tasks_in
from forms.validation import validate_data
from store.base import utcnow

log = logging.getLogger("oaflow.engine")


def start(ex: CommandExecutor, session: Session, key: str, actor: Actor, variables: dict | None = None,
          business_key: str | None = None, idempotency_key: str | None = None,
          *, message: tuple[str, dict] | None = None,
          request_hash: str | None = None, acting_user: str | None = None) -> tuple[ProcessInstance, bool]:
    """Start the latest version of `key`. Returns (instance, created); a repeated idempotency key
    returns the instance it first created (422 if `request_hash` differs from the first request's).
    With `acting_user` (an integrator acting for `actor`), the instance is `actor`'s and history records
    `acting_user` starting it on their behalf; the acting user may read the instance."""
    variables = ex.start_checks.strip_computed(key, variables if variables is not None else {})
    definition = get_definition(session, key, lean=True)  # elements and forms: from the spec cache
    if idempotency_key:
        existing = idempotency.replay(session, actor.username, idempotency_key, request_hash)
        if existing is not None:
            return existing[0], False
    loaded = ex.specs.get(session, definition)
    if loaded.missing_calls:
        raise InvalidData(f"'{key}' calls process(es) not deployed yet: {', '.join(loaded.missing_calls)}",
                          errors=[{"field": "calledElement", "message": f"process {k!r} is not deployed"}
                                  for k in loaded.missing_calls])
    start_meta = start_form_meta(loaded)
    schema = loaded.forms.get(start_meta.form) if start_meta and start_meta.form else None
    variables = with_defaults(start_meta.form if start_meta else None, schema, variables)
    errors = validate_data(variables, schema, RESERVED_VARIABLES)
    if errors:
        raise InvalidData("the start variables do not match the start form",
                          errors=[e.to_dict() for e in errors])
    references.check_submitted(session, schema, variables, actor.username)  # 422 before anyone approves
    attachments.check_form_files(session, schema, variables, actor.username)
    service_prechecks.check_at_start(session, ex.services, loaded, variables, actor.username)  # and what it writes
    business_key = references.business_key(schema, variables, business_key)  # derived from the references

    def work() -> ProcessInstance:
        checked = ex.start_checks.run(session, key, actor.username, variables)
        inst = ProcessInstance(definition_id=definition.id, process_key=definition.key, status="running",
                               business_key=business_key, started_by=actor.username, state="{}")
        inst.definition = definition  # INSERTed when the step saves (or when an operation needs its id)
        wf = BpmnWorkflow(loaded.spec, loaded.subprocess_specs)
        ctx = ex.context(session, inst, wf, loaded, actor, new=True)
        data = {**checked, "initiator": actor.username}
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(data)
        ctx.record("started", user=acting_user or actor.username,
                   data={"variables": checked, "business_key": business_key, "version": definition.version,
                         **({"on_behalf_of": actor.username} if acting_user else {})})
        if message is not None:
            try:
                wf.do_engine_steps()
                wf.send_event(BpmnEvent(MessageEventDefinition(message[0]), message[1]))
            except WorkflowException as err:
                raise Conflict(f"process '{key}' does not start on message '{message[0]}'") from err
        ex.advance_and_save(ctx)
        if acting_user:
            session.add(InstanceViewer(instance_id=inst.id, username=acting_user, added_by=acting_user))
            session.flush()
        references.record(session, inst, schema, checked)  # and claims its exclusive records
        attachments.attach_form_files(session, schema, checked, actor.username, inst.id)
        if idempotency_key:
            idempotency.remember(session, actor.username, idempotency_key, inst.id, request_hash, True)
            session.flush()
        return inst

    try:
        inst = ex.transaction(session, work)
    except (IntegrityError, InvalidData):  # a start check may refuse the twin of a concurrent retry
        if idempotency_key:
            existing = idempotency.replay(session, actor.username, idempotency_key, request_hash)
            if existing is not None:
                return existing[0], False
        raise
    log.info("started instance %s of %s v%s by %s", inst.id, key, definition.version, actor.username)
    return inst, True


def start_timer_processes(ex: CommandExecutor, session: Session,
                          created: list[ProcessDefinition]) -> list[ProcessInstance]:
    """For each newly deployed definition that starts on a timer, start one instance that waits for it;
    instances of older versions still waiting at their start timer are cancelled (the new version
    replaces the schedule)."""
    started = []
    for definition in created:
        loaded = ex.specs.get(session, definition)
        starts = [s for s in loaded.spec.start.outputs
                  if "Timer" in type(getattr(s, "event_definition", None)).__name__]
        if not starts:
            continue
        start_ids = {s.bpmn_id for s in starts}
        for old in session.scalars(select(ProcessInstance).where(
                ProcessInstance.process_key == definition.key, ProcessInstance.status == "running",
                ProcessInstance.started_by == SCHEDULER.username, ProcessInstance.definition_id != definition.id)):
            if set(old.active_element_ids or []) <= start_ids:
                cancel(ex, session, old.id, SCHEDULER, f"replaced by version {definition.version}")
        inst, _ = start(ex, session, definition.key, SCHEDULER, {}, None)
        started.append(inst)
    return started


def complete(ex: CommandExecutor, session: Session, task_id: str, actor: Actor, variables: dict | None = None,
             comment: str | None = None) -> Task:
    """Complete a task with form data, run to the next wait state and save everything at once. A form's own
    `comment` field (the reason of a rejection) is the completion's comment when none is given separately, so
    the history shows it beside the decision whether it came from a page or the API."""
    variables = variables if variables is not None else {}
    comment = comment if comment and comment.strip() else form_comment(variables) or comment

    def action(ctx: CommandContext) -> Task:
        fresh = ctx.task
        check_task_access(session, fresh, actor)  # 404 for a task the actor may not even read
        if ctx.instance.status != "running":
            raise Conflict(f"process instance {ctx.instance.id} is {ctx.instance.status}")
        if fresh.status != "open":
            raise Conflict(f"task {task_id} is already {fresh.status}")
        check_may_work(fresh, actor)
        schema = ctx.loaded.forms.get(fresh.form) if fresh.form else None
        filled = with_defaults(fresh.form, schema, variables)
        errors = validate_data(filled, schema, RESERVED_VARIABLES)
        if errors:
            raise InvalidData("the submitted data does not match the task's form",
                              errors=[e.to_dict() for e in errors])
        references.check_submitted(session, schema, filled, actor.username)
        attachments.check_form_files(session, schema, filled, actor.username)
        ex.start_checks.run_completion(session, ctx.instance.process_key, fresh.element_id, actor.username,
                                       ctx.instance.variables or {}, filled)
        start_meta = start_form_meta(ctx.loaded)
        references.recheck_started(session, ctx.loaded.forms.get(start_meta.form) if start_meta else None,
                                   ctx.instance.variables or {})
        spiff_task = ctx.workflow.get_task_from_id(UUID(task_id))
        if spiff_task is None or spiff_task.state != TaskState.READY:
            raise Conflict(f"task {task_id} is no longer waiting")
        if intercept_completion(ctx, fresh, actor, filled, comment):
            return fresh
        spiff_task.data.update(filled)
        try:
            spiff_task.run()
        except (SQLAlchemyError, EngineError):
            raise
        except Exception as err:  # the model failed on this completion: an incident, not a 500
            ctx.fail(err)
        references.record(session, ctx.instance, schema, filled)
        attachments.attach_form_files(session, schema, filled, actor.username, ctx.instance.id)
        ctx.completed_by[task_id] = actor.username
        ctx.record("task_completed", task_id=task_id, element_id=fresh.element_id,
                   comment=comment, data={"variables": filled})
        return fresh

    return ex.run(session, None, actor, action, require_running=False, task_id=task_id)


def claim(ex: CommandExecutor, session: Session, task_id: str, actor: Actor, row: Task | None = None) -> Task:
    """Take an unassigned task the actor is a candidate for (`row`: the task, if the caller has read it)."""
    row = row if row is not None else open_task(session, task_id)

    def action(ctx: CommandContext) -> Task:
        fresh = ctx.task
        if fresh.status != "open":
            raise Conflict(f"task {task_id} is already {fresh.status}")
        if fresh.assignee == actor.username:
            return fresh
        if fresh.assignee:
            raise Conflict(f"task {task_id} is already claimed by {fresh.assignee}")
        if fresh.excluded_user == actor.username:
            raise Forbidden("this task belongs to your own request: someone else must work it")
        if not assignment.may_work(actor.username, set(actor.groups), None, fresh.candidate_users,
                                   fresh.candidate_groups):
            raise Forbidden("you are not a candidate for this task")
        fresh.assignee = actor.username
        ctx.record("task_claimed", task_id=task_id, element_id=fresh.element_id)
        return fresh

    return ex.run(session, row.instance_id, actor, action, task_id=task_id)


def unclaim(ex: CommandExecutor, session: Session, task_id: str, actor: Actor, row: Task | None = None) -> Task:
    """Give a claimed task back to its candidates (`row`: the task, if the caller has read it)."""
    row = row if row is not None else open_task(session, task_id)

    def action(ctx: CommandContext) -> Task:
        fresh = ctx.task
        if fresh.status != "open":
            raise Conflict(f"task {task_id} is already {fresh.status}")
        if fresh.assignee != actor.username and not (actor.is_admin and fresh.assignee):
            raise Forbidden("only the task's assignee can unclaim it")
        if fresh.delegation and fresh.owner and fresh.assignee == actor.username:
            raise Conflict(f"this task was handed to you by {fresh.owner}: you may approve or comment, not unclaim it")
        if not fresh.candidate_users and not fresh.candidate_groups:
            # assigned directly: the former assignee becomes its candidate, so the task is never orphaned
            fresh.candidate_users = [fresh.assignee]
            ctx.session.execute(insert(TaskCandidate.__table__).values(
                task_id=fresh.id, kind="user", value=fresh.assignee))
        fresh.assignee = None
        ctx.record("task_unclaimed", task_id=task_id, element_id=fresh.element_id)
        return fresh

    return ex.run(session, row.instance_id, actor, action, task_id=task_id)


def cancel(ex: CommandExecutor, session: Session, instance_id: int, actor: Actor,
           reason: str | None = None) -> ProcessInstance:
    """Cancel a running instance: an admin at any time; its starter only while no approver has acted on it,
    the rule of withdraw (撤回), so an approval once given is ended only by an admin."""
    def action(ctx: CommandContext) -> ProcessInstance:
        inst = ctx.instance
        if not (actor.is_admin or inst.started_by == actor.username):
            raise Forbidden("only the starter or an admin can cancel this instance")
        if not actor.is_admin and approver_has_acted(session, inst.id, actor.username):
            raise Conflict("an approver has already acted on this request; only an administrator can cancel it now")
        ctx.ended = ending_of(inst.status, inst.started_by, actor.username, actor.is_admin)
        ctx.workflow.cancel()
        inst.status, inst.ended_at = "cancelled", utcnow()
        ctx.record("cancelled", comment=reason, closing=True)
        return inst

    inst = session.get(ProcessInstance, instance_id)
    if inst is None:
        raise NotFound(f"no process instance {instance_id}")
    if inst.status not in ("running", "error"):
        raise Conflict(f"process instance {instance_id} is {inst.status}")
    return ex.run(session, instance_id, actor, action, require_running=False)


def retry(ex: CommandExecutor, session: Session, instance_id: int, actor: Actor) -> ProcessInstance:
    """Re-run the failed step of an instance in `error` (admin), after its data or model was fixed."""
    if not actor.is_admin:
        raise Forbidden("only an admin can retry an instance")

    def action(ctx: CommandContext) -> ProcessInstance:
        inst = ctx.instance
        if inst.status != "error":
            raise Conflict(f"process instance {instance_id} is {inst.status}, not in error")
        for task in tasks_in(ctx.workflow, TaskState.ERROR):
            task._set_state(TaskState.READY)  # SpiffWorkflow has no public way back from ERROR
        inst.status, inst.error_message, inst.error_element_id = "running", None, None
        ctx.record("retried")
        return inst

    return ex.run(session, instance_id, actor, action, require_running=False)


def comment(ex: CommandExecutor, session: Session, instance_id: int, actor: Actor, text: str,
            task_id: str | None = None) -> HistoryEvent:
    """Add a comment to an instance's history."""
    def work() -> HistoryEvent:
        inst = session.get(ProcessInstance, instance_id)
        if inst is None:
            raise NotFound(f"no process instance {instance_id}")
        event = HistoryEvent(instance_id=instance_id, type="comment", user=actor.username,
                             task_id=task_id, comment=text)
        session.add(event)
        session.flush()
        return event
    return ex.transaction(session, work)


def start_form_meta(loaded: LoadedSpec) -> ElementMeta | None:
    """The start event with a form, if the process has one."""
    for meta in loaded.elements.values():
        if meta.kind == "startEvent" and meta.form:
            return meta
    return None
