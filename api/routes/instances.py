"""Process instances: list, read, history, comments, cancel and retry."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from api.auth import current_actor, login_required
from api.extensions import db
from api.http import json_body, paginate, query_args, schema
from api.schemas import CancelRequest, CommentRequest, HistoryOut, InstanceListArgs, InstanceOut, TaskOut
from api.state import get_engine
from engine.access import readable_instances
from engine.errors import NotFound
from engine.models import HistoryEvent, ProcessInstance, Task

bp = Blueprint("instances", __name__)


def readable_instance(instance_id: int) -> ProcessInstance:
    """The instance if the caller may read it; 404 otherwise (no hint that it exists)."""
    inst = db.session.get(ProcessInstance, instance_id)
    if inst is None or not get_engine().can_read_instance(db.session, inst, current_actor()):
        raise NotFound(f"no process instance {instance_id}")
    return inst


def instance_dict(inst: ProcessInstance) -> dict:
    """An instance with its open tasks."""
    out = schema(InstanceOut).dump(inst)
    tasks = inst.open_task_rows  # known when the engine just ran a command on it
    if tasks is None:
        tasks = db.session.scalars(select(Task).where(Task.instance_id == inst.id, Task.status == "open")).all()
    tasks = [t for t in tasks if t.status == "open"]
    out["active_tasks"] = schema(TaskOut, many=True).dump(tasks)
    return out


@bp.get("/process-instances")
@login_required
def list_instances() -> dict:
    """Instances the caller may read, filtered by key, status, business key, starter."""
    args = query_args(InstanceListArgs)
    actor = current_actor()
    query = select(ProcessInstance).order_by(ProcessInstance.id.desc())
    for name, column in (("key", ProcessInstance.process_key), ("status", ProcessInstance.status),
                         ("business_key", ProcessInstance.business_key),
                         ("started_by", ProcessInstance.started_by)):
        if args.get(name) is not None:
            query = query.where(column == args[name])
    if not actor.is_admin:  # the same rule as reading one instance, as a condition in SQL
        query = query.where(readable_instances(actor))
    return paginate(query, args["page"], args["per_page"], schema(InstanceOut, many=True).dump)


@bp.get("/process-instances/<int:instance_id>")
@login_required
def get_instance(instance_id: int) -> dict:
    """One instance, with variables, active tasks and active element ids."""
    return instance_dict(readable_instance(instance_id))


@bp.get("/process-instances/<int:instance_id>/history")
@login_required
def history(instance_id: int) -> dict:
    """The instance's append-only history, oldest first."""
    readable_instance(instance_id)
    rows = db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
                              .order_by(HistoryEvent.id)).all()
    return {"items": schema(HistoryOut, many=True).dump(rows), "total": len(rows)}


@bp.get("/process-instances/<int:instance_id>/comments")
@login_required
def comments(instance_id: int) -> dict:
    """Comments on the instance and its tasks."""
    readable_instance(instance_id)
    rows = db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.instance_id == instance_id, HistoryEvent.comment.is_not(None)).order_by(HistoryEvent.id)).all()
    return {"items": schema(HistoryOut, many=True).dump(rows), "total": len(rows)}


@bp.post("/process-instances/<int:instance_id>/comments")
@login_required
def add_comment(instance_id: int) -> tuple[dict, int]:
    """Comment on an instance the caller may read."""
    body = json_body(CommentRequest)
    readable_instance(instance_id)
    event = get_engine().comment(db.session, instance_id, current_actor(), body["text"])
    return schema(HistoryOut).dump(event), 201


@bp.post("/process-instances/<int:instance_id>/cancel")
@login_required
def cancel(instance_id: int) -> dict:
    """Cancel a running instance (its starter or an admin)."""
    body = json_body(CancelRequest)
    readable_instance(instance_id)
    inst = get_engine().cancel(db.session, instance_id, current_actor(), body["reason"])
    return instance_dict(inst)


@bp.post("/process-instances/<int:instance_id>/retry")
@login_required
def retry(instance_id: int) -> dict:
    """Re-run the failed step of an instance in error (admin)."""
    readable_instance(instance_id)
    inst = get_engine().retry(db.session, instance_id, current_actor())
    return instance_dict(inst)
