"""Incidents: fixing the data of an instance stopped in `error` so an admin can retry it.

The failed step is the task SpiffWorkflow left in state ERROR (a script or service task). Its data is
what the step sees when it runs again, so fixing an incident means updating that task's data; the
instance row's visible variables are refreshed to match. Everything happens in one write
transaction with the instance row locked (and its optimistic-lock version bumped).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from engine.context import RESERVED_VARIABLES, Actor, jsonable
from engine.definitions import SpecCache
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import HistoryEvent, ProcessInstance
from engine.serialization import dump_state, load_state
from engine.transactions import begin_write
from forms.validation import validate_data


def _error_tasks(workflow: Any) -> list:
    found = list(workflow.get_tasks(state=TaskState.ERROR))
    for sub in workflow.subprocesses.values():
        found.extend(t for t in sub.get_tasks(state=TaskState.ERROR) if t not in found)
    return found


def set_incident_variables(session: Session, specs: SpecCache, instance_id: int, actor: Actor,
                           variables: dict) -> ProcessInstance:
    """Merge `variables` into the data of the failed task(s) of an instance in `error` (admin only).

    Raises Forbidden for non-admins, NotFound for an unknown instance, Conflict unless the instance is
    in `error`, InvalidData for variables that are not plain JSON with identifier names.
    """
    if not actor.is_admin:
        raise Forbidden("only an admin can change the variables of an instance")
    errors = validate_data(variables, None, RESERVED_VARIABLES)
    if errors:
        raise InvalidData("invalid variables", errors=[e.to_dict() for e in errors])
    begin_write(session)
    try:
        inst = session.get(ProcessInstance, instance_id, with_for_update=True, populate_existing=True)
        if inst is None:
            raise NotFound(f"no process instance {instance_id}")
        if inst.status != "error":
            raise Conflict(f"process instance {instance_id} is {inst.status}; only instances in error "
                           "can have their variables changed")
        loaded = specs.get(session, inst.definition)
        workflow = load_state(inst.state, loaded.spec, loaded.subprocess_specs)
        failed = _error_tasks(workflow)
        if not failed:
            raise Conflict(f"process instance {instance_id} has no failed step to fix")
        for task in failed:
            task.data.update(variables)
        inst.state = dump_state(workflow)
        visible = dict(inst.variables or {})
        visible.update(jsonable(variables))
        inst.variables = visible
        session.add(HistoryEvent(instance_id=inst.id, type="variables_changed", user=actor.username,
                                 element_id=failed[0].task_spec.bpmn_id,
                                 data={"variables": jsonable(variables)}))
        session.flush()
        session.commit()
        return inst
    except BaseException:
        session.rollback()
        raise
