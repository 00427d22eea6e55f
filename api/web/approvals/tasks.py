"""My tasks: the task list (filters, batch approve), the task page with its form, and the approver actions
(claim, give back, comment, transfer, delegate, add a signer, return, CC, urge).

Pages call the same engine functions as the v1 API, with the same permission checks
(engine.check_task_access): a task I may not see is 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select

from api.extensions import db
from api.http import query_args
from api.state import get_engine
from api.web.approvals import task_view as view
from api.web.approvals.form_files import name_files, with_uploads
from api.web.approvals.outcome import BADGE, outcome_of, outcome_word
from api.web.approvals.timeline import display_names, sent_back
from api.web.blueprint import bp
from api.web.common import queries as q
from api.web.common.schema_forms import (
    all_paths,
    append_row,
    build_fields,
    errors_by_field,
    form_defaults,
    parse_submission,
)
from api.web.common.session import actor, user
from api.web.labels import label
from crm.access import viewer_for
from crm.orders import task_credit
from engine import attachments
from engine.access import check_may_work
from engine.models import ProcessInstance, Task
from store.errors import DomainError, InvalidData, NotFound

MAX_COMMENT = 4000


class TaskFilter(Schema):
    """Query arguments of the old task list (/tasks), checked before they are carried to the approval centre."""

    class Meta:
        unknown = RAISE

    key = fields.String(validate=validate.Length(max=255))
    due = fields.String(validate=validate.OneOf(["", "overdue", "today", "week", "none"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


PER_PAGE = 25


@bp.get("/tasks")
def tasks() -> Response:
    """The old task list: the approval centre's 待我处理 tab has it now (with the same process and due filters)."""
    args = query_args(TaskFilter)
    kept = {k: args[k] for k in ("key", "due") if args.get(k)}
    return redirect(url_for("web.approvals", tab="todo", **kept), 302)


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
    if not any(_readable(task_id) for task_id in ids):
        abort(404)  # none of them is the user's to see
    comment = comment_arg()  # each task's access is checked again by the engine, each failure listed on its own
    if decision == "false" and not comment:
        msg = _("Give a reason for rejecting.")
        raise InvalidData(msg, errors=[{"field": "comment_text", "message": msg}])
    results = get_engine().batch_complete(db.session, ids, actor(), {"approved": decision == "true"}, comment)
    ok = sum(1 for r in results if r.get("status") == 200)
    flash(_("%(ok)s of %(n)s tasks completed.", ok=ok, n=len(results)), "ok" if ok == len(results) else "error")
    names = dict(db.session.execute(select(Task.id, Task.name).where(Task.id.in_(ids))).all())
    for r in results:
        if r.get("status") != 200:
            flash(f"{label(names.get(r['task_id']) or '')} ({r['task_id'][:8]}): {r.get('detail', '')}", "error")
    return redirect(url_for("web.approvals", tab="todo"))


def _readable(task_id: str) -> bool:
    try:
        readable_task(task_id)
    except DomainError:
        return False
    return True


# ------------------------------------------------------------------ one task
def readable_task(task_id: str) -> Task:
    """The task if the logged-in user may see it; 404 otherwise."""
    row = db.session.get(Task, task_id[:36])
    if row is None:
        raise NotFound(f"no task {task_id[:36]}")
    get_engine().check_task_access(db.session, row, actor())
    return row


ENGINE_ACTIONS = ("transfer", "delegate", "add_signer", "return_to", "batch_complete", "withdraw", "cc", "urge")


def engine_has(name: str) -> bool:
    """True once the engine offers the approver action `name` (the lead is adding them)."""
    return callable(getattr(get_engine(), name, None))


def _render_task(row: Task, values: dict | None = None, errors: dict[str, str] | None = None,
                 comment: str = "", status: int = 200, *, action: str | None = None,
                 kept: dict[str, str] | None = None, confirm_reject: bool = False) -> tuple[str, int]:
    """The task page; `action` names the action form whose `errors` and input (`kept`) show inline."""
    inst = db.session.get(ProcessInstance, row.instance_id)
    forms = inst.definition.forms
    schema = forms.get(row.form or "") if row.form else None
    ui = forms.get(row.ui_form or "") if row.ui_form else None
    errors = errors or {}
    form_errors = errors if action is None else {}
    form_fields = name_files(build_fields(schema, ui, form_defaults(schema) if values is None else values,
                                          form_errors), actor().username)
    has_comment_field = any(f.name == "comment" for f in form_fields)
    approve_field = next((f for f in form_fields if f.kind == "approve"), None)
    general = [m for k, m in form_errors.items() if k not in all_paths(form_fields) and k != "comment_text"]
    has = {name: engine_has(name) for name in ENGINE_ACTIONS}
    me = actor()
    targets = []
    if has["return_to"] and row.status == "open" and inst.status == "running":
        targets = get_engine().return_targets(db.session, row.id, me)
    allowed = view.allowed_actions(row, inst, me, has, targets)
    if action and not allowed.offers(action):  # its form is gone (the task moved on): say it at the top
        general += [m for m in errors.values()]
        action, errors = None, {}
    computed = get_engine().start_checks.computed(inst.process_key)
    files = view.attachments_of(db.session, inst.id)
    history = q.history(db.session, inst.id)
    outcome = outcome_of(inst, any(e.type == "withdrawn" for e in history))
    return render_template(
        "approvals/task.html", task=row, inst=inst, fields=form_fields,
        history=view.visible_history(history, row, me.username, view.step_is_open(db.session, row)),
        sent_back=sent_back(inst, history, row.id),
        outcome=outcome, outcome_label=outcome_word(inst, outcome), outcome_badge=BADGE[outcome],
        shown=view.declared_fields(inst, computed), as_money=view.as_money,
        cards=view.record_cards(db.session, inst, viewer_for(db.session, user(), via_tasks=True)),
        votes=view.votes_of(db.session, row), files=files,
        credit=task_credit(db.session, inst.definition.key, inst.variables or {}),
        can=allowed, has_comment_field=has_comment_field, approve_field=approve_field, general_errors=general,
        comment=comment, is_overdue=q.is_overdue(row), return_targets=targets, action=action,
        action_errors=errors if action else {}, kept=kept or {}, confirm_reject=confirm_reject,
        reason_error=form_errors.get("comment_text"), files_by_id={f.id: f for f in files},
        fmt_money=view.fmt_money, fmt_number=view.fmt_number, fmt_date=view.fmt_date,
        money_total=view.money_total,
        names=display_names([inst.started_by or "", row.assignee or "", *(row.candidate_users or [])]),
    ), status


@bp.get("/tasks/<task_id>")
def task(task_id: str) -> tuple[str, int]:
    """The task page: the request's declared fields, referenced records, history, the form, the actions."""
    return _render_task(readable_task(task_id))


@bp.get("/tasks/<task_id>/attachments/<int:attachment_id>")
def task_attachment(task_id: str, attachment_id: int) -> Response:
    """Download an attachment of the task's request (404 unless the task is readable and the file is its)."""
    row = readable_task(task_id)
    found, content = attachments.read(db.session, current_app.config["OAFLOW_SETTINGS"].upload_dir,
                                      row.instance_id, attachment_id)
    resp = Response(content, mimetype=found.content_type)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(found.filename, safe='')}"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def comment_arg(name: str = "comment_text") -> str | None:
    """The optional comment sent with an action (at most MAX_COMMENT characters)."""
    text = (request.form.get(name) or "").strip()
    if len(text) > MAX_COMMENT:
        raise InvalidData(_("The comment is too long."), errors=[{"field": name,
                                                                  "message": _("The comment is too long.")}])
    return text or None


def _reason(values: dict) -> str:
    """The reason given with a decision: the comment box, or the form's own `comment` field."""
    text = (request.form.get("comment_text") or "").strip()
    if not text and isinstance(values.get("comment"), str):
        text = values["comment"].strip()
    return text


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str) -> Any:
    """Complete (approve/reject) the task with the submitted form; every error re-renders this page inline.
    Rejecting needs a reason and a confirmation (the page's script asks; without it the page asks again)."""
    row = readable_task(task_id)
    inst = db.session.get(ProcessInstance, row.instance_id)
    schema = inst.definition.forms.get(row.form or "") if row.form else None
    form, upload_errors = with_uploads(schema, request.form, request.files)
    values, errors = parse_submission(schema, form)
    errors.update(upload_errors)
    comment = request.form.get("comment_text", "")[:MAX_COMMENT + 1]
    if form.get("_add_row"):  # no-JS "add a line" button: show the form again with one more row
        append_row(values, form["_add_row"])
        return _render_task(row, values, {}, comment)
    try:
        comment_value = comment_arg()
    except InvalidData as err:
        return _render_task(row, values, errors_by_field(err.errors), comment, 422)
    if errors:
        return _render_task(row, values, errors, comment, 422)
    if values.get("approved") is False:
        if not _reason(values):
            msg = _("Give a reason for rejecting.")
            field = "comment" if "comment" in ((schema or {}).get("properties") or {}) else "comment_text"
            return _render_task(row, values, {field: msg}, comment, 422)
        if request.form.get("confirmed") != "reject":
            return _render_task(row, values, {}, comment, 200, confirm_reject=True)
    if comment_value is None and isinstance(values.get("comment"), str):
        comment_value = values["comment"]
    try:
        get_engine().complete(db.session, row.id, actor(), values, comment_value)
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        db.session.rollback()
        return _render_task(row, values, errors_by_field(err.errors) or {"_": err.detail}, comment, err.status)
    decided = values.get("approved")
    flash(_("Rejected.") if decided is False else _("Approved.") if decided is True else _("Task completed."), "ok")
    return redirect(url_for("web.approvals"))


def _inline(row: Task, action: str, err: DomainError) -> tuple[str, int]:
    """The task page again with the action's error beside its form and what was typed kept."""
    db.session.rollback()
    if isinstance(err, NotFound) and err.detail.startswith("no task"):
        raise err
    kept = {k: v[:1000] for k, v in request.form.items() if k != "csrf_token"}
    errors = errors_by_field(err.errors) or {"_": err.detail}
    return _render_task(db.session.get(Task, row.id) or row, errors=errors, status=err.status, action=action,
                        kept=kept)


@bp.post("/tasks/<task_id>/claim")
def claim_task(task_id: str) -> Any:
    """Take a task offered to my group."""
    row = readable_task(task_id)
    try:
        get_engine().claim(db.session, row.id, actor())
    except DomainError as err:
        return _inline(row, "claim", err)
    flash(_("You took the task."), "ok")
    return redirect(url_for("web.task", task_id=row.id))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim_task(task_id: str) -> Any:
    """Give a claimed task back to its candidates."""
    row = readable_task(task_id)
    try:
        get_engine().unclaim(db.session, row.id, actor())
    except DomainError as err:
        return _inline(row, "unclaim", err)
    flash(_("You gave the task back."), "ok")
    return redirect(url_for("web.task", task_id=row.id))


@bp.post("/tasks/<task_id>/comment")
def comment_task(task_id: str) -> Any:
    """Add a comment to the task's history."""
    row = readable_task(task_id)
    text = (request.form.get("text") or "").strip()
    try:
        if not text or len(text) > MAX_COMMENT:
            msg = _("Write a comment first.") if not text else _("The comment is too long.")
            raise InvalidData(msg, errors=[{"field": "text", "message": msg}])
        get_engine().comment(db.session, row.instance_id, actor(), text, task_id=row.id)
    except DomainError as err:
        return _inline(row, "comment", err)
    flash(_("Comment added."), "ok")
    return redirect(url_for("web.task", task_id=row.id) + "#history")


PERSON_ACTIONS = {"transfer": "transfer", "delegate": "delegate"}
MAX_CC = 50


def _person(name: str) -> str:
    person = (request.form.get(name) or "").strip()[:100]
    if not person:
        raise InvalidData(_("Choose a person."), errors=[{"field": name, "message": _("Choose a person.")}])
    return person


@bp.post("/tasks/<task_id>/<action>")
def task_action(task_id: str, action: str) -> Any:
    """Transfer, delegate, add a signer, return, CC or urge — errors show inline on the task page."""
    row = readable_task(task_id)
    engine = get_engine()
    known = {"transfer", "delegate", "add-signer", "return", "cc", "urge"}
    if action not in known or not engine_has({"add-signer": "add_signer", "return": "return_to"}.get(action, action)):
        abort(404)
    try:
        comment = comment_arg()
        if action in PERSON_ACTIONS:
            to = _person("to")
            getattr(engine, action)(db.session, row.id, actor(), to, comment)
            name = display_names([to]).get(to, to)
            done = _("Transferred to %(name)s.", name=name) if action == "transfer" else \
                _("Delegated to %(name)s.", name=name)
        elif action == "add-signer":
            position = request.form.get("position", "after")
            if position not in ("before", "after"):
                raise InvalidData(_("Choose before or after me."),
                                  errors=[{"field": "position", "message": _("Choose before or after me.")}])
            signer = _person("user")
            engine.add_signer(db.session, row.id, actor(), signer, position)
            done = _("Signer added: %(name)s.", name=display_names([signer]).get(signer, signer))
        elif action == "return":
            target = (request.form.get("target_element_id") or "").strip()[:255]
            if not target:
                raise InvalidData(_("Choose a step."), errors=[{"field": "target_element_id",
                                                                "message": _("Choose a step.")}])
            engine.return_to(db.session, row.id, actor(), target, comment)
            done = _("Returned to an earlier step.")
        elif action == "cc":
            raw = (request.form.get("users") or "")[:5000].replace("，", ",").replace(" ", ",")
            users = list(dict.fromkeys(u.strip()[:100] for u in raw.split(",") if u.strip()))
            if not users:
                raise InvalidData(_("Choose a person."), errors=[{"field": "users", "message": _("Choose a person.")}])
            if len(users) > MAX_CC:
                msg = _("At most %(n)s people.", n=MAX_CC)
                raise InvalidData(msg, errors=[{"field": "users", "message": msg}])
            check_may_work(row, actor())
            engine.cc(db.session, row.instance_id, actor(), users, task_id=row.id)
            flash(_("Copied."), "ok")
            return redirect(url_for("web.task", task_id=row.id))
        else:
            engine.urge(db.session, row.id, actor())
            flash(_("Reminder sent."), "ok")
            return redirect(url_for("web.task", task_id=row.id))
    except DomainError as err:
        return _inline(row, action, err)
    flash(done, "ok")
    return redirect(url_for("web.approvals"))
