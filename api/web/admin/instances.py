"""Admin: every process instance with filters and paging; an instance's page with its incident (error,
failing element, time) and the actions retry, fix one variable (JSON, validated, recorded in the history)
and cancel (after a confirmation). The same engine calls as /api/v1/process-instances."""

from __future__ import annotations

import json
from datetime import datetime, time
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select
from werkzeug.wrappers import Response

from api.extensions import db
from api.http import paginate
from api.state import get_engine
from api.web.admin.common import require_admin
from api.web.approvals.outcome import BADGE, outcome_clause, outcome_of, outcome_word, withdrawn_ids
from api.web.blueprint import bp
from api.web.common.filters import MAX_PAGE, PER_PAGE, load_filters, page_links
from api.web.common.forms import load_form
from api.web.common.session import actor
from api.web.formatting import format_money, is_money_name
from engine.context import RESERVED_VARIABLES
from engine.incidents import set_incident_variables
from engine.models import HistoryEvent, ProcessDefinition, ProcessInstance, Task
from store.errors import DomainError, NotFound

# the status filter: the outcomes the list shows (as the approval centre says them), and any completed instance;
# withdrawn and cancelled are both the status `cancelled`, a flow that ended itself cancelled is `completed`
STATUSES = ("running", "error", "completed", "approved", "rejected", "cancelled", "withdrawn")
_OUTCOME_OF_STATUS = {"running": "running", "error": "incident", "approved": "approved", "rejected": "rejected",
                      "cancelled": "cancelled", "withdrawn": "withdrawn"}
MAX_VARIABLE_JSON = 100_000
NAME_RE = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"


class InstanceFilters(Schema):
    """The instance list's filters."""

    class Meta:
        unknown = RAISE

    key = fields.String(validate=validate.Length(max=255))
    status = fields.String(validate=validate.OneOf(STATUSES))
    started_by = fields.String(validate=validate.Length(max=100))
    business_key = fields.String(validate=validate.Length(max=255))
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))


class VariableForm(Schema):
    """One variable of a failed step: its name and new value as JSON text."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True,
                         validate=validate.Regexp(NAME_RE, error=_l("a variable name: letters, digits and _")))
    value = fields.String(required=True, validate=validate.Length(max=MAX_VARIABLE_JSON))


class CancelForm(Schema):
    """Cancel needs a reason and a ticked confirmation."""

    class Meta:
        unknown = RAISE

    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    confirm = fields.String(required=True, validate=validate.Equal("yes"))


@bp.get("/admin")
def admin_home() -> Response:
    """The console starts at the instance list."""
    require_admin()
    return redirect(url_for("web.admin_instances"))


@bp.get("/admin/instances")
def admin_instances() -> str:
    """All instances, newest first, by process, status (error = incident), starter, date range, business key."""
    require_admin()
    args, errors, raw = load_filters(InstanceFilters())
    query = select(ProcessInstance).order_by(ProcessInstance.id.desc())
    for name, column in (("key", ProcessInstance.process_key), ("business_key", ProcessInstance.business_key),
                         ("started_by", ProcessInstance.started_by)):
        if args.get(name):
            query = query.where(column == args[name])
    if args.get("status") == "completed":
        query = query.where(ProcessInstance.status == "completed")
    elif args.get("status"):
        query = query.where(outcome_clause(_OUTCOME_OF_STATUS[args["status"]], db.session.get_bind().dialect.name))
    if args.get("from_"):
        query = query.where(ProcessInstance.started_at >= datetime.combine(args["from_"], time.min))
    if args.get("to"):
        query = query.where(ProcessInstance.started_at <= datetime.combine(args["to"], time.max))
    result = paginate(query, args["page"], PER_PAGE, list)
    keys = db.session.scalars(select(ProcessDefinition.key).distinct().order_by(ProcessDefinition.key)).all()
    withdrawn = withdrawn_ids(db.session, [i.id for i in result["items"]])
    outcomes = {i.id: outcome_of(i, i.id in withdrawn) for i in result["items"]}  # as the approval centre says
    words = {i.id: outcome_word(i, outcomes[i.id]) for i in result["items"]}
    return render_template("admin/instances.html", rows=result["items"], total=result["total"],
                           paging=page_links(args["page"], result["total"]), values=raw, errors=errors,
                           keys=keys, statuses=STATUSES, outcomes=outcomes, words=words, badge=BADGE)


def _instance(instance_id: int) -> ProcessInstance:
    inst = db.session.get(ProcessInstance, instance_id)
    if inst is None:
        raise NotFound(f"no process instance {instance_id}")
    return inst


def _variable_row(name: str, value: Any) -> tuple[str, str, str]:
    """(name, as shown, stored JSON) of one variable: money (a number named `total`, `amount`, ...) with two
    decimals as on every page (37,764.60), the stored JSON beside it as a tooltip; anything else as JSON."""
    stored = json.dumps(value, ensure_ascii=False, indent=1, default=str)[:2000]
    if isinstance(value, int | float) and not isinstance(value, bool) and is_money_name(name):
        return name, format_money(value), stored
    return name, stored, stored


def _render(inst: ProcessInstance, errors: dict[str, str] | None = None, values: dict | None = None,
            status: int = 200) -> tuple[str, int]:
    incident = db.session.scalars(select(HistoryEvent).where(
        HistoryEvent.instance_id == inst.id, HistoryEvent.type == "error").order_by(HistoryEvent.id.desc())
        .limit(1)).first()
    history = db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == inst.id)
                                 .order_by(HistoryEvent.id.desc()).limit(50)).all()
    open_tasks = db.session.scalars(select(Task).where(Task.instance_id == inst.id, Task.status == "open")).all()
    variables = sorted(_variable_row(k, v) for k, v in (inst.variables or {}).items())
    outcome = outcome_of(inst, bool(withdrawn_ids(db.session, [inst.id])))
    return render_template("admin/instance.html", inst=inst, incident=incident, history=history,
                           outcome=outcome, outcome_label=outcome_word(inst, outcome), outcome_badge=BADGE[outcome],
                           open_tasks=open_tasks, variables=variables, reserved=RESERVED_VARIABLES, errors=errors or {},
                           values=values or {}), status


@bp.get("/admin/instances/<int:instance_id>")
def admin_instance(instance_id: int) -> tuple[str, int]:
    """One instance: status, incident details, variables, open tasks, latest history; the admin actions."""
    require_admin()
    inst = _instance(instance_id)
    name = request.args.get("edit", "")[:100]
    if inst.status == "error" and name in (inst.variables or {}):  # "edit" on a variable fills the form with it
        value = json.dumps(inst.variables[name], ensure_ascii=False)
        if len(value) <= MAX_VARIABLE_JSON:
            return _render(inst, values={"name": name, "value": value})
    return _render(inst)


def _failed(inst_id: int, err: DomainError, field: str, values: dict | None = None) -> tuple[str, int]:
    db.session.rollback()
    return _render(_instance(inst_id), {field: err.detail or _(err.title)}, values, getattr(err, "status", 400))


@bp.post("/admin/instances/<int:instance_id>/retry")
def admin_retry(instance_id: int) -> Any:
    """Re-run the failed step of an instance in error."""
    require_admin()
    _instance(instance_id)
    try:
        get_engine().retry(db.session, instance_id, actor())
    except DomainError as err:
        return _failed(instance_id, err, "retry")
    flash(_("The failed step ran again."), "ok")
    return redirect(url_for("web.admin_instance", instance_id=instance_id))


MAX_VARIABLE_DEPTH = 32  # a fixed variable's JSON nesting (deeper text would exhaust the recursion of the parser)


def _nesting(text: str) -> int:
    """The deepest bracket nesting of JSON text, brackets inside strings not counted (scanned, not parsed)."""
    deepest = level = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            level += 1
            deepest = max(deepest, level)
        elif ch in "]}":
            level -= 1
    return deepest


def _parse_variable() -> tuple[dict[str, Any] | None, dict[str, str], dict[str, str]]:
    loaded, errors, raw = load_form(VariableForm())
    if errors:
        return None, errors, raw
    if _nesting(loaded["value"]) > MAX_VARIABLE_DEPTH:
        return None, {"value": _("nested deeper than %(depth)s levels", depth=MAX_VARIABLE_DEPTH)}, raw
    try:
        value = json.loads(loaded["value"])
    except (ValueError, RecursionError) as err:
        return None, {"value": _("not valid JSON: %(error)s", error=str(err)[:200])}, raw
    return {loaded["name"]: value}, {}, raw


@bp.post("/admin/instances/<int:instance_id>/variables")
def admin_fix_variable(instance_id: int) -> Any:
    """Set one variable of the failed step (a JSON value); recorded as `variables_changed` in the history."""
    require_admin()
    _instance(instance_id)
    variables, errors, raw = _parse_variable()
    if variables is None:
        return _render(_instance(instance_id), errors, raw, 422)
    try:
        set_incident_variables(db.session, get_engine().specs, instance_id, actor(), variables)
    except DomainError as err:
        return _failed(instance_id, err, "value", raw)
    flash(_("Variable %(name)s saved. Retry the instance to run the failed step with it.",
            name=next(iter(variables))), "ok")
    return redirect(url_for("web.admin_instance", instance_id=instance_id))


@bp.post("/admin/instances/<int:instance_id>/cancel")
def admin_cancel(instance_id: int) -> Any:
    """Cancel the instance once the admin confirmed it and gave a reason."""
    require_admin()
    _instance(instance_id)
    loaded, errors, raw = load_form(CancelForm())
    if errors:
        if "confirm" in errors:
            errors["confirm"] = _("tick the box to confirm")
        return _render(_instance(instance_id), errors, raw, 422)
    try:
        get_engine().cancel(db.session, instance_id, actor(), loaded["reason"])
    except DomainError as err:
        return _failed(instance_id, err, "reason", raw)
    flash(_("The instance was cancelled."), "ok")
    return redirect(url_for("web.admin_instance", instance_id=instance_id))
