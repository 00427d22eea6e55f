"""Tasks: the caller's work list, one task with its form, claim/unclaim, complete, comments."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import or_, select

from api.auth import current_actor, login_required
from api.errors import ApiError
from api.extensions import db
from api.http import json_body, paginate, query_args, schema
from api.schemas import CommentRequest, CompleteRequest, HistoryOut, TaskListArgs, TaskOut
from api.state import get_engine
from crm.orders import task_credit
from engine.errors import NotFound
from engine.models import HistoryEvent, ProcessInstance, Task, TaskCandidate

bp = Blueprint("tasks", __name__)


def _who(value: str | None) -> str | None:
    actor = current_actor()
    if value is None:
        return None
    name = actor.username if value == "me" else value
    if name != actor.username and not actor.is_admin:
        raise ApiError(403, "Forbidden", "you may only list your own tasks")
    return name


def _candidate_filter(username: str, groups: list[str]):  # noqa: ANN202
    # never offered: a task of the user's own request (the applicant may not work it)
    return Task.id.in_(select(TaskCandidate.task_id).where(or_(
        (TaskCandidate.kind == "user") & (TaskCandidate.value == username),
        (TaskCandidate.kind == "group") & (TaskCandidate.value.in_(groups))))) & or_(
        Task.excluded_user.is_(None), Task.excluded_user != username)


@bp.get("/tasks")
@login_required
def list_tasks() -> dict:
    """?assignee=me: tasks assigned to me; ?candidate=me: unclaimed tasks offered to me; neither: both."""
    args = query_args(TaskListArgs)
    actor = current_actor()
    assignee, candidate = _who(args.get("assignee")), _who(args.get("candidate"))
    query = select(Task).order_by(Task.created_at.desc(), Task.id)
    if args["status"] != "all":
        query = query.where(Task.status == args["status"])
    if args.get("key"):
        query = query.where(Task.process_key == args["key"])
    if args.get("instance_id"):
        query = query.where(Task.instance_id == args["instance_id"])
    groups = sorted(actor.groups)
    if candidate and candidate != actor.username:
        from oa.org import OrgDirectory
        groups = sorted(OrgDirectory(db.session).groups_of(candidate))
    if args["status"] == "completed" and assignee is None and candidate is None:
        query = query.where(Task.completed_by == actor.username) if not actor.is_admin else query
    elif assignee and candidate:
        query = query.where(or_(Task.assignee == assignee,
                                Task.assignee.is_(None) & _candidate_filter(candidate, groups)))
    elif assignee:
        query = query.where(Task.assignee == assignee)
    elif candidate:
        query = query.where(Task.assignee.is_(None), _candidate_filter(candidate, groups))
    elif args.get("instance_id") is None or not actor.is_admin:
        query = query.where(or_(Task.assignee == actor.username,
                                Task.assignee.is_(None) & _candidate_filter(actor.username, groups)))
    return paginate(query, args["page"], args["per_page"], schema(TaskOut, many=True).dump)


def _readable_task(task_id: str) -> Task:
    """The task if the caller may read it (404 otherwise)."""
    row = db.session.get(Task, task_id)
    if row is None:
        raise NotFound(f"no task {task_id}")
    get_engine().check_task_access(db.session, row, current_actor())
    return row


@bp.get("/tasks/<task_id>")
@login_required
def get_task(task_id: str) -> dict:
    """One task with its form (JSON Schema + UI schema) and the instance's variables."""
    row = _readable_task(task_id)
    inst = db.session.get(ProcessInstance, row.instance_id)
    forms = inst.definition.forms
    out = schema(TaskOut).dump(row)
    out["form"] = {"name": row.form, "schema": forms.get(row.form or ""), "ui_schema": forms.get(row.ui_form or "")}
    out["variables"] = inst.variables
    credit = task_credit(db.session, inst.definition.key, inst.variables or {})
    if credit is not None:  # an order's approval: the customer's credit now, never a copy from submit time
        out["variables"] = {**(inst.variables or {}), "credit": credit}
    out["business_key"] = inst.business_key
    out["started_by"] = inst.started_by
    return out


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> dict:
    """Take an unclaimed task offered to you."""
    row = _readable_task(task_id)  # handed to the engine: it locks the row's instance, then reads the task afresh
    return schema(TaskOut).dump(get_engine().claim(db.session, task_id, current_actor(), row=row))


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str) -> dict:
    """Give a task you claimed back to its candidates."""
    row = _readable_task(task_id)  # handed to the engine: it locks the row's instance, then reads the task afresh
    return schema(TaskOut).dump(get_engine().unclaim(db.session, task_id, current_actor(), row=row))


@bp.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id: str) -> dict:
    """Complete a task with form data; the instance runs to its next wait state."""
    body = json_body(CompleteRequest)
    row = get_engine().complete(db.session, task_id, current_actor(), body["variables"], body["comment"])
    return schema(TaskOut).dump(row)


@bp.get("/tasks/<task_id>/comments")
@login_required
def task_comments(task_id: str) -> dict:
    """Comments on a task."""
    _readable_task(task_id)
    rows = db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.task_id == task_id, HistoryEvent.comment.is_not(None)).order_by(HistoryEvent.id)).all()
    return {"items": schema(HistoryOut, many=True).dump(rows), "total": len(rows)}


@bp.post("/tasks/<task_id>/comments")
@login_required
def add_task_comment(task_id: str) -> tuple[dict, int]:
    """Comment on a task you can see."""
    body = json_body(CommentRequest)
    row = _readable_task(task_id)
    event = get_engine().comment(db.session, row.instance_id, current_actor(), body["text"], task_id=task_id)
    return schema(HistoryOut).dump(event), 201
