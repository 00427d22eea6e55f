"""The command context: who acts, on which loaded instance, and what the step has to write when it saves.

A command's action receives a `CommandContext`; everything a step records (history, notifications,
webhook events, task rows to write) is collected on it and written together when the step saves.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from sqlalchemy.orm import Session

from engine.definitions import LoadedSpec
from engine.models import ProcessInstance, Task
from store.base import utcnow
from store.direct import insert_now

log = logging.getLogger("oaflow.engine")

RESERVED_VARIABLES = frozenset({"initiator", "business_key", "manager_of", "dept_head_of",
                                "nth_manager_of", "groups_of", "members_of"})


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


class EngineLoop(IncidentError):
    """A run went past `max_engine_steps` without reaching a wait state."""


class OperationFailed(BaseException):
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


class RecordedFailure(Exception):
    """The operation that failed in an earlier attempt of the command: now the instance's incident."""

    def __init__(self, message: str, task: Any) -> None:
        super().__init__(message)
        self.message = message
        self.task = task


# (element id, nth run of it in the command) -> incident message, for the attempts of the current command
FAILED_OPERATIONS: ContextVar[dict[tuple[str, int], str] | None] = ContextVar("oaflow_failed_operations",
                                                                              default=None)


@dataclass
class HistoryRecord:
    """A history event recorded during a step; written with the others in one INSERT when the step saves."""

    type: str
    user: str | None
    task_id: str | None = None
    element_id: str | None = None
    comment: str | None = None
    data: dict | None = None
    at: datetime = field(default_factory=utcnow)


@dataclass
class CommandContext:
    """One command's view of its locked, loaded instance and what its step will save."""

    session: Session
    instance: ProcessInstance
    workflow: BpmnWorkflow
    loaded: LoadedSpec
    actor: Actor | None
    history: list[HistoryRecord] = field(default_factory=list)
    closing: list[HistoryRecord] = field(default_factory=list)  # recorded after the task events
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
    ended: str | None = None  # how a cancel/withdraw ended the instance (engine.instance_ends.ENDINGS)

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
        event = HistoryRecord(type=type_, user=kw.pop("user", self.actor.username if self.actor else None), **kw)
        (self.closing if closing else self.history).append(event)

    def fail(self, err: BaseException) -> None:
        """Stop the instance with an incident for `err` (saved with the step)."""
        element_id = None
        task = getattr(err, "task", None)
        if task is not None:
            element_id = getattr(task.task_spec, "bpmn_id", None)
        message = incident_message(err)
        self.instance.status = "error"
        self.instance.error_message = message[:4000]
        self.instance.error_element_id = element_id
        self.record("error", user=None, element_id=element_id, data={"message": message[:4000]})
        log.warning("instance %s of %s error at %s: %s", self.instance.id or "(new)", self.instance.process_key,
                    element_id, message)


def incident_message(err: BaseException) -> str:
    """What an instance's incident says about the error that stopped it."""
    if isinstance(err, RecordedFailure):
        return err.message
    message = str(err) or type(err).__name__
    if isinstance(err, WorkflowException) and getattr(err, "exception", None) is not None:
        inner = err.exception
        if str(inner) and str(inner) not in message:
            message = f"{message}: {inner}"
    return message


def jsonable(value: Any) -> Any:
    """`value` as plain JSON data (anything JSON cannot hold becomes its string)."""
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)
