"""Service-task registry: BPMN service tasks call operations registered here by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.validation import OperationSignature


@dataclass
class ServiceCall:
    """What an operation receives: its parameters, the calling instance and the database session."""

    params: dict[str, Any]
    instance_id: int | None
    business_key: str | None
    started_by: str | None
    session: Any
    task_data: dict[str, Any] = field(default_factory=dict)
    # the user whose command runs this step (e.g. who completed the user task just before); None for the system
    actor: str | None = None
    # record(type, data=...) appends to the instance history in order with the step's other events
    record: Callable[..., None] | None = None
    # notify(users, kind, title, body) queues in-app notifications, written with the step's others if the
    # operation succeeds
    notify: Callable[[list[str], str, str, str], None] | None = None
    # the key of the calling instance's process (an operation meant for one flow only checks it)
    process_key: str | None = None


Operation = Callable[[ServiceCall], Any]
# precheck(session, username of the starter, the parameters whose values are known at start) -> (param, message)
# for each one the operation would refuse; run when an instance starts, before anyone spends time approving it
Precheck = Callable[[Any, str, dict[str, Any]], list[tuple[str, str]]]


@dataclass
class RegisteredOperation:
    """An operation with the parameters it declares."""

    name: str
    func: Operation
    params: frozenset[str]
    required: frozenset[str]
    doc: str = ""
    precheck: Precheck | None = None
    # False only for operations that write no records (a message to people: notify, cc); a return (退回) never
    # reaches back across a completed step whose operation writes records (engine.return_bounds)
    writes_records: bool = True


class ServiceRegistry:
    """Operations by name. Domain packages register theirs through the app factory."""

    def __init__(self) -> None:
        self._ops: dict[str, RegisteredOperation] = {}

    def register(self, name: str, func: Operation, *, params: set[str] | None = None,
                 required: set[str] | None = None, doc: str = "", precheck: Precheck | None = None,
                 writes_records: bool = True) -> None:
        """Register `func` under `name`, declaring the parameters it takes; `precheck` judges at start the
        parameters a flow fills from its start data (see engine.service_prechecks); `writes_records=False` says
        the operation only tells people something (a return may then go back across its step)."""
        required = set(required or ())
        allowed = set(params or ()) | required
        self._ops[name] = RegisteredOperation(name, func, frozenset(allowed), frozenset(required),
                                              doc or (func.__doc__ or "").strip(), precheck, writes_records)

    def get(self, name: str) -> RegisteredOperation | None:
        """The operation registered under `name`, if any."""
        return self._ops.get(name)

    def signatures(self) -> Mapping[str, OperationSignature]:
        """Signatures of every operation, for deploy-time validation."""
        return {n: OperationSignature(n, op.params, op.required) for n, op in self._ops.items()}

    def names(self) -> list[str]:
        """Registered operation names, sorted."""
        return sorted(self._ops)
