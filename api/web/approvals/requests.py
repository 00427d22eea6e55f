"""Requests: the catalogue of processes I can start, the start form, my requests (withdraw one) and one
instance (diagram with the finished path, history). Permission checks as in the v1 API
(engine.can_read_instance): an instance I may not see is 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select

from api.auth import issue_page_token
from api.extensions import db
from api.http import query_args
from api.state import get_engine
from api.web.approvals.tasks import PER_PAGE, engine_has
from api.web.blueprint import bp
from api.web.common import queries as q
from api.web.common.schema_forms import all_paths, append_row, build_fields, errors_by_field, parse_submission
from api.web.common.session import actor, user
from engine import definitions
from engine.models import ProcessDefinition, ProcessInstance, Task
from store.errors import Forbidden, InvalidData, NotFound


@bp.get("/start")
def catalogue() -> str:
    """Processes I can start: the latest version of each key that has a start form."""
    items = [(d, q.start_meta(d)) for d in definitions.latest_definitions(db.session)]
    return render_template("approvals/catalogue.html", items=[(d, m) for d, m in items if m is not None])


def _render_start(d: ProcessDefinition, values: dict, errors: dict[str, str], status: int = 200,
                  business_key: str = "") -> tuple[str, int]:
    meta = q.start_meta(d)
    if meta is None:
        raise NotFound(f"process '{d.key}' has no start form")
    schema = d.forms.get(meta.form or "")
    ui = d.forms.get(meta.ui_form or "") if meta.ui_form else None
    form_fields = build_fields(schema, ui, values, errors)
    general = [m for k, m in errors.items() if k not in all_paths(form_fields)]
    return render_template("approvals/start.html", d=d, fields=form_fields, general_errors=general,
                           business_key=business_key), status


@bp.get("/start/<key>")
def start_form(key: str) -> tuple[str, int]:
    """The start form of a process."""
    return _render_start(definitions.get_definition(db.session, key[:255]), {}, {})


@bp.post("/start/<key>")
def start(key: str) -> Any:
    """Start a request from the submitted start form."""
    d = definitions.get_definition(db.session, key[:255])
    meta = q.start_meta(d)
    if meta is None:
        raise NotFound(f"process '{d.key}' has no start form")
    values, errors = parse_submission(d.forms.get(meta.form or ""), request.form)
    if request.form.get("_add_row"):
        append_row(values, request.form["_add_row"])
        return _render_start(d, values, {})
    if errors:
        return _render_start(d, values, errors, 422)
    try:
        inst, _created = get_engine().start(db.session, d.key, actor(), values, None,
                                            request.form.get("idempotency_key") or None)
    except InvalidData as err:
        return _render_start(d, values, errors_by_field(err.errors), 422)
    flash(_("Request submitted."), "ok")
    return redirect(url_for("web.instance", instance_id=inst.id))


class RequestFilter(Schema):
    """Query arguments of my requests."""

    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf(["", "running", "completed", "cancelled", "error"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


@bp.get("/requests")
def my_requests() -> str:
    """The requests I started, with their status."""
    args = query_args(RequestFilter)
    query = q.my_requests_query(actor(), args.get("status") or None)
    total = q.count(db.session, query)
    rows = db.session.scalars(query.limit(PER_PAGE).offset((args["page"] - 1) * PER_PAGE)).all()
    open_tasks: dict[int, list[Task]] = {}
    if rows:
        for t in db.session.scalars(select(Task).where(Task.instance_id.in_([r.id for r in rows]),
                                                       Task.status == "open")):
            open_tasks.setdefault(t.instance_id, []).append(t)
    return render_template("approvals/requests.html", rows=rows, total=total, args=args, open_tasks=open_tasks,
                           page=args["page"], pages=max(1, -(-total // PER_PAGE)),
                           can_withdraw=engine_has("withdraw"))


@bp.post("/requests/<int:instance_id>/withdraw")
def withdraw(instance_id: int) -> Response:
    """Withdraw my own request (once the engine offers withdraw; cancel by the starter otherwise)."""
    inst = readable_instance(instance_id)
    if inst.started_by != actor().username and not actor().is_admin:
        raise Forbidden("only the starter can withdraw a request")
    engine = get_engine()
    if engine_has("withdraw"):
        engine.withdraw(db.session, instance_id, actor(), "withdrawn in the web app")
    else:
        engine.cancel(db.session, instance_id, actor(), "withdrawn")
    flash(_("Request withdrawn."), "ok")
    return redirect(url_for("web.my_requests"))


# ------------------------------------------------------------------ one request
def readable_instance(instance_id: int) -> ProcessInstance:
    """The instance if the logged-in user may read it; 404 otherwise (not even its existence shows)."""
    inst = db.session.get(ProcessInstance, instance_id)
    if inst is None or not get_engine().can_read_instance(db.session, inst, actor()):
        raise NotFound(f"no process instance {instance_id}")
    return inst


@bp.get("/instances/<int:instance_id>")
def instance(instance_id: int) -> str:
    """The diagram with the finished path and active elements marked, beside the history."""
    inst = readable_instance(instance_id)
    history = q.history(db.session, inst.id)
    xml = q.definition_xml(db.session, inst.definition)
    graph = q.process_graph(xml or b"", inst.process_key)
    done, flows = q.finished_path(graph, history, inst.active_element_ids, inst.status, inst.error_element_id)
    tasks_open = db.session.scalars(select(Task).where(Task.instance_id == inst.id, Task.status == "open")).all()
    token = issue_page_token(user())
    return render_template("approvals/instance.html", inst=inst, history=history, done=sorted(done),
                           done_flows=sorted(flows), active=list(inst.active_element_ids or []),
                           open_tasks=tasks_open, api_token=token,
                           can_withdraw=inst.status == "running" and inst.started_by == actor().username)
