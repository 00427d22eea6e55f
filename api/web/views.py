"""The web pages: login, home, my tasks, task page, start a request, my requests, process view, designer.

Pages call the same engine and domain functions as the v1 API, with the same permission checks
(engine.check_task_access, engine.can_read_instance, role checks). The session cookie carries only
the user id, token version and session epoch; a password change (token_version bump) logs the browser
out too, and logging out bumps the epoch, so a copied cookie is refused after the logout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select, update

from api.auth import actor_of, issue_page_token, password_login
from api.config import ROOT
from api.errors import ApiError
from api.extensions import db
from api.http import query_args
from api.state import get_engine
from api.throttle import TooManyAttempts
from api.web import LANGUAGES, csrf  # noqa: F401
from api.web import queries as q
from api.web.schema_forms import build_fields, errors_by_field, parse_submission
from engine import definitions
from engine.errors import DeploymentInvalid
from engine.models import HistoryEvent, ProcessDefinition, ProcessInstance, Task
from engine.parsing import ElementMeta
from engine.runtime import Actor
from oa.models import User
from store.errors import DomainError, Forbidden, InvalidData, NotFound

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/web")
PUBLIC = {"web.login", "web.static", "web.set_language", "web.vendor"}
VENDOR_DIR = ROOT / "node_modules" / "bpmn-js" / "dist"
MAX_COMMENT = 4000


# ------------------------------------------------------------------ session, CSRF, errors
def _session_user() -> User | None:
    uid = session.get("uid")
    if not isinstance(uid, int):
        return None
    user = db.session.get(User, uid)
    if (user is None or not user.active or user.token_version != session.get("tv")
            or user.session_epoch != session.get("se")):
        return None
    return user


@bp.before_request
def _guard() -> Response | None:
    """CSRF on every POST of the web pages; a login redirect for pages that need a user."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    user = _session_user()
    if user is not None:
        g.user = user
        g.actor = actor_of(user)
    if user is None and request.endpoint not in PUBLIC:
        if session.get("uid"):
            session.clear()
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return None


def actor() -> Actor:
    """The logged-in user as the engine sees them."""
    return g.actor


def user() -> User:
    """The logged-in user."""
    return g.user


@bp.app_context_processor
def _template_globals() -> dict:
    return {"web_user": g.get("user") if request and request.blueprint == "web" else None,
            "is_designer": bool(g.get("user") and g.user.has_role("designer", "admin"))}


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError) -> tuple[str, int]:
    status = getattr(err, "status", 400)
    return render_template("error.html", status=status, title=_(err.title), detail=err.detail,
                           errors=err.errors), status


@bp.errorhandler(CSRFError)
def _csrf_error(err: CSRFError) -> tuple[str, int]:
    return render_template("error.html", status=400, title=_("Form expired"),
                           detail=_("The form was too old or not sent from this site. Reload the page and try again."),
                           errors=[]), 400


@bp.errorhandler(404)
def _not_found(err: Exception) -> tuple[str, int]:
    return render_template("error.html", status=404, title=_("Not found"), detail=None, errors=[]), 404


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("web.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.home")
    return target


# ------------------------------------------------------------------ login, language, vendor assets
@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login form; on success a fresh session cookie (HttpOnly, SameSite=Lax). The same rate limits
    and per-client lockout as POST /api/v1/auth/token (api.auth.password_login)."""
    error = None
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()[:100]
        password = (request.form.get("password") or "")[:1000]
        try:
            found = password_login(username, password) if username and password else None
        except TooManyAttempts as err:
            error = _("Too many login attempts. Try again in %(seconds)s seconds.", seconds=err.retry_after)
            return (render_template("login.html", error=error, username=username), 429,
                    {"Retry-After": str(err.retry_after)})
        if found is None:
            error = _("Unknown user name or wrong password.")
        else:
            lang = session.get("lang")
            session.clear()
            session.permanent = True
            session["uid"], session["tv"], session["se"] = found.id, found.token_version, found.session_epoch
            if lang:
                session["lang"] = lang
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error, username=username), 401 if error else 200


@bp.post("/logout")
def logout() -> Response:
    """End the session on the server too: bumping the user's session epoch voids every copy of the cookie
    (and the user's other browser sessions)."""
    db.session.execute(update(User).where(User.id == user().id)
                       .values(session_epoch=User.session_epoch + 1))
    db.session.commit()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("web.login"))


@bp.get("/lang/<code>")
def set_language(code: str) -> Response:
    """Switch the interface language (en or zh_CN) and go back."""
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    return redirect(_safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path))


@bp.get("/vendor/bpmn-js/<path:filename>")
def vendor(filename: str) -> Response:
    """bpmn-js distribution files, served from node_modules (installed by `npm ci`, never committed)."""
    if not VENDOR_DIR.is_dir():
        abort(404)
    return send_from_directory(VENDOR_DIR, filename, max_age=86400)


# ------------------------------------------------------------------ home and task list
@bp.get("/")
def home() -> str:
    """Counts of my open tasks, my requests in progress and unread notifications."""
    me = actor()
    tasks_q = q.my_tasks_query(me)
    counts = {
        "tasks": q.count(db.session, tasks_q),
        "overdue": q.count(db.session, q.my_tasks_query(me, due="overdue")),
        "requests": q.count(db.session, q.my_requests_query(me, "running")),
        "notifications": q.unread_notifications(db.session, me.username),
    }
    recent = db.session.scalars(tasks_q.limit(5)).all()
    return render_template("home.html", counts=counts, recent=recent, now=q.utcnow())


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
    return render_template("tasks.html", rows=rows, total=total, args=args, keys=keys, page=args["page"],
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
        _readable_task(task_id)
    results = get_engine().batch_complete(db.session, ids, actor(), {"approved": decision == "true"},
                                          _comment_arg())
    ok = sum(1 for r in results if r.get("status") == 200)
    flash(_("%(ok)s of %(n)s tasks completed.", ok=ok, n=len(results)), "ok" if ok == len(results) else "error")
    for r in results:
        if r.get("status") != 200:
            flash(f"{r['task_id'][:8]}: {r.get('detail', '')}", "error")
    return redirect(url_for("web.tasks"))


# ------------------------------------------------------------------ one task
def _readable_task(task_id: str) -> Task:
    row = db.session.get(Task, task_id[:36])
    if row is None:
        raise NotFound(f"no task {task_id[:36]}")
    get_engine().check_task_access(db.session, row, actor())
    return row


def _history(instance_id: int) -> list[HistoryEvent]:
    return list(db.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
                                   .order_by(HistoryEvent.id)))


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
    general = [m for k, m in errors.items() if k not in _all_paths(form_fields)]
    actions = {name: engine_has(name) for name in ENGINE_ACTIONS}
    may_work = _may_work(row)
    targets = []
    if may_work and actions["return_to"]:
        targets = get_engine().return_targets(db.session, row.id, actor())
    return render_template(
        "task.html", task=row, inst=inst, fields=form_fields, history=_history(inst.id), may_work=may_work,
        has_comment_field=has_comment_field, approve_field=approve_field, general_errors=general,
        comment=comment, actions=actions, is_overdue=q.is_overdue(row), schema=schema,
        labels=_variable_labels(inst.definition), return_targets=targets,
        may_urge=actions["urge"] and row.status == "open" and inst.started_by == actor().username), status


def _variable_labels(d: ProcessDefinition) -> dict[str, str]:
    """Titles of the start form's fields, to label an instance's variables."""
    meta = _start_meta(d)
    schema = d.forms.get(meta.form or "") if meta else None
    props = (schema or {}).get("properties") or {}
    return {k: v.get("title") or k for k, v in props.items() if isinstance(v, dict)}


def _all_paths(items: list) -> set[str]:
    out: set[str] = set()
    for f in items:
        out.add(f.path)
        for row in f.rows:
            out |= _all_paths(row)
        out |= _all_paths(f.children)
    return out


@bp.get("/tasks/<task_id>")
def task(task_id: str) -> tuple[str, int]:
    """The task page: instance summary, history, the form, the actions."""
    return _render_task(_readable_task(task_id))


def _comment_arg() -> str | None:
    text = (request.form.get("comment_text") or "").strip()
    if len(text) > MAX_COMMENT:
        raise InvalidData("the comment is too long", errors=[{"field": "comment_text",
                                                               "message": f"at most {MAX_COMMENT} characters"}])
    return text or None


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str) -> Any:
    """Complete (approve/reject) the task with the submitted form; field errors re-render the form."""
    row = _readable_task(task_id)
    inst = db.session.get(ProcessInstance, row.instance_id)
    schema = inst.definition.forms.get(row.form or "") if row.form else None
    values, errors = parse_submission(schema, request.form)
    if request.form.get("_add_row"):  # no-JS "add a line" button: show the form again with one more row
        path = request.form["_add_row"]
        _append_row(values, path)
        return _render_task(row, values, {}, request.form.get("comment_text", ""))
    comment = request.form.get("comment_text", "")
    try:
        comment_value = _comment_arg()
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


def _append_row(values: dict, path: str) -> None:
    if "/" in path or not path:
        return
    rows = values.get(path)
    values[path] = (rows if isinstance(rows, list) else []) + [{}]


@bp.post("/tasks/<task_id>/claim")
def claim_task(task_id: str) -> Response:
    """Take a task offered to my group."""
    row = _readable_task(task_id)
    get_engine().claim(db.session, row.id, actor())
    flash(_("You took the task."), "ok")
    return redirect(url_for("web.task", task_id=row.id))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim_task(task_id: str) -> Response:
    """Give a claimed task back to its candidates."""
    row = _readable_task(task_id)
    get_engine().unclaim(db.session, row.id, actor())
    flash(_("You gave the task back."), "ok")
    return redirect(url_for("web.task", task_id=row.id))


@bp.post("/tasks/<task_id>/comment")
def comment_task(task_id: str) -> Any:
    """Add a comment to the task's history."""
    row = _readable_task(task_id)
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
    row = _readable_task(task_id)
    engine = get_engine()
    comment = _comment_arg()
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


# ------------------------------------------------------------------ start a request, my requests
def _start_meta(d: ProcessDefinition) -> ElementMeta | None:
    for raw in d.elements.values():
        meta = ElementMeta.from_dict(raw)
        if meta.kind == "startEvent" and meta.form:
            return meta
    return None


@bp.get("/start")
def catalogue() -> str:
    """Processes I can start: the latest version of each key that has a start form."""
    items = [(d, _start_meta(d)) for d in definitions.latest_definitions(db.session)]
    return render_template("catalogue.html", items=[(d, m) for d, m in items if m is not None])


def _render_start(d: ProcessDefinition, values: dict, errors: dict[str, str], status: int = 200,
                  business_key: str = "") -> tuple[str, int]:
    meta = _start_meta(d)
    if meta is None:
        raise NotFound(f"process '{d.key}' has no start form")
    schema = d.forms.get(meta.form or "")
    ui = d.forms.get(meta.ui_form or "") if meta.ui_form else None
    form_fields = build_fields(schema, ui, values, errors)
    general = [m for k, m in errors.items() if k not in _all_paths(form_fields)]
    return render_template("start.html", d=d, fields=form_fields, general_errors=general,
                           business_key=business_key), status


@bp.get("/start/<key>")
def start_form(key: str) -> tuple[str, int]:
    """The start form of a process."""
    return _render_start(definitions.get_definition(db.session, key[:255]), {}, {})


@bp.post("/start/<key>")
def start(key: str) -> Any:
    """Start a request from the submitted start form."""
    d = definitions.get_definition(db.session, key[:255])
    meta = _start_meta(d)
    if meta is None:
        raise NotFound(f"process '{d.key}' has no start form")
    values, errors = parse_submission(d.forms.get(meta.form or ""), request.form)
    if request.form.get("_add_row"):
        _append_row(values, request.form["_add_row"])
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
    return render_template("requests.html", rows=rows, total=total, args=args, open_tasks=open_tasks,
                           page=args["page"], pages=max(1, -(-total // PER_PAGE)),
                           can_withdraw=engine_has("withdraw"))


@bp.post("/requests/<int:instance_id>/withdraw")
def withdraw(instance_id: int) -> Response:
    """Withdraw my own request (once the engine offers withdraw; cancel by the starter otherwise)."""
    inst = _readable_instance(instance_id)
    if inst.started_by != actor().username and not actor().is_admin:
        raise Forbidden("only the starter can withdraw a request")
    engine = get_engine()
    if engine_has("withdraw"):
        engine.withdraw(db.session, instance_id, actor(), "withdrawn in the web app")
    else:
        engine.cancel(db.session, instance_id, actor(), "withdrawn")
    flash(_("Request withdrawn."), "ok")
    return redirect(url_for("web.my_requests"))


# ------------------------------------------------------------------ process view
def _readable_instance(instance_id: int) -> ProcessInstance:
    inst = db.session.get(ProcessInstance, instance_id)
    if inst is None or not get_engine().can_read_instance(db.session, inst, actor()):
        raise NotFound(f"no process instance {instance_id}")
    return inst


@bp.get("/instances/<int:instance_id>")
def instance(instance_id: int) -> str:
    """The diagram with the finished path and active elements marked, beside the history."""
    inst = _readable_instance(instance_id)
    history = _history(inst.id)
    xml = q.definition_xml(db.session, inst.definition)
    graph = q.process_graph(xml or b"", inst.process_key)
    done, flows = q.finished_path(graph, history, inst.active_element_ids, inst.status, inst.error_element_id)
    tasks_open = db.session.scalars(select(Task).where(Task.instance_id == inst.id, Task.status == "open")).all()
    token = issue_page_token(user())
    return render_template("instance.html", inst=inst, history=history, done=sorted(done),
                           done_flows=sorted(flows), active=list(inst.active_element_ids or []),
                           open_tasks=tasks_open, api_token=token,
                           can_withdraw=inst.status == "running" and inst.started_by == actor().username)


# ------------------------------------------------------------------ designer
def _require_designer() -> None:
    if not user().has_role("designer", "admin"):
        raise Forbidden("the designer needs the designer or admin role")


def _uploaded() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    cap = int(current_app.config["OAFLOW_MAX_FILE_BYTES"])
    for storage in request.files.getlist("files"):
        name = (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        if not name:
            continue
        if name in files:
            raise InvalidData(_("A file was chosen twice."), errors=[{"field": "files", "message": name}])
        content = storage.read(cap + 1)
        if len(content) > cap:
            raise InvalidData(_("A file is too large."), errors=[{"field": "files", "message": name}])
        files[name] = content
    if not files:
        raise InvalidData(_("Choose at least one file."), errors=[{"field": "files",
                                                                  "message": _("Choose at least one file.")}])
    return files


@bp.get("/designer")
def designer() -> str:
    """Upload form and the deployed processes with their versions."""
    _require_designer()
    return _render_designer()


def _render_designer(**kw: Any) -> str:
    latest = definitions.latest_definitions(db.session)
    return render_template("designer.html", latest=latest, **kw)


@bp.post("/designer")
def designer_upload() -> Any:
    """Validate (and, when asked and valid, deploy) uploaded BPMN/DMN/form files."""
    _require_designer()
    try:
        files = _uploaded()
    except InvalidData as err:
        return _render_designer(upload_error=err.detail), 422
    signatures = get_engine().services.signatures()
    bpmn = {n: c.decode("utf-8", "replace") for n, c in files.items() if n.lower().endswith(".bpmn")}
    if request.form.get("action") == "deploy":
        try:
            result = definitions.deploy(db.session, files, signatures, name=request.form.get("name") or None,
                                        user=user().username)
            db.session.commit()
        except DeploymentInvalid as err:
            db.session.rollback()
            return _render_designer(problems=[p.to_dict() for p in err.problems], bpmn=bpmn, checked=True), 422
        except Exception:
            db.session.rollback()
            raise
        created = [d for d, c in zip(result.definitions, result.created, strict=True) if c]
        flash(_("Deployed: %(names)s", names=", ".join(f"{d.key} v{d.version}" for d in created)
                or _("nothing changed")), "ok")
        return redirect(url_for("web.designer"))
    db.session.rollback()
    _bundle, processes, problems = definitions.validate(db.session, files, signatures)
    db.session.rollback()
    return _render_designer(problems=[p.to_dict() for p in problems], bpmn=bpmn, checked=True,
                            processes=sorted(processes))


@bp.get("/designer/processes/<key>")
def versions(key: str) -> str:
    """Every version of a process, to browse and compare."""
    _require_designer()
    rows = db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key[:255])
                              .order_by(ProcessDefinition.version.desc())).all()
    if not rows:
        raise NotFound(f"no process definition '{key}'")
    return render_template("versions.html", key=key, rows=rows)


class DiffArgs(Schema):
    """The two versions to compare."""

    class Meta:
        unknown = RAISE

    a = fields.Integer(required=True, validate=validate.Range(min=1))
    b = fields.Integer(required=True, validate=validate.Range(min=1))


@bp.get("/designer/processes/<key>/diff")
def diff(key: str) -> str:
    """Which elements changed between versions a and b (ids, names, attributes, scripts)."""
    _require_designer()
    args = query_args(DiffArgs)
    old = definitions.get_definition(db.session, key[:255], args["a"])
    new = definitions.get_definition(db.session, key[:255], args["b"])
    changes = q.diff_versions(q.definition_xml(db.session, old), q.definition_xml(db.session, new))
    token = issue_page_token(user())
    return render_template("diff.html", key=key, old=old, new=new, changes=changes, api_token=token)


@bp.get("/processes/<key>")
def process(key: str) -> str:
    """A process definition's diagram (latest or ?version=N)."""
    version = request.args.get("version", type=int)
    if request.args.get("version") and (version is None or version < 1):
        raise ApiError(422, "Invalid query", "version must be a positive whole number",
                       [{"field": "version", "message": "must be a positive whole number"}])
    d = definitions.get_definition(db.session, key[:255], version)
    token = issue_page_token(user())
    return render_template("process.html", d=d, api_token=token, start=_start_meta(d) is not None)


def static_root() -> Path:
    """Where the web app's own static files live."""
    return Path(bp.static_folder or "")


# the CRM, OA and dashboard pages register their routes on `bp` (imported last: they use the helpers above)
from api.web import crm_pages, dashboard, oa_pages  # noqa: E402, F401
