"""The script engine a command's workflow runs with: sandboxed scripts, and service tasks routed to the
operation registry within the command's transaction."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from sqlalchemy.exc import OperationalError

from engine.context import (
    FAILED_OPERATIONS,
    CommandContext,
    OperationFailed,
    RecordedFailure,
    incident_message,
    jsonable,
)
from engine.errors import EngineError
from engine.scripting import SandboxEnvironment, SandboxScriptEngine
from engine.services import ServiceCall, ServiceRegistry

log = logging.getLogger("oaflow.engine")


class CommandScriptEngine(SandboxScriptEngine):
    """Sandboxed scripts plus service tasks routed to the registry, within the step's transaction."""

    def __init__(self, environment: SandboxEnvironment, services: ServiceRegistry,
                 ctx_getter: Callable[[], CommandContext]) -> None:
        super().__init__(environment=environment)
        self.services = services
        self.ctx_getter = ctx_getter

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):  # noqa: ANN001
        """Run a registered operation; its result is stored JSON-encoded, as SpiffWorkflow expects."""
        op = self.services.get(operation_name or "")
        if op is None:
            raise WorkflowTaskException(f"unknown service operation '{operation_name}'", task=task)
        ctx = self.ctx_getter()
        params = {k: v.get("value") for k, v in (operation_params or {}).items()}
        notices: list[tuple[list[str], str, str, str]] = []
        call = ServiceCall(params=params, instance_id=ctx.instance_id(), business_key=ctx.instance.business_key,
                           process_key=ctx.instance.process_key,
                           started_by=ctx.instance.started_by, session=ctx.session, task_data=task.data,
                           actor=ctx.actor.username if ctx.actor is not None else None,
                           record=lambda type_, **kw: ctx.record(type_, user=None,
                                                                 element_id=task.task_spec.bpmn_id, **kw),
                           notify=lambda users, kind, title, body="": notices.append((users, kind, title, body)))
        element = task.task_spec.bpmn_id or task.task_spec.name
        ctx.operation_runs[element] = run = ctx.operation_runs.get(element, 0) + 1
        failed = FAILED_OPERATIONS.get()
        if failed is not None and (element, run) in failed:  # it failed in an earlier attempt of this command
            raise RecordedFailure(failed[(element, run)], task)
        try:
            result = op.func(call)
        except OperationalError:
            raise  # the database itself is unreachable: the whole step fails (503), nothing is saved
        except Exception as err:  # refused data or the operation's own failure: an incident
            raise _failure(task, operation_name, element, run, err) from err
        for users, kind, title, body in notices:
            ctx.notify(users, kind, title, body)
        ctx.record("service_called", element_id=task.task_spec.bpmn_id,
                   data={"operation": operation_name, "params": jsonable(params)})
        return json.dumps(jsonable(result))


def _failure(task: Any, operation_name: str | None, element: str, run: int, err: Exception) -> OperationFailed:
    """The failed run as the command's retry signal: its writes (and on PostgreSQL the transaction itself)
    are spoilt, so the command runs again from the start in a new transaction, where this run of the
    operation is the incident."""
    if isinstance(err, EngineError):
        failure = WorkflowTaskException(f"service operation '{operation_name}' refused: {err.detail}",
                                        task=task, exception=err)
    else:
        detail = str(getattr(err, "orig", None) or err).strip().splitlines()[0][:500]
        failure = WorkflowTaskException(f"service operation '{operation_name}' failed: {detail}",
                                        task=task, exception=err)
    log.info("service operation %s failed at %s; the command runs again with it as the incident",
             operation_name, element, exc_info=err)
    return OperationFailed((element, run), incident_message(failure))
