"""The command executor: every engine operation runs as one locked, all-or-nothing transaction.

It opens the transaction, locks and loads the instance, runs the command's action on a
`CommandContext`, steps the engine to the next wait state, then saves state, task rows, history and
subscriptions together. Script and service failures become incidents (instance status `error`) that
are saved; every other failure rolls the whole transaction back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine import (
    assignment,
    call_recursion,  # noqa: F401  (on import, caps call-activity nesting)
    spiff_compat,  # noqa: F401  (on import, lifts SpiffWorkflow's task-iterator depth cap)
    timer_cycles,  # noqa: F401  (on import, cron timeCycles)
)
from engine.access import open_task
from engine.context import Actor, CommandContext
from engine.definitions import LoadedSpec, SpecCache
from engine.errors import Conflict, EngineError, NotFound
from engine.external_tasks import sync_external_tasks
from engine.instance_ends import InstanceEndHooks
from engine.models import ProcessInstance, Task
from engine.rules import ApprovalRules
from engine.saving import message_names, save
from engine.script_adapter import CommandScriptEngine
from engine.scripting import SandboxEnvironment, ScriptLimits
from engine.serialization import load_state
from engine.services import ServiceRegistry
from engine.start_checks import StartChecks
from engine.stepping import advance, run_auto_completions
from engine.tasks import sync_tasks, waiting_ids
from engine.transactions import run_transaction

T = TypeVar("T")

# (session, [(user, kind, title, body), ...], instance id): writes the notifications in the session's transaction
Notifier = Callable[[Session, list[tuple[str, str, str, str]], int | None], Any]


class CommandExecutor:
    """Runs commands over the database: load → act → step → save, in one transaction.

    `max_engine_steps` bounds one run to the next wait state, so a loop without a user task or timer
    becomes an incident instead of a worker spinning forever.
    """

    def __init__(self, services: ServiceRegistry, directory_factory: Callable[[Session], assignment.Directory],
                 *, limits: ScriptLimits | None = None, max_engine_steps: int = 500,
                 spec_cache: SpecCache | None = None, notifier: Notifier | None = None,
                 rules: ApprovalRules | None = None, start_checks: StartChecks | None = None,
                 end_hooks: InstanceEndHooks | None = None) -> None:
        self.services = services
        self.start_checks = start_checks or StartChecks()
        self.end_hooks = end_hooks or InstanceEndHooks()
        self.directory_factory = directory_factory
        self.limits = limits or ScriptLimits()
        self.max_engine_steps = max_engine_steps
        self.specs = spec_cache or SpecCache()
        self.notifier = notifier
        self.rules = rules or ApprovalRules()

    def directory(self, session: Session) -> assignment.Directory:
        """The org chart (its look-ups are cached per process: see oa.org)."""
        return self.directory_factory(session)

    def deliver_notices(self, session: Session, notices: list[tuple[str, str, str, str]],
                        instance_id: int | None) -> None:
        """Hand queued notifications to the notifier plugged in by the app (same transaction)."""
        if self.notifier is None or not notices:
            return
        self.notifier(session, list(notices), instance_id)

    def transaction(self, session: Session, work: Callable[[], T]) -> T:
        """Run `work` in one write transaction (see engine.transactions.run_transaction)."""
        return run_transaction(session, work)

    def run(self, session: Session, instance_id: int | None, actor: Actor | None,
            action: Callable[[CommandContext], T], *, require_running: bool = True, task_id: str | None = None) -> T:
        """Lock the instance, run `action` on its loaded state, run to the next wait state and save.
        With `task_id`, that task row is read fresh under the lock as `ctx.task` (commands on a task; the
        instance may then be given as None: the task's own)."""
        def work() -> T:
            task = None
            if task_id is None:
                inst = self.locked_instance(session, instance_id)
            else:
                inst, task = self._locked_instance_and_task(session, instance_id, task_id)
            if require_running and inst.status != "running":
                raise Conflict(f"process instance {instance_id} is {inst.status}")
            ctx = self.load(session, inst, actor)
            ctx.task = task
            result = action(ctx)
            self.advance_and_save(ctx)
            return result
        return self.transaction(session, work)

    # ------------------------------------------------------------------ load
    def context(self, session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, loaded: LoadedSpec,
                actor: Actor | None, **kw: Any) -> CommandContext:
        """A context for `workflow`, whose script engine is bound to it (service calls record into it)."""
        box: list[CommandContext] = []
        directory = self.directory(session)
        env_globals: dict[str, Any] = dict(assignment.helper_functions(directory))
        env_globals["business_key"] = instance.business_key
        workflow.script_engine = CommandScriptEngine(SandboxEnvironment(globals=env_globals, limits=self.limits),
                                                     self.services, lambda: box[0])
        ctx = CommandContext(session, instance, workflow, loaded, actor, **kw)
        box.append(ctx)
        return ctx

    def load(self, session: Session, instance: ProcessInstance, actor: Actor | None) -> CommandContext:
        """The instance's state loaded into a context (the instance already locked)."""
        loaded = self.specs.for_id(session, instance.definition_id)
        workflow = load_state(instance.state, loaded.spec, loaded.subprocess_specs)
        subscribed = message_names(workflow) if instance.status == "running" else set()
        return self.context(session, instance, workflow, loaded, actor, subscribed=subscribed,
                            open_ids=waiting_ids(instance, workflow))

    def locked_instance(self, session: Session, instance_id: int | None) -> ProcessInstance:
        """The instance row, locked for this transaction (404 if none)."""
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
            inst = self.locked_instance(session, instance_id)
        return inst, open_task(session, task_id, fresh=True)

    # ------------------------------------------------------------------ step and save
    def advance_and_save(self, ctx: CommandContext, *, step: bool = True) -> None:
        """Step to the next wait state (a failure there is the instance's incident), sync the task rows,
        complete what the rules approved automatically, and save."""
        directory = self.directory(ctx.session)
        for _round in range(50):
            if step and ctx.instance.status == "running":
                try:
                    advance(ctx, self.max_engine_steps)
                except (SQLAlchemyError, EngineError):
                    raise
                except Exception as err:  # script, service and engine failures: an incident
                    ctx.fail(err)
            sync_tasks(ctx, directory, self.rules)
            if not ctx.auto_complete or ctx.instance.status != "running":
                break
            run_auto_completions(ctx)
            step = True
        save(ctx, directory, self.deliver_notices)
        sync_external_tasks(ctx)  # after save: a new instance has its id only then
        if ctx.ended is not None:  # cancelled or withdrawn: the domain lets go of what the flow held
            self.end_hooks.run(ctx.session, ctx.instance, ctx.ended, ctx.actor.username if ctx.actor else None)
            ctx.session.flush()
