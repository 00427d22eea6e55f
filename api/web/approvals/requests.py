"""Requests: the catalogue of processes I can start, the start form (empty, or pre-filled from one of my
requests for copy / resubmit), my requests, and the request page: the submitted data with the form's labels,
attachments, the timeline, who has it now, and the actions the viewer may use now (withdraw while no approver
acted, urge, copy, resubmit); the diagram behind a link. Permission checks as in the v1 API
(engine.can_read_instance): an instance I may not see is 404.
"""

from __future__ import annotations

import copy
import logging
from typing import Any
from urllib.parse import quote

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from api.auth import issue_page_token
from api.errors import ApiError, marshmallow_errors
from api.extensions import db
from api.http import out_of_range, query_args
from api.state import get_engine
from api.web.approvals.chain import has_preview
from api.web.approvals.display import start_schema, submitted
from api.web.approvals.form_files import carry_files, name_files, with_uploads
from api.web.approvals.outcome import BADGE, LABELS, OUTCOMES, outcome_clause, outcome_of, outcome_word, withdrawn_ids
from api.web.approvals.task_view import business_record
from api.web.approvals.tasks import PER_PAGE
from api.web.approvals.timeline import display_names, pending_people, timeline
from api.web.blueprint import bp
from api.web.common import queries as q
from api.web.common.diagram import diagram_response
from api.web.common.schema_forms import (
    all_paths,
    append_row,
    build_fields,
    errors_by_field,
    form_defaults,
    parse_submission,
)
from api.web.common.session import actor, user
from crm.access import viewer_for
from crm.orders import STARTED_FROM_RECORD
from engine import attachments, definitions
from engine.commands.approvals import ACTED_EVENTS, URGE_INTERVAL
from engine.models import HistoryEvent, ProcessDefinition, ProcessInstance, Task
from engine.runtime import begin_write
from store.errors import Conflict, DomainError, Forbidden, InvalidData, NotFound

log = logging.getLogger("oaflow.web")


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
    form_fields = name_files(build_fields(schema, ui, values, errors), actor().username)
    general = [m for k, m in errors.items() if k not in all_paths(form_fields)]
    return render_template("approvals/start.html", d=d, fields=form_fields, general_errors=general,
                           business_key=business_key, chain_preview=has_preview(d.key)), status


class StartArgs(Schema):
    """Query arguments of the start form: `from` pre-fills it with one of my earlier requests."""

    class Meta:
        unknown = RAISE

    from_ = fields.Integer(data_key="from", validate=validate.Range(min=1))


def prefill(d: ProcessDefinition, source_id: int) -> dict:
    """The start-form fields of my earlier request `source_id` of the same process (copy / resubmit)."""
    source = readable_instance(source_id)
    if source.started_by != actor().username or source.process_key != d.key:
        raise NotFound(f"no request {source_id} of yours for '{d.key}'")
    schema = start_schema(d)
    props = schema.get("properties") or {}
    values = copy.deepcopy({k: v for k, v in (source.variables or {}).items() if k in props})
    return carry_files(schema, values, source.id)


MAX_TYPED_PREFILL = 1000  # characters of one ?field= value


def typed_prefill(d: ProcessDefinition) -> dict[str, str]:
    """Start-form values named in the query string (?opportunity_id=7&title=…, e.g. from an opportunity page):
    only the form's declared fields (never a file field), each capped; they are checked on submit like typed
    values, so a query string can fill in a form but never start anything."""
    props = start_schema(d).get("properties") or {}
    return {k: v[:MAX_TYPED_PREFILL] for k, v in request.args.items()
            if k != "from" and isinstance(props.get(k), dict) and not props[k].get("x-oaflow-file")
            and "\x00" not in v}


@bp.get("/start/<key>")
def start_form(key: str) -> tuple[str, int]:
    """The start form of a process, empty, pre-filled from one of my requests (?from=<id>), or with values of its
    declared fields named in the query string (?title=…)."""
    d = definitions.get_definition(db.session, key[:255])
    typed = typed_prefill(d)
    loader = StartArgs()
    try:
        args = loader.load({k: v for k, v in request.args.items() if k not in typed})
    except ValidationError as err:
        raise ApiError(422, "Invalid query", "some query arguments are invalid",
                       marshmallow_errors(err.messages)) from err
    wild = out_of_range(loader, args)  # an id past a 64-bit column is named, as every query argument
    if wild:
        raise ApiError(422, "Invalid query", "some query arguments are out of range", wild)
    values = prefill(d, args["from_"]) if args.get("from_") else typed
    meta = q.start_meta(d)
    defaults = form_defaults(d.forms.get(meta.form or "")) if meta is not None else {}
    return _render_start(d, {**defaults, **values}, {})


@bp.post("/start/<key>")
def start(key: str) -> Any:
    """Start a request from the submitted start form."""
    d = definitions.get_definition(db.session, key[:255])
    meta = q.start_meta(d)
    if meta is None:
        raise NotFound(f"process '{d.key}' has no start form")
    form, upload_errors = with_uploads(d.forms.get(meta.form or ""), request.form, request.files)
    values, errors = parse_submission(d.forms.get(meta.form or ""), form)
    errors.update(upload_errors)
    if form.get("_add_row"):
        append_row(values, form["_add_row"])
        return _render_start(d, values, {})
    if errors:
        return _render_start(d, values, errors, 422)
    try:
        inst, _created = get_engine().start(db.session, d.key, actor(), values, None,
                                            request.form.get("idempotency_key") or None)
    except DomainError as err:
        if not isinstance(err, InvalidData | Conflict):
            raise
        db.session.rollback()
        return _render_start(d, values, errors_by_field(err.errors) or {"_": err.detail}, err.status)
    flash(_("Request submitted."), "ok")
    return redirect(url_for("web.instance", instance_id=inst.id))


class RequestFilter(Schema):
    """Query arguments of my requests."""

    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf(["", *OUTCOMES]))  # the outcome, as the rows word it
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


@bp.get("/requests")
def my_requests() -> str:
    """The requests I started, with their outcome (filtered by it)."""
    args = query_args(RequestFilter)
    query = q.my_requests_query(actor())
    if args.get("status"):
        query = query.where(outcome_clause(args["status"], db.session.get_bind().dialect.name))
    total = q.count(db.session, query)
    rows = db.session.scalars(query.limit(PER_PAGE).offset((args["page"] - 1) * PER_PAGE)).all()
    open_tasks: dict[int, list[Task]] = {}
    if rows:
        for t in db.session.scalars(select(Task).where(Task.instance_id.in_([r.id for r in rows]),
                                                       Task.status == "open")):
            open_tasks.setdefault(t.instance_id, []).append(t)
    gone = withdrawn_ids(db.session, [r.id for r in rows if r.status == "cancelled"])
    outcomes = {r.id: outcome_of(r, r.id in gone) for r in rows}  # worded as the centre and the request page say it
    words = {r.id: outcome_word(r, outcomes[r.id]) for r in rows}
    return render_template("approvals/requests.html", rows=rows, total=total, args=args, open_tasks=open_tasks,
                           outcomes=outcomes, words=words, badge=BADGE, labels=LABELS, choices=OUTCOMES,
                           page=args["page"], pages=max(1, -(-total // PER_PAGE)),
                           can_withdraw=may_withdraw)


@bp.post("/requests/<int:instance_id>/withdraw")
def withdraw(instance_id: int) -> Response:
    """Withdraw my own request while no approver has acted (the engine refuses later ones with 409)."""
    inst = readable_instance(instance_id)
    if inst.started_by != actor().username:
        raise Forbidden("only the applicant can withdraw a request")
    get_engine().withdraw(db.session, instance_id, actor(), "withdrawn in the web app")
    flash(_("Request withdrawn."), "ok")
    return redirect(url_for("web.instance", instance_id=instance_id))


@bp.post("/instances/<int:instance_id>/urge")
def urge_request(instance_id: int) -> Response:
    """催办: remind the people my request waits for (each open task at most once per URGE_INTERVAL)."""
    inst = readable_instance(instance_id)
    if inst.started_by != actor().username:
        raise Forbidden("only the applicant can urge a request")
    due = urgeable(inst)
    if not due:
        raise Conflict("this request was urged recently; try again later")
    for t in due:
        get_engine().urge(db.session, t.id, actor())
    flash(_("Reminder sent."), "ok")
    return redirect(url_for("web.instance", instance_id=instance_id))


@bp.get("/instances/<int:instance_id>/attachments/<int:attachment_id>")
def instance_attachment(instance_id: int, attachment_id: int) -> Response:
    """Download a file of a request I may read (as a download, never shown inline)."""
    readable_instance(instance_id)
    row, content = attachments.read(db.session, current_app.config["OAFLOW_SETTINGS"].upload_dir, instance_id,
                                    attachment_id)
    resp = Response(content, mimetype=row.content_type)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(row.filename, safe='')}"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.get("/instances/<int:instance_id>/diagram.xml")
def instance_diagram(instance_id: int) -> Response:
    """The BPMN XML of the version a request I may read runs on, element names in my language (404 if I may
    not read the request)."""
    return diagram_response(readable_instance(instance_id).definition)


# ------------------------------------------------------------------ one request
def readable_instance(instance_id: int) -> ProcessInstance:
    """The instance if the logged-in user may read it; 404 otherwise (not even its existence shows)."""
    inst = db.session.get(ProcessInstance, instance_id)
    if inst is None or not get_engine().can_read_instance(db.session, inst, actor()):
        raise NotFound(f"no process instance {instance_id}")
    return inst


def open_tasks_of(inst: ProcessInstance) -> list[Task]:
    """The instance's open tasks, oldest first."""
    return list(db.session.scalars(select(Task).where(Task.instance_id == inst.id, Task.status == "open")
                                   .order_by(Task.created_at, Task.id)))


def urgeable(inst: ProcessInstance) -> list[Task]:
    """Open tasks of a running request that were not urged within the engine's interval."""
    if inst.status != "running":
        return []
    now = q.utcnow()
    return [t for t in open_tasks_of(inst) if not t.urged_at or now - t.urged_at >= URGE_INTERVAL]


def may_withdraw(inst: ProcessInstance) -> bool:
    """True while the engine would let me withdraw: my running request no approver has acted on."""
    me = actor().username
    if inst.status != "running" or inst.started_by != me:
        return False
    acted = db.session.scalar(select(HistoryEvent.id).where(
        HistoryEvent.instance_id == inst.id, HistoryEvent.type.in_(ACTED_EVENTS),
        HistoryEvent.user.is_not(None), HistoryEvent.user != me).limit(1))
    return acted is None


def _mark_cc_read(inst: ProcessInstance) -> None:
    """Opening a request copied to me reads its CC notices (the navigation badge counts unread ones).

    Writes only when there is an unread one, in a write transaction; a failure (the database busy) is
    logged and the page is shown all the same."""
    from oa.record_models import Notification
    unread = (Notification.user == actor().username, Notification.kind == "cc",
              Notification.instance_id == inst.id, Notification.read_at.is_(None))
    if db.session.scalar(select(Notification.id).where(*unread).limit(1)) is None:
        return
    try:
        begin_write(db.session)
        db.session.execute(update(Notification).where(*unread).values(read_at=q.utcnow()))
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        log.warning("could not mark the CC notices of instance %s read", inst.id, exc_info=True)


@bp.get("/instances/<int:instance_id>")
def instance(instance_id: int) -> str:
    """The request: its data with the form's labels, attachments, the timeline, who has it now and what I
    may do (withdraw, urge, copy, resubmit); the diagram one click away (?view=diagram)."""
    inst = readable_instance(instance_id)
    _mark_cc_read(inst)
    history = q.history(db.session, inst.id)
    outcome = outcome_of(inst, any(e.type == "withdrawn" for e in history))
    tasks_open = open_tasks_of(inst)
    mine = inst.started_by == actor().username
    show_diagram = request.args.get("view") == "diagram"
    ctx: dict = {}
    files = attachments.list_for(db.session, inst.id)
    if show_diagram:
        xml = q.definition_xml(db.session, inst.definition)
        graph = q.process_graph(xml or b"", inst.process_key)
        done, flows = q.finished_path(graph, history, inst.active_element_ids, inst.status, inst.error_element_id)
        ctx = {"done": sorted(done), "done_flows": sorted(flows), "active": list(inst.active_element_ids or []),
               "api_token": issue_page_token(user())}
    return render_template(
        "approvals/instance.html", inst=inst, history=history, timeline=timeline(inst, history),
        shown=submitted(db.session, inst), files=files,
        uploaders=display_names([f.uploaded_by for f in files]),
        outcome=outcome, outcome_label=outcome_word(inst, outcome), outcome_badge=BADGE[outcome],
        open_tasks=tasks_open, pending=pending_people(tasks_open), show_diagram=show_diagram,
        can_withdraw=may_withdraw(inst), can_urge=mine and bool(urgeable(inst)),
        urged_recently=mine and inst.status == "running" and bool(tasks_open) and not urgeable(inst),
        can_copy=mine and has_start_form(inst), can_resubmit=mine and outcome == "rejected" and has_start_form(inst),
        applicant=display_names([inst.started_by or ""]).get(inst.started_by or "", inst.started_by),
        business=business_record(db.session, inst, viewer_for(db.session, user())), **ctx)


def has_start_form(inst: ProcessInstance) -> bool:
    """True when the request's process can still be started with a form (copy / resubmit); an order's
    approval is resubmitted from the order page instead (its order may be cancelled or changed since)."""
    if inst.process_key in STARTED_FROM_RECORD:
        return False
    try:
        d = definitions.get_definition(db.session, inst.process_key)
    except NotFound:
        return False
    return q.start_meta(d) is not None
