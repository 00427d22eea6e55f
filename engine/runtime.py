"""The engine facade: one `Engine` per app, whose public methods are the engine's commands.

Each method delegates to a command module (engine/commands/*), which runs through the
`CommandExecutor` (engine/executor.py): load → act → step → save in one locked transaction.
The names callers import from here (Actor, ApprovalRules, begin_write, ...) are re-exported.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from engine import access, assignment
from engine.builtins import register_builtins
from engine.commands import approvals, external, lifecycle, messages
from engine.context import RESERVED_VARIABLES, SCHEDULER, Actor, CommandContext, IncidentError
from engine.definitions import SpecCache
from engine.executor import CommandExecutor, Notifier
from engine.instance_ends import InstanceEndHooks
from engine.models import HistoryEvent, ProcessDefinition, ProcessInstance, Task
from engine.rules import ApprovalRules
from engine.scripting import ScriptLimits
from engine.services import ServiceRegistry
from engine.start_checks import StartChecks
from engine.tasks import evaluate_due, people_of
from engine.transactions import begin_write

__all__ = ["RESERVED_VARIABLES", "SCHEDULER", "Actor", "ApprovalRules", "CommandContext", "Engine",
           "IncidentError", "Notifier", "begin_write", "evaluate_due"]


class Engine(CommandExecutor):
    """Runs BPMN instances over the database. One instance per app, shared by all threads."""

    def __init__(self, services: ServiceRegistry, directory_factory: Callable[[Session], assignment.Directory],
                 *, limits: ScriptLimits | None = None, max_engine_steps: int = 500,
                 spec_cache: SpecCache | None = None, notifier: Notifier | None = None,
                 rules: ApprovalRules | None = None, start_checks: StartChecks | None = None,
                 end_hooks: InstanceEndHooks | None = None) -> None:
        super().__init__(services, directory_factory, limits=limits, max_engine_steps=max_engine_steps,
                         spec_cache=spec_cache, notifier=notifier, rules=rules, start_checks=start_checks,
                         end_hooks=end_hooks)
        register_builtins(self.services, self)

    # ------------------------------------------------------------------ lifecycle
    def start(self, session: Session, key: str, actor: Actor, variables: dict | None = None,
              business_key: str | None = None, idempotency_key: str | None = None,
              *, message: tuple[str, dict] | None = None,
              request_hash: str | None = None, acting_user: str | None = None) -> tuple[ProcessInstance, bool]:
        """Start the latest version of `key` (see engine.commands.lifecycle.start)."""
        return lifecycle.start(self, session, key, actor, variables, business_key, idempotency_key,
                               message=message, request_hash=request_hash, acting_user=acting_user)

    def start_timer_processes(self, session: Session, created: list[ProcessDefinition]) -> list[ProcessInstance]:
        """Start the timer-started definitions just deployed (see engine.commands.lifecycle)."""
        return lifecycle.start_timer_processes(self, session, created)

    def complete(self, session: Session, task_id: str, actor: Actor, variables: dict | None = None,
                 comment: str | None = None) -> Task:
        """Complete a task with form data, run to the next wait state and save everything at once."""
        return lifecycle.complete(self, session, task_id, actor, variables, comment)

    def claim(self, session: Session, task_id: str, actor: Actor, *, row: Task | None = None) -> Task:
        """Take an unassigned task the actor is a candidate for (`row`: the task, if already read)."""
        return lifecycle.claim(self, session, task_id, actor, row)

    def unclaim(self, session: Session, task_id: str, actor: Actor, *, row: Task | None = None) -> Task:
        """Give a claimed task back to its candidates (`row`: the task, if already read)."""
        return lifecycle.unclaim(self, session, task_id, actor, row)

    def cancel(self, session: Session, instance_id: int, actor: Actor, reason: str | None = None) -> ProcessInstance:
        """Cancel a running instance (its starter or an admin)."""
        return lifecycle.cancel(self, session, instance_id, actor, reason)

    def retry(self, session: Session, instance_id: int, actor: Actor) -> ProcessInstance:
        """Re-run the failed step of an instance in `error` (admin)."""
        return lifecycle.retry(self, session, instance_id, actor)

    def comment(self, session: Session, instance_id: int, actor: Actor, text: str,
                task_id: str | None = None) -> HistoryEvent:
        """Add a comment to an instance's history."""
        return lifecycle.comment(self, session, instance_id, actor, text, task_id)

    # ------------------------------------------------------------------ messages and timers
    def correlate(self, session: Session, actor: Actor, name: str, business_key: str | None,
                  variables: dict, *, idempotency_key: str | None = None,
                  request_hash: str | None = None) -> tuple[ProcessInstance, bool]:
        """Deliver message `name` (see engine.commands.messages.correlate). Returns (instance, started)."""
        return messages.correlate(self, session, actor, name, business_key, variables,
                                  idempotency_key=idempotency_key, request_hash=request_hash)

    def fire_due_timers(self, session: Session, limit: int = 100) -> int:
        """Fire every due timer; returns the instances advanced."""
        return messages.fire_due_timers(self, session, limit)

    # ------------------------------------------------------------------ approver actions
    def transfer(self, session: Session, task_id: str, actor: Actor, to: str, comment: str | None = None) -> Task:
        """转交: hand the task to someone else for good."""
        return approvals.transfer(self, session, task_id, actor, to, comment)

    def delegate(self, session: Session, task_id: str, actor: Actor, to: str, comment: str | None = None) -> Task:
        """委派: someone else works the task, then it comes back to the delegator."""
        return approvals.delegate(self, session, task_id, actor, to, comment)

    def add_signer(self, session: Session, task_id: str, actor: Actor, user: str, position: str) -> Task:
        """加签: another approver signs before or after the actor."""
        return approvals.add_signer(self, session, task_id, actor, user, position)

    def return_targets(self, session: Session, task_id: str, actor: Actor) -> list[dict]:
        """Earlier user-task nodes the instance may be returned to."""
        return approvals.return_targets(self, session, task_id, actor)

    def return_to(self, session: Session, task_id: str, actor: Actor, target_element_id: str,
                  comment: str | None = None) -> ProcessInstance:
        """退回: send the instance back to an earlier user task."""
        return approvals.return_to(self, session, task_id, actor, target_element_id, comment)

    def cc(self, session: Session, instance_id: int, actor: Actor, users: list[str],
           task_id: str | None = None) -> list[str]:
        """抄送: let people read the instance and tell them about it."""
        return approvals.cc(self, session, instance_id, actor, users, task_id)

    def urge(self, session: Session, task_id: str, actor: Actor) -> Task:
        """催办: remind the people a task waits for."""
        return approvals.urge(self, session, task_id, actor)

    def batch_complete(self, session: Session, task_ids: list[str], actor: Actor, variables: dict,
                       comment: str | None = None) -> list[dict]:
        """Complete several tasks with the same data; each succeeds or fails on its own."""
        return approvals.batch_complete(self, session, task_ids, actor, variables, comment)

    def withdraw(self, session: Session, instance_id: int, actor: Actor, reason: str | None = None) -> ProcessInstance:
        """撤回: the applicant takes the request back while no approver has acted on it."""
        return approvals.withdraw(self, session, instance_id, actor, reason)

    # ------------------------------------------------------------------ access
    # ------------------------------------------------------------------ external tasks
    def complete_external(self, session: Session, actor: Actor, task_id: str, worker_id: str,
                          variables: dict) -> None:
        """An external worker completed its task (see engine.commands.external)."""
        external.complete(self, session, actor, task_id, worker_id, variables)

    def external_bpmn_error(self, session: Session, actor: Actor, task_id: str, worker_id: str, code: str,
                            message: str | None, variables: dict) -> None:
        """An external worker threw a BPMN error (see engine.commands.external)."""
        external.bpmn_error(self, session, actor, task_id, worker_id, code, message, variables)

    def check_task_access(self, session: Session, row: Task, actor: Actor) -> None:
        """Reading a task: its people, the instance's starter, or an admin; 404 for anyone else."""
        access.check_task_access(session, row, actor)

    def can_read_instance(self, session: Session, inst: ProcessInstance, actor: Actor) -> bool:
        """Admins, the starter, people CC'd, and anyone who has or had a task in it may read an instance."""
        return access.can_read_instance(session, inst, actor)

    @staticmethod
    def people_of(row: Task, directory: assignment.Directory) -> set[str]:
        """Everyone who may act on a task now."""
        return people_of(row, directory)
