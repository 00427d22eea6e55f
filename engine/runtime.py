"""The command pipeline: every engine operation runs as one locked, all-or-nothing transaction.

An executor opens the transaction, locks and loads the instance, runs the command, steps the
engine to the next wait state, then saves state, task rows, history and subscriptions together.
Script and service failures become incidents (instance status `error`) that are saved; every
other failure rolls the whole transaction back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, insert, select
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.orm.exc import StaleDataError

from engine import (
    assignment,
    idempotency,
    references,
    spiff_compat,  # noqa: F401  (on import, lifts SpiffWorkflow's task-iterator depth cap)
    webhooks,
)
from engine.approvals import ApproverActions
from engine.definitions import LoadedSpec, SpecCache, get_definition
from engine.errors import Conflict, EngineError, Forbidden, InvalidData, NotFound
from engine.models import (
    HistoryEvent,
    InstanceViewer,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    Task,
    TaskCandidate,
)
from engine.parsing import ElementMeta
from engine.pruning import prune_finished
from engine.scripting import SandboxEnvironment, SandboxScriptEngine, ScriptLimits
from engine.serialization import dump_state, load_state
from engine.services import ServiceCall, ServiceRegistry
from engine.start_checks import StartChecks
from forms.validation import validate_data
from store.base import utcnow
from store.direct import insert_now, update_now

log = logging.getLogger("oaflow.engine")
T = TypeVar("T")

RESERVED_VARIABLES = frozenset({"initiator", "business_key", "manager_of", "dept_head_of",
                                "nth_manager_of", "groups_of", "members_of"})
GATEWAY_KINDS = ("ExclusiveGateway", "InclusiveGateway", "EventBasedGateway")
# a state of fewer tasks is saved as it is: pruning finished loop rounds pays only for instances that loop
PRUNE_ABOVE_TASKS = 60


@dataclass(frozen=True)
class Actor:
    """Who is asking: a user name, its roles and its groups."""

    username: str
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        """True for administrators."""
        return "admin" in self.roles


SCHEDULER = Actor("scheduler", frozenset({"admin"}))


class IncidentError(Exception):
    """Raised inside a step when the engine must stop the instance with an incident."""


class _EngineLoop(IncidentError):
    pass


class _OperationFailed(BaseException):
    """A service operation failed: the command's transaction is rolled back and the command runs again,
    with this run of the operation recorded as failed. (A BaseException, so that no handler of ordinary
    errors on the way takes it for the incident itself.)

    Operations run without a savepoint of their own: a failure is rare, and a SAVEPOINT with its
    RELEASE around every operation costs two statements on every step that calls one.
    """

    def __init__(self, key: tuple[str, int], message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


class _RecordedFailure(Exception):
    """The operation that failed in an earlier attempt of the command: now the instance's incident."""

    def __init__(self, message: str, task: Any) -> None:
        super().__init__(message)
        self.message = message
        self.task = task


# (element id, nth run of it in the command) -> incident message, for the attempts of the current command
_FAILED_OPERATIONS: ContextVar[dict[tuple[str, int], str] | None] = ContextVar("oaflow_failed_operations",
                                                                               default=None)
# a command whose operations keep failing differently on every attempt gives up after this many
MAX_COMMAND_ATTEMPTS = 5


@dataclass
class _Event:
    """A history event recorded during a step; written with the others in one INSERT when the step saves."""

    type: str
    user: str | None
    task_id: str | None = None
    element_id: str | None = None
    comment: str | None = None
    data: dict | None = None
    at: datetime = field(default_factory=utcnow)


@dataclass
class _Context:
    session: Session
    instance: ProcessInstance
    workflow: BpmnWorkflow
    loaded: LoadedSpec
    actor: Actor | None
    history: list[_Event] = field(default_factory=list)
    closing: list[_Event] = field(default_factory=list)  # recorded after the task events
    completed_by: dict[str, str] = field(default_factory=dict)
    incident: tuple[str, str | None] | None = None
    notices: list[tuple[str, str, str, str]] = field(default_factory=list)  # (user, kind, title, body)
    events: list[tuple[str, dict]] = field(default_factory=list)  # webhook events
    auto_complete: list[tuple[str, str]] = field(default_factory=list)  # (task id, reason)
    subscribed: set[str] = field(default_factory=set)  # message names the saved state waits for
    new: bool = False  # the instance was created in this transaction (no rows of its own exist yet)
    open_ids: set[str] = field(default_factory=set)  # ids of the task rows open (those the state has waiting)
    task: Task | None = None  # the task row a task command acts on, read under the instance lock
    open_rows: dict[str, Task] | None = None  # the open rows as the last sync left them (None: not yet synced)
    operation_runs: dict[str, int] = field(default_factory=dict)  # element id -> service calls made so far
    announce: list[Task] = field(default_factory=list)  # new task rows whose people are told when the step saves
    filled: list[Task] = field(default_factory=list)  # rows (new or reused) given their people in this step
    dropped_candidates: set[str] = field(default_factory=set)  # ids of closed rows whose candidate rows go

    def instance_id(self) -> int:
        """The instance's id. A new instance's row is written only when its step saves (one INSERT with its
        state, no UPDATE after it), unless something needs the id sooner: then it is written now."""
        if self.instance.id is None:
            insert_now(self.session, [self.instance])
        return self.instance.id

    def notify(self, users: list[str] | set[str], kind: str, title: str, body: str = "") -> None:
        """Queue an in-app notification for each user (written in this transaction)."""
        for user in sorted(set(users)):
            if user:
                self.notices.append((user, kind, title, body))

    def record(self, type_: str, *, closing: bool = False, **kw: Any) -> None:
        """Add an event to the instance's history (written when the step saves)."""
        event = _Event(type=type_, user=kw.pop("user", self.actor.username if self.actor else None), **kw)
        (self.closing if closing else self.history).append(event)


class _ScriptEngine(SandboxScriptEngine):
    """Sandboxed scripts plus service tasks routed to the registry, within the step's transaction."""

    def __init__(self, environment: SandboxEnvironment, services: ServiceRegistry, ctx_getter: Callable) -> None:
        super().__init__(environment=environment)
        self.services = services
        self.ctx_getter = ctx_getter

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):  # noqa: ANN001
        """Run a registered operation; its result is stored JSON-encoded, as SpiffWorkflow expects."""
        op = self.services.get(operation_name or "")
        if op is None:
            raise WorkflowTaskException(f"unknown service operation '{operation_name}'", task=task)
        ctx: _Context = self.ctx_getter()
        params = {k: v.get("value") for k, v in (operation_params or {}).items()}
        notices: list[tuple[list[str], str, str, str]] = []
        call = ServiceCall(params=params, instance_id=ctx.instance_id(), business_key=ctx.instance.business_key,
                           started_by=ctx.instance.started_by, session=ctx.session, task_data=task.data,
                           record=lambda type_, **kw: ctx.record(type_, user=None,
                                                                 element_id=task.task_spec.bpmn_id, **kw),
                           notify=lambda users, kind, title, body="": notices.append((users, kind, title, body)))
        element = task.task_spec.bpmn_id or task.task_spec.name
        ctx.operation_runs[element] = run = ctx.operation_runs.get(element, 0) + 1
        failed = _FAILED_OPERATIONS.get()
        if failed is not None and (element, run) in failed:  # it failed in an earlier attempt of this command
            raise _RecordedFailure(failed[(element, run)], task)
        try:
            result = op.func(call)
        except OperationalError:
            raise  # the database itself is unreachable: the whole step fails (503), nothing is saved
        except Exception as err:  # refused data or the operation's own failure: an incident
            if isinstance(err, EngineError):
                failure = WorkflowTaskException(f"service operation '{operation_name}' refused: {err.detail}",
                                                task=task, exception=err)
            else:
                detail = str(getattr(err, "orig", None) or err).strip().splitlines()[0][:500]
                failure = WorkflowTaskException(f"service operation '{operation_name}' failed: {detail}",
                                                task=task, exception=err)
            log.info("service operation %s failed at %s; the command runs again with it as the incident",
                     operation_name, element, exc_info=err)
            # Its writes (and on PostgreSQL the transaction itself) are spoilt: the command runs again
            # from the start in a new transaction, where this run of the operation is the incident.
            raise _OperationFailed((element, run), _incident_message(failure)) from err
        for users, kind, title, body in notices:
            ctx.notify(users, kind, title, body)
        ctx.record("service_called", element_id=task.task_spec.bpmn_id,
                   data={"operation": operation_name, "params": _jsonable(params)})
        return json.dumps(_jsonable(result))


def _incident_message(err: BaseException) -> str:
    """What an instance's incident says about the error that stopped it."""
    if isinstance(err, _RecordedFailure):
        return err.message
    message = str(err) or type(err).__name__
    if isinstance(err, WorkflowException) and getattr(err, "exception", None) is not None:
        inner = err.exception
        if str(inner) and str(inner) not in message:
            message = f"{message}: {inner}"
    return message


def _jsonable(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _parse_due(value: Any, now: datetime) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return _naive_utc(value)
    text = str(value).strip()
    if text.startswith("P"):
        parsed = TimerEventDefinition.parse_iso_duration(text)
        return now + TimerEventDefinition.get_timedelta_from_start(parsed, now.replace(tzinfo=UTC))
    return _naive_utc(TimerEventDefinition.get_datetime(text))


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def begin_write(session: Session) -> None:
    """Make the session's transaction one that may write.

    SQLite: end any read transaction and BEGIN IMMEDIATE (a read transaction cannot safely be upgraded).
    PostgreSQL: a transaction that has only read (the request's authentication, say) simply goes on,
    saving a COMMIT and a BEGIN; one holding the caller's writes is committed first, so that a failed
    command rolls back only its own work.
    """
    real = session() if isinstance(session, scoped_session) else session
    if real.in_transaction():
        wrote = real.info.get(_WROTE_KEY, False)
        if not (_is_sqlite(real) or wrote or real.new or real.dirty or real.deleted):
            return
        real.commit()
    real.connection(execution_options={"oaflow_write": True})


_WROTE_KEY = "oaflow.wrote"


@sa_event.listens_for(Session, "after_flush")
def _note_write(session: Session, _flush_context: Any) -> None:
    """Remember that the current transaction has written (begin_write commits that before a command)."""
    session.info[_WROTE_KEY] = True


@sa_event.listens_for(Session, "do_orm_execute")
def _note_statement_write(state: Any) -> None:
    """The same for INSERT/UPDATE/DELETE statements run through the session without the unit of work."""
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE_KEY] = True


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_write(session: Session, transaction: Any) -> None:
    """A new transaction starts clean."""
    if transaction.parent is None:
        session.info.pop(_WROTE_KEY, None)


def _is_lock_error(err: OperationalError) -> bool:
    text = str(err.orig).lower() if err.orig else str(err).lower()
    return "locked" in text or "busy" in text or "deadlock" in text or "could not serialize" in text


@dataclass(frozen=True)
class ApprovalRules:
    """How the engine treats awkward approvers (configurable per installation).

    empty_approver: "skip" approves a task nobody can be found for; "user:NAME" hands it to NAME.
    self_approval: "manager" hands a task whose approver is the applicant to the applicant's manager;
                   "skip" approves it; "allow" leaves it.
    auto_approve_repeat: the same person approving two steps in a row approves the second automatically.
    """

    empty_approver: str = "user:admin"
    self_approval: str = "manager"
    auto_approve_repeat: bool = True


# (session, [(user, kind, title, body), ...], instance id): writes the notifications in the session's transaction
Notifier = Callable[[Session, list[tuple[str, str, str, str]], int | None], Any]


class Engine(ApproverActions):
    """Runs BPMN instances over the database. One instance per app, shared by all threads.

    `max_engine_steps` bounds one run to the next wait state, so a loop without a user task or timer
    becomes an incident instead of a worker spinning forever.
    """

    def __init__(self, services: ServiceRegistry, directory_factory: Callable[[Session], assignment.Directory],
                 *, limits: ScriptLimits | None = None, max_engine_steps: int = 500,
                 spec_cache: SpecCache | None = None, notifier: Notifier | None = None,
                 rules: ApprovalRules | None = None, start_checks: StartChecks | None = None) -> None:
        self.services = services
        self.start_checks = start_checks or StartChecks()
        self.directory_factory = directory_factory
        self.limits = limits or ScriptLimits()
        self.max_engine_steps = max_engine_steps
        self.specs = spec_cache or SpecCache()
        self.notifier = notifier
        self.rules = rules or ApprovalRules()
        from engine.builtins import register_builtins
        register_builtins(self.services, self)

    # ------------------------------------------------------------------ executor
    def _transaction(self, session: Session, work: Callable[[], T]) -> T:
        """Run `work` in one write transaction; map concurrency failures to Conflict.

        When a service operation fails, everything is rolled back and `work` runs once more, the
        operation's run now recorded as failed (the instance's incident, saved with the rest).
        """
        failed: dict[tuple[str, int], str] = {}
        token = _FAILED_OPERATIONS.set(failed)
        try:
            for _attempt in range(MAX_COMMAND_ATTEMPTS):
                try:
                    return self._attempt(session, work)
                except _OperationFailed as failure:
                    if failure.key in failed:  # cannot happen: a recorded failure is never run again
                        raise RuntimeError(f"operation {failure.key} failed twice") from None
                    failed[failure.key] = failure.message
            raise RuntimeError(f"gave up after {MAX_COMMAND_ATTEMPTS} attempts: service operations kept "
                               f"failing ({', '.join(f'{e} #{n}' for e, n in failed)})")
        finally:
            _FAILED_OPERATIONS.reset(token)

    @staticmethod
    def _attempt(session: Session, work: Callable[[], T]) -> T:
        begin_write(session)
        try:
            result = work()
            session.commit()
            return result
        except StaleDataError as err:
            session.rollback()
            raise Conflict("the instance was changed by someone else at the same time; reload and retry") from err
        except OperationalError as err:
            session.rollback()
            if _is_lock_error(err):
                raise Conflict("the instance is busy (changed concurrently); retry") from err
            raise
        except BaseException:
            session.rollback()
            raise

    def directory(self, session: Session) -> assignment.Directory:
        """The org chart (its look-ups are cached per process: see oa.org)."""
        return self.directory_factory(session)

    def _script_engine(self, session: Session, instance: ProcessInstance, ctx_box: list) -> _ScriptEngine:
        directory = self.directory(session)
        env_globals: dict[str, Any] = dict(assignment.helper_functions(directory))
        env_globals["business_key"] = instance.business_key
        return _ScriptEngine(SandboxEnvironment(globals=env_globals, limits=self.limits), self.services,
                             lambda: ctx_box[0])

    def _load(self, session: Session, instance: ProcessInstance, actor: Actor | None) -> _Context:
        loaded = self.specs.for_id(session, instance.definition_id)
        workflow = load_state(instance.state, loaded.spec, loaded.subprocess_specs)
        box: list = []
        workflow.script_engine = self._script_engine(session, instance, box)
        subscribed = _message_names(workflow) if instance.status == "running" else set()
        ctx = _Context(session, instance, workflow, loaded, actor, subscribed=subscribed,
                       open_ids=self._waiting_ids(instance, workflow))
        box.append(ctx)
        return ctx

    def _locked_instance(self, session: Session, instance_id: int) -> ProcessInstance:
        inst = session.get(ProcessInstance, instance_id, with_for_update=True, populate_existing=True)
        if inst is None:
            raise NotFound(f"no process instance {instance_id}")
        return inst

    def _locked_instance_and_task(self, session: Session, instance_id: int | None,
                                  task_id: str) -> tuple[ProcessInstance, Task]:
        """Lock the task's instance (found through the task when `instance_id` is None), then read the task
        row again: a row read before the lock may be stale, and on PostgreSQL only a statement that starts
        after the lock is granted sees what the previous holder committed."""
        if instance_id is None:
            inst = session.scalars(select(ProcessInstance).where(
                ProcessInstance.id == select(Task.instance_id).where(Task.id == task_id).scalar_subquery())
                .with_for_update().execution_options(populate_existing=True)).one_or_none()
            if inst is None:
                raise NotFound(f"no task {task_id}")
        else:
            inst = self._locked_instance(session, instance_id)
        return inst, self._open_task(session, task_id, fresh=True)

    def _command(self, session: Session, instance_id: int | None, actor: Actor | None,
                 action: Callable[[_Context], T], *, require_running: bool = True, task_id: str | None = None) -> T:
        """Lock the instance, run `action` on its loaded state, run to the next wait state and save.
        With `task_id`, that task row is read fresh under the lock as `ctx.task` (commands on a task; the
        instance may then be given as None: the task's own)."""
        def work() -> T:
            task = None
            if task_id is None:
                inst = self._locked_instance(session, instance_id)
            else:
                inst, task = self._locked_instance_and_task(session, instance_id, task_id)
            if require_running and inst.status != "running":
                raise Conflict(f"process instance {instance_id} is {inst.status}")
            ctx = self._load(session, inst, actor)
            ctx.task = task
            result = action(ctx)
            self._advance_and_save(ctx)
            return result
        return self._transaction(session, work)

    # ------------------------------------------------------------------ stepping
    def _advance_and_save(self, ctx: _Context, *, step: bool = True) -> None:
        for _round in range(50):
            if step and ctx.instance.status == "running":
                try:
                    self._advance(ctx)
                except SQLAlchemyError:
                    raise
                except EngineError:
                    raise
                except Exception as err:  # script, service and engine failures: an incident
                    self._incident(ctx, err)
            self._sync_tasks(ctx)
            if not ctx.auto_complete or ctx.instance.status != "running":
                break
            self._run_auto_completions(ctx)
            step = True
        self._save(ctx)

    def _run_auto_completions(self, ctx: _Context) -> None:
        pending, ctx.auto_complete = ctx.auto_complete, []
        for task_id, reason in pending:
            spiff_task = ctx.workflow.get_task_from_id(UUID(task_id))
            if spiff_task is None or spiff_task.state != TaskState.READY:
                continue
            spiff_task.data.update({"approved": True, "comment": reason})
            spiff_task.run()
            ctx.completed_by[task_id] = "system"
            ctx.record("task_completed", user=None, task_id=task_id, element_id=spiff_task.task_spec.bpmn_id,
                       comment=reason, data={"variables": {"approved": True}, "automatic": True})

    def _advance(self, ctx: _Context) -> None:
        wf = ctx.workflow
        steps = 0

        def did_complete(task: Any) -> None:
            nonlocal steps
            steps += 1
            if steps > self.max_engine_steps:
                raise _EngineLoop(f"stopped after {self.max_engine_steps} engine steps without reaching a "
                                  "wait state (a loop with no user task or timer?)")
            self._note_engine_task(ctx, task)

        wf.refresh_timers()
        for _ in range(self.max_engine_steps):
            wf.do_engine_steps(did_complete_task=did_complete)
            if not any(not t.task_spec.manual for t in self._tasks(wf, TaskState.READY)):
                break

    @staticmethod
    def _tasks(wf: BpmnWorkflow, state: int) -> list:
        """Tasks of the workflow and of all its subworkflows in `state` (a TaskState mask).

        Read straight from each workflow's task dict (SpiffWorkflow keeps it equal to its tree): walking
        the tree with `get_tasks` costs several times as much, and a step asks this several times.
        """
        found = [t for t in wf.tasks.values() if t._state & state]
        for sub in wf.subprocesses.values():
            found.extend(t for t in sub.tasks.values() if t._state & state)
        return found

    def _note_engine_task(self, ctx: _Context, task: Any) -> None:
        spec = task.task_spec
        kind = type(spec).__name__
        if kind in GATEWAY_KINDS:
            taken = sorted({c.task_spec.bpmn_id or c.task_spec.name for c in task.children
                            if c.state not in (TaskState.MAYBE, TaskState.LIKELY, TaskState.CANCELLED)})
            ctx.record("gateway_passed", user=None, element_id=spec.bpmn_id, data={"taken": taken})
            return
        definition = getattr(spec, "event_definition", None)
        if definition is None or not getattr(spec, "bpmn_id", None):
            return
        dkind = type(definition).__name__
        if "Timer" in dkind:
            ctx.record("timer_fired", user=None, element_id=spec.bpmn_id)
        elif "Message" in dkind and "Catch" in kind or "Message" in dkind and "StartEvent" in kind:
            ctx.record("message_received", user=None, element_id=spec.bpmn_id,
                       data={"message": definition.name})

    def _incident(self, ctx: _Context, err: BaseException) -> None:
        element_id = None
        task = getattr(err, "task", None)
        if task is not None:
            element_id = getattr(task.task_spec, "bpmn_id", None)
        message = _incident_message(err)
        ctx.instance.status = "error"
        ctx.instance.error_message = message[:4000]
        ctx.instance.error_element_id = element_id
        ctx.record("error", user=None, element_id=element_id, data={"message": message[:4000]})
        log.warning("instance %s of %s error at %s: %s", ctx.instance.id or "(new)", ctx.instance.process_key,
                    element_id, message)

    # ------------------------------------------------------------------ projection
    def _waiting_ids(self, inst: ProcessInstance, wf: BpmnWorkflow) -> set[str]:
        """Ids of the tasks that wait for people: exactly the instance's open task rows once synced."""
        if inst.status not in ("running", "error"):
            return set()
        return {str(t.id) for t in self._tasks(wf, TaskState.READY) if t.task_spec.manual}

    def _open_rows(self, ctx: _Context) -> dict[str, Task]:
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

    def _sync_tasks(self, ctx: _Context) -> None:
        session, inst, wf = ctx.session, ctx.instance, ctx.workflow
        ready = {}
        if inst.status in ("running", "error"):
            ready = {str(t.id): t for t in self._tasks(wf, TaskState.READY) if t.task_spec.manual}
        open_rows = self._open_rows(ctx)
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
        directory = self.directory(session)
        still_open = [row for task_id, row in open_rows.items() if task_id in ready]
        with session.no_autoflush:  # new rows are written once, complete, when the step saves
            for task_id in missing:
                row = earlier.get(task_id) or Task(id=task_id)
                self._fill_task(ctx, row, ready[task_id], directory, now)
                ctx.filled.append(row)
                still_open.append(row)
        ctx.open_ids = set(ready)
        ctx.open_rows = {row.id: row for row in still_open}
        inst.open_task_rows = still_open

    def _fill_task(self, ctx: _Context, row: Task, spiff_task: Any, directory: assignment.Directory,
                   now: datetime) -> None:
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
                self._incident(ctx, RuntimeError(f"cannot resolve who works task '{row.element_id}': {err}"))
        people = self._apply_rules(ctx, row, people, directory)
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

    def _announce_tasks(self, ctx: _Context) -> None:
        """Notify the people of the task rows this step created, and queue their task.created events."""
        directory = self.directory(ctx.session)
        inst = ctx.instance
        for row in ctx.announce:
            ctx.notify(self.people_of(row, directory), "task_assigned", f"New task: {row.name}",
                       f"{inst.process_key} #{inst.id}")
            ctx.events.append(("task.created", {"task_id": row.id, "instance_id": inst.id,
                                                "element_id": row.element_id, "assignee": row.assignee,
                                                "candidate_users": row.candidate_users,
                                                "candidate_groups": row.candidate_groups}))
        ctx.announce.clear()

    @staticmethod
    def people_of(row: Task, directory: assignment.Directory) -> set[str]:
        """Everyone who may act on a task now: its assignee, or its candidate users and group members."""
        if row.assignee:
            return {row.assignee}
        people = set(row.candidate_users or [])
        for group in row.candidate_groups or []:
            people |= directory.members_of(group)
        people.discard(row.excluded_user)  # the applicant is offered no task of their own request
        return people

    def _apply_rules(self, ctx: _Context, row: Task, people: assignment.Assignment,
                     directory: assignment.Directory) -> assignment.Assignment:
        """Empty approver, self-approval and repeated-approver rules.

        Unless self-approval is allowed, the applicant never works a task of their own request that the model
        did not give to them directly: an approval assigned to them goes to their manager (or, with nobody
        there, the empty-approver rule decides), and they are no candidate, neither by name nor as a group
        member (a group left with nobody else is empty). `row.excluded_user` keeps them out for good.
        """
        starter = ctx.instance.started_by
        rules = self.rules
        guard = starter if rules.self_approval != "allow" and starter else None
        if guard and guard in people.candidate_users:
            people = assignment.Assignment(people.assignee, [u for u in people.candidate_users if u != guard],
                                           people.candidate_groups)
        if guard and people.assignee == guard and self._is_approval(ctx, row):
            if rules.self_approval == "skip":
                ctx.auto_complete.append((row.id, "approved automatically: the approver is the applicant"))
                row.excluded_user = None
                return people
            manager = directory.manager_of(starter)
            if manager:
                ctx.record("task_reassigned", user=None, task_id=row.id, element_id=row.element_id,
                           data={"from": starter, "to": manager, "rule": "approver is the applicant"})
                people = assignment.Assignment(assignee=manager)
            else:  # nobody above the applicant: whoever else is offered it, else the empty-approver rule
                people = assignment.Assignment(None, people.candidate_users, people.candidate_groups)
        row.excluded_user = guard if guard and people.assignee != guard else None
        if not people.assignee and not people.candidate_users and not self._groups_have_members(
                people.candidate_groups, directory, row.excluded_user):
            if rules.empty_approver == "skip":
                ctx.auto_complete.append((row.id, "approved automatically: no approver could be found"))
                return people
            fallback = rules.empty_approver.removeprefix("user:")
            if fallback == row.excluded_user:  # the last resort filed it: better than a task nobody may work
                row.excluded_user = None
            ctx.record("task_reassigned", user=None, task_id=row.id, element_id=row.element_id,
                       data={"from": None, "to": fallback, "rule": "no approver could be found"})
            return assignment.Assignment(assignee=fallback)
        if rules.auto_approve_repeat and people.assignee and self._is_approval(ctx, row) \
                and self._previous_approver(ctx) == people.assignee:
            ctx.auto_complete.append((row.id, f"approved automatically: {people.assignee} approved the previous step"))
        return people

    @staticmethod
    def _is_approval(ctx: _Context, row: Task) -> bool:
        """An approval task is one whose form asks for `approved`."""
        schema = ctx.loaded.forms.get(row.form or "") or {}
        return "approved" in (schema.get("properties") or {})

    @staticmethod
    def _groups_have_members(groups: list[str], directory: assignment.Directory, excluded: str | None = None) -> bool:
        return any(directory.members_of(g) - {excluded} for g in groups)

    @staticmethod
    def _previous_approver(ctx: _Context) -> str | None:
        """Who approved the step just before, if it was an approval in this same command."""
        for event in reversed(ctx.history):
            if event.type == "task_completed":
                variables = (event.data or {}).get("variables") or {}
                return event.user if variables.get("approved") is True else None
        return None

    def _save(self, ctx: _Context) -> None:
        inst, wf, session = ctx.instance, ctx.workflow, ctx.session
        completed = inst.status == "running" and wf.is_completed()
        if completed:
            inst.status = "completed"
            inst.ended_at = utcnow()
            ctx.record("completed", user=None, closing=True)
        if len(wf.tasks) + sum(len(sub.tasks) for sub in wf.subprocesses.values()) > PRUNE_ABOVE_TASKS:
            prune_finished(wf)  # finished loop iterations leave the state (the history table keeps them)
        inst.state = dump_state(wf)
        inst.variables = _visible_variables(wf)
        waiting = self._tasks(wf, TaskState.WAITING)
        active = [t for t in self._tasks(wf, TaskState.READY) + waiting if t.task_spec.bpmn_id]
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
        if inst.status in references.ENDED and not ctx.new and references.may_claim(ctx.loaded.forms):
            references.release_claims(session, inst.id)
        if inst.status != "running" and inst.status != "error" and ctx.open_ids:
            with session.no_autoflush:
                for row in session.scalars(select(Task).where(Task.instance_id == inst.id, Task.status == "open")):
                    row.status, row.completed_at = "cancelled", utcnow()
                    ctx.dropped_candidates.add(row.id)
        self._write_rows(ctx)
        self._announce_tasks(ctx)
        if completed:
            outcome = inst.variables.get("outcome")
            ctx.notify([inst.started_by or ""], "outcome",
                       f"{ctx.loaded.name or inst.process_key} #{inst.id} {outcome or 'completed'}")
        if names != ctx.subscribed:
            if ctx.subscribed:
                session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == inst.id))
            for name in sorted(names):
                session.add(MessageSubscription(instance_id=inst.id, name=name))
            ctx.subscribed = names
        for event in ctx.history + ctx.closing:
            if event.type in ("completed", "cancelled", "error", "withdrawn"):
                ctx.events.append((f"instance.{event.type}", {"instance_id": inst.id, "key": inst.process_key,
                                                              "business_key": inst.business_key,
                                                              "variables": inst.variables}))
        if ctx.history or ctx.closing:  # append-only rows nobody reads back in this step: plain INSERT, no ORM
            session.execute(insert(HistoryEvent.__table__), [
                {"instance_id": inst.id, "type": e.type, "user": e.user, "task_id": e.task_id,
                 "element_id": e.element_id, "comment": e.comment, "data": e.data, "at": e.at}
                for e in ctx.history + ctx.closing])
        ctx.history.clear()
        ctx.closing.clear()
        self.deliver_notices(session, ctx.notices, inst.id)
        ctx.notices.clear()
        for name, payload in ctx.events:
            webhooks.enqueue(session, name, payload)
        ctx.events.clear()
        session.flush()

    @staticmethod
    def _write_rows(ctx: _Context) -> None:
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

    def deliver_notices(self, session: Session, notices: list[tuple[str, str, str, str]],
                        instance_id: int | None) -> None:
        """Hand queued notifications to the notifier plugged in by the app (same transaction)."""
        if self.notifier is None or not notices:
            return
        self.notifier(session, list(notices), instance_id)

    # ------------------------------------------------------------------ commands
    def start(self, session: Session, key: str, actor: Actor, variables: dict | None = None,
              business_key: str | None = None, idempotency_key: str | None = None,
              *, message: tuple[str, dict] | None = None,
              request_hash: str | None = None, acting_user: str | None = None) -> tuple[ProcessInstance, bool]:
        """Start the latest version of `key`. Returns (instance, created); a repeated idempotency key
        returns the instance it first created (422 if `request_hash` differs from the first request's).
        With `acting_user` (an integrator acting for `actor`), the instance is `actor`'s and history records
        `acting_user` starting it on their behalf; the acting user may read the instance."""
        variables = self.start_checks.strip_computed(key, variables if variables is not None else {})
        definition = get_definition(session, key, lean=True)  # elements and forms: from the spec cache
        if idempotency_key:
            existing = self._idempotent(session, actor, idempotency_key, request_hash)
            if existing is not None:
                return existing[0], False
        loaded = self.specs.get(session, definition)
        start_meta = _start_meta(loaded)
        schema = loaded.forms.get(start_meta.form) if start_meta and start_meta.form else None
        errors = validate_data(variables, schema, RESERVED_VARIABLES)
        if errors:
            raise InvalidData("the start variables do not match the start form",
                              errors=[e.to_dict() for e in errors])
        references.check_submitted(session, schema, variables, actor.username)  # 422 before anyone approves
        business_key = references.business_key(schema, variables, business_key)

        def work() -> ProcessInstance:
            checked = self.start_checks.run(session, key, actor.username, variables)
            inst = ProcessInstance(definition_id=definition.id, process_key=definition.key, status="running",
                                   business_key=business_key, started_by=actor.username, state="{}")
            inst.definition = definition  # INSERTed when the step saves (or when an operation needs its id)
            wf = BpmnWorkflow(loaded.spec, loaded.subprocess_specs)
            box: list = []
            wf.script_engine = self._script_engine(session, inst, box)
            ctx = _Context(session, inst, wf, loaded, actor, new=True)
            box.append(ctx)
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
            self._advance_and_save(ctx)
            if acting_user:
                session.add(InstanceViewer(instance_id=inst.id, username=acting_user, added_by=acting_user))
                session.flush()
            references.record(session, inst, schema, checked)  # and claims its exclusive records
            if idempotency_key:
                idempotency.remember(session, actor.username, idempotency_key, inst.id, request_hash, True)
                session.flush()
            return inst

        try:
            inst = self._transaction(session, work)
        except (IntegrityError, InvalidData):  # a start check may refuse the twin of a concurrent retry
            if idempotency_key:
                existing = self._idempotent(session, actor, idempotency_key, request_hash)
                if existing is not None:
                    return existing[0], False
            raise
        log.info("started instance %s of %s v%s by %s", inst.id, key, definition.version, actor.username)
        return inst, True

    def start_timer_processes(self, session: Session, created: list[ProcessDefinition]) -> list[ProcessInstance]:
        """For each newly deployed definition that starts on a timer, start one instance that waits for it;
        instances of older versions still waiting at their start timer are cancelled (the new version
        replaces the schedule)."""
        started = []
        for definition in created:
            loaded = self.specs.get(session, definition)
            starts = [s for s in loaded.spec.start.outputs
                      if "Timer" in type(getattr(s, "event_definition", None)).__name__]
            if not starts:
                continue
            start_ids = {s.bpmn_id for s in starts}
            for old in session.scalars(select(ProcessInstance).where(
                    ProcessInstance.process_key == definition.key, ProcessInstance.status == "running",
                    ProcessInstance.started_by == SCHEDULER.username, ProcessInstance.definition_id != definition.id)):
                if set(old.active_element_ids or []) <= start_ids:
                    self.cancel(session, old.id, SCHEDULER, f"replaced by version {definition.version}")
            inst, _ = self.start(session, definition.key, SCHEDULER, {}, None)
            started.append(inst)
        return started

    def _idempotent(self, session: Session, actor: Actor, key: str,
                    request_hash: str | None = None) -> tuple[ProcessInstance, bool] | None:
        """What `key` first answered for `actor` (instance, started); 422 if it was another request."""
        return idempotency.replay(session, actor.username, key, request_hash)

    def _open_task(self, session: Session, task_id: str, *, fresh: bool = False) -> Task:
        """The task row; `fresh` re-reads it (do so after locking its instance, before trusting its status)."""
        row = session.get(Task, task_id, populate_existing=fresh)
        if row is None:
            raise NotFound(f"no task {task_id}")
        return row

    def complete(self, session: Session, task_id: str, actor: Actor, variables: dict | None = None,
                 comment: str | None = None) -> Task:
        """Complete a task with form data, run to the next wait state and save everything at once."""
        variables = variables if variables is not None else {}

        def action(ctx: _Context) -> Task:
            fresh = ctx.task
            self.check_task_access(session, fresh, actor)  # 404 for a task the actor may not even read
            if ctx.instance.status != "running":
                raise Conflict(f"process instance {ctx.instance.id} is {ctx.instance.status}")
            if fresh.status != "open":
                raise Conflict(f"task {task_id} is already {fresh.status}")
            self._check_may_work(fresh, actor)
            schema = ctx.loaded.forms.get(fresh.form) if fresh.form else None
            errors = validate_data(variables, schema, RESERVED_VARIABLES)
            if errors:
                raise InvalidData("the submitted data does not match the task's form",
                                  errors=[e.to_dict() for e in errors])
            references.check_submitted(session, schema, variables, actor.username)
            start_meta = _start_meta(ctx.loaded)
            references.recheck_started(session, ctx.loaded.forms.get(start_meta.form) if start_meta else None,
                                       ctx.instance.variables or {})
            spiff_task = ctx.workflow.get_task_from_id(UUID(task_id))
            if spiff_task is None or spiff_task.state != TaskState.READY:
                raise Conflict(f"task {task_id} is no longer waiting")
            if self.intercept_completion(ctx, fresh, actor, variables, comment):
                return fresh
            spiff_task.data.update(variables)
            try:
                spiff_task.run()
            except (SQLAlchemyError, EngineError):
                raise
            except Exception as err:  # the model failed on this completion: an incident, not a 500
                self._incident(ctx, err)
            references.record(session, ctx.instance, schema, variables)
            ctx.completed_by[task_id] = actor.username
            ctx.record("task_completed", task_id=task_id, element_id=fresh.element_id,
                       comment=comment, data={"variables": variables})
            return fresh

        return self._command(session, None, actor, action, require_running=False, task_id=task_id)

    def claim(self, session: Session, task_id: str, actor: Actor) -> Task:
        """Take an unassigned task the actor is a candidate for."""
        row = self._open_task(session, task_id)

        def action(ctx: _Context) -> Task:
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

        return self._command(session, row.instance_id, actor, action, task_id=task_id)

    def unclaim(self, session: Session, task_id: str, actor: Actor) -> Task:
        """Give a claimed task back to its candidates."""
        row = self._open_task(session, task_id)

        def action(ctx: _Context) -> Task:
            fresh = ctx.task
            if fresh.status != "open":
                raise Conflict(f"task {task_id} is already {fresh.status}")
            if fresh.assignee != actor.username:
                raise Forbidden("only the task's assignee can unclaim it")
            if not fresh.candidate_users and not fresh.candidate_groups:
                raise Conflict("this task has no candidates to give it back to")
            fresh.assignee = None
            ctx.record("task_unclaimed", task_id=task_id, element_id=fresh.element_id)
            return fresh

        return self._command(session, row.instance_id, actor, action, task_id=task_id)

    def cancel(self, session: Session, instance_id: int, actor: Actor, reason: str | None = None) -> ProcessInstance:
        """Cancel a running instance (its starter or an admin)."""
        def action(ctx: _Context) -> ProcessInstance:
            inst = ctx.instance
            if not (actor.is_admin or inst.started_by == actor.username):
                raise Forbidden("only the starter or an admin can cancel this instance")
            ctx.workflow.cancel()
            inst.status, inst.ended_at = "cancelled", utcnow()
            ctx.record("cancelled", comment=reason, closing=True)
            return inst

        inst = session.get(ProcessInstance, instance_id)
        if inst is None:
            raise NotFound(f"no process instance {instance_id}")
        if inst.status not in ("running", "error"):
            raise Conflict(f"process instance {instance_id} is {inst.status}")
        return self._command(session, instance_id, actor, action, require_running=False)

    def retry(self, session: Session, instance_id: int, actor: Actor) -> ProcessInstance:
        """Re-run the failed step of an instance in `error` (admin), after its data or model was fixed."""
        if not actor.is_admin:
            raise Forbidden("only an admin can retry an instance")

        def action(ctx: _Context) -> ProcessInstance:
            inst = ctx.instance
            if inst.status != "error":
                raise Conflict(f"process instance {instance_id} is {inst.status}, not in error")
            for task in self._tasks(ctx.workflow, TaskState.ERROR):
                task._set_state(TaskState.READY)  # SpiffWorkflow has no public way back from ERROR
            inst.status, inst.error_message, inst.error_element_id = "running", None, None
            ctx.record("retried")
            return inst

        return self._command(session, instance_id, actor, action, require_running=False)

    def comment(self, session: Session, instance_id: int, actor: Actor, text: str,
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
        return self._transaction(session, work)

    def correlate(self, session: Session, actor: Actor, name: str, business_key: str | None,
                  variables: dict, *, idempotency_key: str | None = None,
                  request_hash: str | None = None) -> tuple[ProcessInstance, bool]:
        """Deliver message `name`: resume the one instance waiting for it (by business key), or start
        a process that begins with it. Returns (instance, started). A repeated idempotency key answers
        what it first answered without correlating again (422 if `request_hash` differs)."""
        if not idempotency_key:
            return self._correlate(session, actor, name, business_key, variables, None, None)
        first = self._idempotent(session, actor, idempotency_key, request_hash)
        if first is not None:
            return first
        try:
            return self._correlate(session, actor, name, business_key, variables, idempotency_key, request_hash)
        except (IntegrityError, Conflict):  # the same key in a concurrent request: answer as it did
            first = self._idempotent(session, actor, idempotency_key, request_hash)
            if first is None:
                raise
            return first

    def _correlate(self, session: Session, actor: Actor, name: str, business_key: str | None, variables: dict,
                   idempotency_key: str | None, request_hash: str | None) -> tuple[ProcessInstance, bool]:
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
            def action(ctx: _Context) -> ProcessInstance:
                for task in self._tasks(ctx.workflow, TaskState.WAITING):
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
            return self._command(session, waiting[0], actor, action), False
        for definition in _definitions_started_by(session, name):
            inst, _ = self.start(session, definition.key, actor, variables, business_key, idempotency_key,
                                 message=(name, variables), request_hash=request_hash)
            return inst, True
        raise NotFound(f"no instance waits for message '{name}'"
                       + (f" with business key '{business_key}'" if business_key else "")
                       + " and no process starts with it")

    def fire_due_timers(self, session: Session, limit: int = 100) -> int:
        """Fire every due timer; each instance is claimed by one worker only. Returns instances advanced."""
        fired = 0
        for _ in range(limit):
            if not self._fire_one(session):
                break
            fired += 1
        return fired

    def _fire_one(self, session: Session) -> bool:
        def work() -> bool:
            query = (select(ProcessInstance).where(ProcessInstance.status == "running",
                                                   ProcessInstance.next_timer_at <= utcnow())
                     .order_by(ProcessInstance.next_timer_at).limit(1))
            if not _is_sqlite(session):
                query = query.with_for_update(skip_locked=True)
            inst = session.scalar(query.execution_options(populate_existing=True))
            if inst is None:
                return False
            ctx = self._load(session, inst, None)
            before = inst.next_timer_at
            self._advance_and_save(ctx)
            if inst.status == "running" and inst.next_timer_at is not None and inst.next_timer_at <= before:
                # the engine did not consider it due yet (clock skew): look again shortly
                inst.next_timer_at = utcnow() + timedelta(seconds=5)
            return True
        try:
            return self._transaction(session, work)
        except Conflict:
            return True  # another worker took it; move on

    # ------------------------------------------------------------------ permissions
    def check_task_access(self, session: Session, row: Task, actor: Actor) -> None:
        """Reading a task: its people, the instance's starter, or an admin; 404 for anyone else."""
        if actor.is_admin or self._may_see_task(row, actor):
            return
        inst = session.get(ProcessInstance, row.instance_id)
        if inst is not None and (inst.started_by == actor.username
                                 or session.get(InstanceViewer, (inst.id, actor.username)) is not None):
            return
        raise NotFound(f"no task {row.id}")

    @staticmethod
    def _may_see_task(row: Task, actor: Actor) -> bool:
        return (row.assignee == actor.username or row.completed_by == actor.username
                or row.owner == actor.username or actor.username in (row.candidate_users or [])
                or bool(set(actor.groups).intersection(row.candidate_groups or [])))

    @staticmethod
    def _check_may_work(row: Task, actor: Actor) -> None:
        if row.excluded_user == actor.username:
            raise Forbidden(f"task {row.id} belongs to your own request: someone else must work it")
        if not assignment.may_work(actor.username, set(actor.groups), row.assignee, row.candidate_users,
                                   row.candidate_groups):
            who = f"assigned to {row.assignee}" if row.assignee else "not offered to you"
            raise Forbidden(f"task {row.id} is {who}")

    def can_read_instance(self, session: Session, inst: ProcessInstance, actor: Actor) -> bool:
        """Admins, the starter, people CC'd, and anyone who has or had a task in it may read an instance."""
        if actor.is_admin or inst.started_by == actor.username:
            return True
        if session.get(InstanceViewer, (inst.id, actor.username)) is not None:
            return True
        rows = session.scalars(select(Task).where(Task.instance_id == inst.id)).all()
        return any(self._may_see_task(r, actor) for r in rows)


def evaluate_due(meta: ElementMeta | None, evaluate: Callable[[str], Any], now: datetime) -> datetime | None:
    """A task's due time from its dueDate attribute: an ISO duration/datetime or a `${...}` expression."""
    if meta is None or not meta.due_date:
        return None
    raw = meta.due_date.strip()
    match = assignment._EXPRESSION.match(raw)
    value = evaluate(match.group(1)) if match else raw
    return _parse_due(value, now)


def _message_names(wf: BpmnWorkflow) -> set[str]:
    """Names of the messages the workflow waits for (one subscription row each while it runs)."""
    return {event.name for event in wf.waiting_events() if "Message" in event.event_type}


def _timer_value(value: Any) -> datetime | None:
    try:
        if isinstance(value, dict):
            value = value.get("next")
        return _naive_utc(TimerEventDefinition.parse_time_or_duration(str(value)))
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
    return _jsonable(clean)


def _start_meta(loaded: LoadedSpec) -> ElementMeta | None:
    for meta in loaded.elements.values():
        if meta.kind == "startEvent" and meta.form:
            return meta
    return None


def _definitions_started_by(session: Session, message: str) -> list[ProcessDefinition]:
    from engine.definitions import latest_definitions
    return [d for d in latest_definitions(session) if message in (d.message_starts or [])]
