"""Approver actions on tasks and instances: transfer, delegate, add signer, return, CC, urge, batch, withdraw,
attachments."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from marshmallow import fields, validate

from api.auth import current_actor, login_required
from api.errors import ApiError
from api.extensions import db
from api.http import json_body, schema
from api.routes.instances import instance_dict, readable_instance
from api.schemas import Strict, TaskOut
from api.state import get_engine
from engine import attachments

bp = Blueprint("approvals", __name__)


class HandOver(Strict):
    to = fields.String(required=True, validate=validate.Length(min=1, max=100))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


class AddSigner(Strict):
    user = fields.String(required=True, validate=validate.Length(min=1, max=100))
    position = fields.String(required=True, validate=validate.OneOf(["before", "after"]))


class ReturnTo(Strict):
    target_element_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


class CarbonCopy(Strict):
    users = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                        validate=validate.Length(min=1, max=50))


class Batch(Strict):
    task_ids = fields.List(fields.String(validate=validate.Length(min=1, max=36)), required=True,
                           validate=validate.Length(min=1, max=100))
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


class Withdraw(Strict):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


@bp.post("/tasks/<task_id>/transfer")
@login_required
def transfer(task_id: str) -> dict:
    """转交: hand the task to another user."""
    body = json_body(HandOver)
    row = get_engine().transfer(db.session, task_id, current_actor(), body["to"], body["comment"])
    return schema(TaskOut).dump(row)


@bp.post("/tasks/<task_id>/delegate")
@login_required
def delegate(task_id: str) -> dict:
    """委派: another user works it, then it comes back to you to finish."""
    body = json_body(HandOver)
    row = get_engine().delegate(db.session, task_id, current_actor(), body["to"], body["comment"])
    return schema(TaskOut).dump(row)


@bp.post("/tasks/<task_id>/add-signer")
@login_required
def add_signer(task_id: str) -> dict:
    """加签: someone signs before you (then it returns to you) or after you."""
    body = json_body(AddSigner)
    return schema(TaskOut).dump(get_engine().add_signer(db.session, task_id, current_actor(), body["user"],
                                                  body["position"]))


@bp.get("/tasks/<task_id>/return-targets")
@login_required
def return_targets(task_id: str) -> dict:
    """Earlier user-task steps this task may be returned to."""
    items = get_engine().return_targets(db.session, task_id, current_actor())
    return {"items": items, "total": len(items)}


@bp.post("/tasks/<task_id>/return")
@login_required
def return_task(task_id: str) -> dict:
    """退回: send the instance back to an earlier step."""
    body = json_body(ReturnTo)
    inst = get_engine().return_to(db.session, task_id, current_actor(), body["target_element_id"], body["comment"])
    return instance_dict(inst)


@bp.post("/tasks/<task_id>/cc")
@login_required
def cc_task(task_id: str) -> dict:
    """抄送: let people read this task's instance."""
    body = json_body(CarbonCopy)
    from engine.models import Task
    row = db.session.get(Task, task_id)
    if row is None:
        raise ApiError(404, "Not found", f"no task {task_id}")
    get_engine().check_task_access(db.session, row, current_actor())
    added = get_engine().cc(db.session, row.instance_id, current_actor(), body["users"], task_id=task_id)
    return {"instance_id": row.instance_id, "added": added}


@bp.post("/process-instances/<int:instance_id>/cc")
@login_required
def cc_instance(instance_id: int) -> dict:
    """抄送: let people read an instance you can read."""
    body = json_body(CarbonCopy)
    readable_instance(instance_id)
    return {"instance_id": instance_id, "added": get_engine().cc(db.session, instance_id, current_actor(),
                                                                 body["users"])}


@bp.post("/tasks/<task_id>/urge")
@login_required
def urge(task_id: str) -> dict:
    """催办: remind the current approvers."""
    return schema(TaskOut).dump(get_engine().urge(db.session, task_id, current_actor()))


@bp.post("/tasks/batch-complete")
@login_required
def batch_complete() -> dict:
    """Complete several tasks with the same data; each succeeds or fails on its own."""
    body = json_body(Batch)
    results = get_engine().batch_complete(db.session, body["task_ids"], current_actor(), body["variables"],
                                          body["comment"])
    return {"results": results, "succeeded": sum(r["status"] == 200 for r in results), "total": len(results)}


@bp.post("/process-instances/<int:instance_id>/withdraw")
@login_required
def withdraw(instance_id: int) -> dict:
    """撤回: take your request back while no approver has acted."""
    body = json_body(Withdraw)
    readable_instance(instance_id)
    return instance_dict(get_engine().withdraw(db.session, instance_id, current_actor(), body["reason"]))


def _upload_dir() -> str:
    return current_app.config["OAFLOW_SETTINGS"].upload_dir


@bp.get("/process-instances/<int:instance_id>/attachments")
@login_required
def list_attachments(instance_id: int) -> dict:
    """Files attached to an instance."""
    readable_instance(instance_id)
    rows = attachments.list_for(db.session, instance_id)
    items = [{"id": r.id, "filename": r.filename, "content_type": r.content_type, "size": r.size,
              "uploaded_by": r.uploaded_by, "uploaded_at": r.uploaded_at.isoformat()} for r in rows]
    return {"items": items, "total": len(items)}


@bp.post("/process-instances/<int:instance_id>/attachments")
@login_required
def add_attachment(instance_id: int) -> tuple[dict, int]:
    """Attach a file (multipart part `file`) to an instance you can read."""
    readable_instance(instance_id)
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(422, "Validation failed", "send the file as multipart part 'file'",
                       [{"field": "file", "message": "is required"}])
    cap = int(current_app.config["OAFLOW_MAX_FILE_BYTES"])
    row = attachments.add(db.session, _upload_dir(), instance_id, current_actor().username,
                          upload.filename or "attachment", upload.read(cap + 1), cap)
    db.session.commit()
    return {"id": row.id, "filename": row.filename, "content_type": row.content_type, "size": row.size}, 201


@bp.get("/process-instances/<int:instance_id>/attachments/<int:attachment_id>")
@login_required
def download_attachment(instance_id: int, attachment_id: int) -> Response:
    """Download an attachment (as a download, never rendered inline)."""
    readable_instance(instance_id)
    row, content = attachments.read(db.session, _upload_dir(), instance_id, attachment_id)
    resp = Response(content, mimetype=row.content_type)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(row.filename)}"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _quote(name: str) -> str:
    from urllib.parse import quote
    return quote(name, safe="")
