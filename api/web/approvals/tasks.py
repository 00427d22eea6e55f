"""My tasks: the task list (filters, batch approve), the task page with its form, and the approver actions
(claim, give back, comment, transfer, delegate, add a signer, return, CC, urge).

Pages call the same engine functions as the v1 API, with the same permission checks
(engine.check_task_access): a task I may not see is 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, fields, validate

from api.extensions import db
from api.http import query_args
from api.state import get_engine
from api.web.blueprint import bp
from api.web.common import queries as q
from api.web.common.schema_forms import all_paths, append_row, build_fields, errors_by_field, parse_submission
from api.web.common.session import actor
from engine import definitions
from engine.models import ProcessDefinition, ProcessInstance, Task
from store.errors import InvalidData, NotFound

MAX_COMMENT = 4000


class TaskFilter(Schema):
    """Query arguments of the task list."""

    class Meta:
        unknown = RAISE

    key = fields.String(validate=validate.Length(max=255))
    due = fields.String(validate=validate.OneOf(["", "overdue", "today", "week", "none"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


PER_PAGE = 25


@bp.get("/tasks")
def tasks() -> str:
    """My open tasks with filters by process and due date."""
    args = query_args(TaskFilter)
    query = q.my_tasks_query(actor(), args.get("key") or None, args.get("due") or None)
    total = q.count(db.session, query)
    rows = db.session.scalars(query.limit(PER_PAGE).offset((args["page"] - 1) * PER_PAGE)).all()
    keys = [d.key for d in definitions.latest_definitions(db.session)]
    return render_template("approvals/tasks.html", rows=rows, total=total, args=args, keys=keys, page=args["page"],
                           pages=max(1, -(-total // PER_PAGE)), now=q.utcnow(), is_overdue=q.is_overdue,
                           can_batch=engine_has("batch_complete"))


@bp.post("/tasks/batch")
def batch() -> Response:
    """Approve or reject several selected tasks at once (each succeeds or fails on its own)."""
    if not engine_has("batch_complete"):
        abort(404)
    ids = [t[:36] for t in request.form.getlist("task_ids") if t][:100]
    decision = request.form.get("approved")
    if not ids or decision not in ("true", "false"):
        field = "task_ids" if not ids else "approved"
        raise InvalidData(_("Choose tasks and a decision."), errors=[{"field": field,
                                                                       "message": _("Choose tasks and a decision.")}])
    for task_id in ids:
        readable_task(task_id)
    results = get_engine().batch_complete(db.session, ids, actor(), {"approved": decision == "true"},
                                          comment_arg())
    ok = sum(1 for r in results if r.get("status") == 200)
    flash(_("%(ok)s of %(n)s tasks completed.", ok=ok, n=len(results)), "ok" if ok == len(results) else "error")
    for r in results:
        if r.get("status") != 200:
            flash(f"{r['task_id'][:8]}: {r.get('detail', '')}", "error")
    return redirect(url_for("web.tasks"))


# ------------------------------------------------------------------ one task
def readable_task(task_id: str) -> Task:
    """The task if the logged-in user may see it; 404 otherwise."""
    row = db.session.get(Task, task_id[:36])
    if row is None:
        raise NotFound(f"no task {task_id[:36]}")
    get_engine().check_task_access(db.session, row, actor())
    return row


def _may_work(row: Task) -> bool:
    me = actor()
    if row.status != "open" or row.excluded_user == me.username:  # never a task of one's own request
        return False
    if row.assignee:
        return row.assignee == me.username
    return me.username in (row.candidate_users or []) or bool(set(me.groups) & set(row.candidate_groups or []))


ENGINE_ACTIONS = ("transfer", "delegate", "add_signer", "return_to", "batch_complete", "withdraw", "cc", "urge")


def engine_has(name: str) -> bool:
    """True once the engine offers the approver action `name` (the lead is adding them)."""
    return callable(getattr(get_engine(), name, None))


def _render_task(row: Task, values: dict | None = None, errors: dict[str, str] | None = None,
                 comment: str = "", status: int = 200) -> tuple[str, int]:
    inst = db.session.get(ProcessInstance, row.instance_id)
    forms = inst.definition.forms
    schema = forms.get(row.form or "") if row.form else None
    ui = forms.get(row.ui_form or "") if row.ui_form else None
    errors = errors or {}
    form_fields = build_fields(schema, ui, values or {}, errors)
    has_comment_field = any(f.name == "comment" for f in form_fields)
    approve_field = next((f for f in form_fields if f.kind == "approve"), None)
    general = [m for k, m in errors.items() if k not in all_paths(form_fields)]
    actions = {name: engine_has(name) for name in ENGINE_ACTIONS}
    may_work = _may_work(row)
    targets = []
    if may_work and actions["return_to"]:
        targets = get_engine().return_targets(db.session, row.id, actor())
    return render_template(
        "approvals/task.html", task=row, inst=inst, fields=form_fields, history=q.history(db.session, inst.id),
        may_work=may_work,
        has_comment_field=has_comment_field, approve_field=approve_field, general_errors=general,
        comment=comment, actions=actions, is_overdue=q.is_overdue(row), schema=schema,
        labels=_variable_labels(inst.definition), return_targets=targets,
        may_urge=actions["urge"] and row.status == "open" and inst.started_by == actor().username), status


def _variable_labels(d: ProcessDefinition) -> dict[str, str]:
    """Titles of the start form's fields, to label an instance's variables."""
    meta = q.start_meta(d)
    schema = d.forms.get(meta.form or "") if meta else None
    props = (schema or {}).get("properties") or {}
    return {k: v.get("title") or k for k, v in props.items() if isinstance(v, dict)}


@bp.get("/tasks/<task_id>")
def task(task_id: str) -> tuple[str, int]:
    """The task page: instance summary, history, the form, the actions."""
    return _render_task(readable_task(task_id))


def comment_arg() -> str | None:
    """The optional comment sent with an action (at most MAX_COMMENT characters)."""
    text = (request.form.get("comment_text") or "").strip()
    if len(text) > MAX_COMMENT:
        raise InvalidData("the comment is too long", errors=[{"field": "comment_text",
                                                               "message": f"at most {MAX_COMMENT} characters"}])
    return text or None


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str) -> Any:
    """Complete (approve/reject) the task with the submitted form; field errors re-render the form."""
    row = readable_task(task_id)
    inst = db.session.get(ProcessInstance, row.instance_id)
    schema = inst.definition.forms.get(row.form or "") if row.form else None
    values, errors = parse_submission(schema, request.form)
    if request.form.get("_add_row"):  # no-JS "add a line" button: show the form again with one more row
        path = request.form["_add_row"]
        append_row(values, path)
        return _render_task(row, values, {}, request.form.get("comment_text", ""))
    comment = request.form.get("comment_text", "")
    try:
        comment_value = comment_arg()
    except InvalidData as err:
        return _render_task(row, values, errors_by_field(err.errors), comment, 422)
    if errors:
        return _render_task(row, values, errors, comment, 422)
    if comment_value is None and isinstance(values.get("comment"), str):
        comment_value = values["comment"]
    try:
        get_engine().complete(db.session, row.id, actor(), values, comment_value)
    except InvalidData as err:
        return _render_task(row, values, errors_by_field(err.errors), comment, 422)
    flash(_("Task completed."), "ok")
    return redirect(url_for("web.tasks"))


@bp.post("/tasks/<task_id>/claim")
def claim_task(task_id: str) -> Response:
    """Take a task offered to my group."""
    row = readable_task(task_id)
    get_engine().claim(db.session, row.id, actor())
    flash(_("You took the task."), "ok")
    return redirect(url_for("web.task", task_id=row.id))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim_task(task_id: str) -> Response:
    """Give a claimed task back to its candidates."""
    row = readable_task(task_id)
    get_engine().unclaim(db.session, row.id, actor())
    flash(_("You gave the task back."), "ok")
    return redirect(url_for("web.task", task_id=row.id))


@bp.post("/tasks/<task_id>/comment")
def comment_task(task_id: str) -> Any:
    """Add a comment to the task's history."""
    row = readable_task(task_id)
    text = (request.form.get("text") or "").strip()
    if not text or len(text) > MAX_COMMENT:
        msg = _("Write a comment first.") if not text else _("The comment is too long.")
        raise InvalidData(msg, errors=[{"field": "text", "message": msg}])
    get_engine().comment(db.session, row.instance_id, actor(), text, task_id=row.id)
    flash(_("Comment added."), "ok")
    return redirect(url_for("web.task", task_id=row.id) + "#history")


PERSON_ACTIONS = {"transfer": "transfer", "delegate": "delegate"}


@bp.post("/tasks/<task_id>/<action>")
def task_action(task_id: str, action: str) -> Any:
    """Transfer, delegate, add a signer or return a task — offered once the engine has the method."""
    row = readable_task(task_id)
    engine = get_engine()
    comment = comment_arg()
    person = (request.form.get("to") or request.form.get("user") or "").strip()[:100]
    if action in PERSON_ACTIONS and engine_has(action):
        if not person:
            raise InvalidData(_("Choose a person."), errors=[{"field": "to", "message": _("Choose a person.")}])
        getattr(engine, action)(db.session, row.id, actor(), person, comment)
    elif action == "add-signer" and engine_has("add_signer"):
        position = request.form.get("position", "after")
        if position not in ("before", "after"):
            raise InvalidData("bad position", errors=[{"field": "position", "message": "before or after"}])
        if not person:
            raise InvalidData(_("Choose a person."), errors=[{"field": "user", "message": _("Choose a person.")}])
        engine.add_signer(db.session, row.id, actor(), person, position)
    elif action == "return" and engine_has("return_to"):
        target = (request.form.get("target_element_id") or "").strip()[:255]
        if not target:
            raise InvalidData(_("Choose a step."), errors=[{"field": "target_element_id",
                                                            "message": _("Choose a step.")}])
        engine.return_to(db.session, row.id, actor(), target, comment)
    elif action == "cc" and engine_has("cc"):
        users = [u.strip()[:100] for u in (request.form.get("users") or "").replace("，", ",").split(",") if u.strip()]
        engine.cc(db.session, row.instance_id, actor(), users[:50], task_id=row.id)
        flash(_("Copied."), "ok")
        return redirect(url_for("web.task", task_id=row.id))
    elif action == "urge" and engine_has("urge"):
        engine.urge(db.session, row.id, actor())
        flash(_("Reminder sent."), "ok")
        return redirect(url_for("web.task", task_id=row.id))
    else:
        abort(404)
    flash(_("Done."), "ok")
    return redirect(url_for("web.tasks"))
