"""The Flask app factory: database, engine wiring (services, org chart), blueprints, errors."""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from pathlib import Path

from flask import Flask, g, request
from sqlalchemy import event

from api.config import ROOT, Settings
from api.errors import register_error_handlers
from api.extensions import db, migrate
from api.logging_setup import configure_logging
from api.sqlite_write_gate import install as install_sqlite_write_gate
from api.sqlite_write_gate import writing_request
from api.throttle import init_throttle
from api.web import init_web
from api.web.security import init_security_headers
from engine.instance_ends import InstanceEndHooks
from engine.runtime import Engine
from engine.scripting import ScriptLimits
from engine.services import ServiceRegistry
from engine.start_checks import StartChecks
from oa.org import OrgDirectory
from store.clock import set_company_timezone

log = logging.getLogger("oaflow.api")
API_PREFIX = "/api/v1"


def _sqlite_setup(engine) -> None:  # noqa: ANN001
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for write transactions."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn) -> None:  # noqa: ANN001
        # A request that changes something writes in its transaction: starting it IMMEDIATE takes the write
        # lock up front (waiting up to the busy timeout); a deferred read transaction that later writes fails
        # at once with "database is locked" when another writer committed meanwhile.
        immediate = conn.get_execution_options().get("oaflow_write") or writing_request()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _notifier(session, notices: list[tuple[str, str, str, str]], instance_id: int | None) -> None:  # noqa: ANN001
    """Engine notifications go to the OA in-app inbox, a step's all at once."""
    from oa.notifications import Notice, notify_many
    link = f"/instances/{instance_id}" if instance_id else None
    notify_many(session, [Notice(user, kind, title, body, link, instance_id) for user, kind, title, body in notices])


def _plug_crm_events(app: Flask) -> None:
    """A high-priority ticket starts `ticket_escalation` through its message start event; every in-app
    notification (task assigned, CC, urge, reminder, outcome, mentions) also goes to the webhooks."""
    from crm.tickets import ON_TICKET_CREATED
    from engine.runtime import Actor
    from store.errors import DomainError
    engine = app.extensions["oaflow_engine"]

    def escalate(session, ticket) -> None:  # noqa: ANN001
        if ticket.priority not in ("high", "urgent"):
            return
        session.flush()
        starter = ticket.created_by or "admin"
        variables = {"ticket_id": ticket.id, "customer_id": ticket.customer_id, "title": ticket.title,
                     "priority": ticket.priority, "owner": ticket.assignee or starter}
        try:
            engine.correlate(session, Actor(starter, frozenset({"integrator"})), "ticket_created",
                             f"ticket:{ticket.id}", variables)
        except DomainError as err:  # no escalation process deployed: the ticket still stands
            log.warning("ticket %s not escalated: %s", ticket.id, err.detail)

    from engine import webhooks
    from oa.notifications import ON_NOTIFY

    def to_webhooks(session, note) -> None:  # noqa: ANN001
        webhooks.enqueue(session, "notification", {"kind": note.kind, "user": note.user, "title": note.title,
                                                   "body": note.body, "instance_id": note.instance_id})

    ON_NOTIFY.clear()  # one app per process; tests build many
    ON_NOTIFY.append(to_webhooks)
    from oa.channels import fan_out
    ON_NOTIFY.append(fan_out)  # and to the user's e-mail / group-robot channels
    from crm.events import ON_RECORD_EVENT
    ON_RECORD_EVENT.clear()  # CRM record events (customer.created, opportunity.won…) go to the webhooks
    ON_RECORD_EVENT.append(webhooks.enqueue)
    from oa.org_admin import ON_USER_DEACTIVATED

    def hand_over(session, username: str, actor: str) -> None:  # noqa: ANN001
        from engine.handover import hand_over_tasks
        from oa.notifications import notify
        from store.messages import Message
        for row, to in hand_over_tasks(session, username, actor, engine.directory(session), engine.rules):
            notify(session, to, "task_assigned", Message("Task handed over to you: {task}", task=row.name,
                                                        process_key=row.process_key),
                   Message("{user} was deactivated", user=username), f"/tasks/{row.id}", row.instance_id)

    ON_USER_DEACTIVATED.clear()  # one app per process; tests build many
    ON_USER_DEACTIVATED.append(hand_over)
    if escalate not in ON_TICKET_CREATED:
        ON_TICKET_CREATED.clear()  # one app per process; tests build many
        ON_TICKET_CREATED.append(escalate)


def _plug_references(app: Flask) -> None:
    """Typed record references: the CRM/OA record types for forms (`x-oaflow-ref`), the look-up by which open
    tasks grant read access to the records their instances reference, and the audit of those reads."""
    from crm import audit
    from crm.access import plug_task_references
    from crm.references import register as register_crm_refs
    from engine.references import open_task_references
    from engine.runtime import begin_write
    from forms.references import registry
    from oa.org import OrgDirectory
    from oa.references import register as register_oa_refs
    register_crm_refs(registry)
    register_oa_refs(registry)
    plug_task_references(lambda session, username: open_task_references(
        session, username, OrgDirectory(session).groups_of(username)))

    @app.after_request
    def audit_task_reads(response):  # noqa: ANN001, ANN202
        if not audit.noted_reads(db.session):
            return response
        if response.status_code >= 400:
            audit.discard_noted_reads(db.session)
            return response
        try:
            begin_write(db.session)
            audit.add_noted_reads(db.session)
            db.session.commit()
        except Exception:  # the read was served; a lost audit row is logged, not turned into an error
            db.session.rollback()
            log.exception("could not record task-granted reads")
        return response


def build_services() -> ServiceRegistry:
    """The service-task registry with every domain package's operations."""
    registry = ServiceRegistry()
    from crm.operations import register as register_crm
    from oa.operations import register as register_oa
    register_oa(registry)
    register_crm(registry)
    return registry


def build_start_checks() -> StartChecks:
    """The start checks of the shipped flows (leave: computed working days, dates, overlaps; expense: receipts,
    line amounts of at least a cent; sales orders: drafts only)."""
    checks = StartChecks()
    from oa.leave_rules import register as register_leave_rules
    from oa.receipts import register_checks as register_receipt_checks
    register_leave_rules(checks)
    register_receipt_checks(checks)
    from oa.expense_rules import register_checks as register_expense_checks
    register_expense_checks(checks)
    from crm.orders import register_checks as register_order_checks
    register_order_checks(checks)
    from crm.invoices import register_checks as register_invoice_checks
    register_invoice_checks(checks)
    return checks


def build_end_hooks() -> InstanceEndHooks:
    """The instance-ended hooks of the shipped flows (sales orders: a withdrawn or cancelled approval puts the order
    back to draft)."""
    hooks = InstanceEndHooks()
    from crm.orders import register_end_hooks
    register_end_hooks(hooks)
    return hooks


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app for `settings` (from the environment by default)."""
    settings = settings or Settings()
    configure_logging(settings.log_json)
    app = Flask(__name__)
    secret = settings.secret_key
    if not secret:  # `oaflow serve` warns once and shares one key with its workers (api.config.ensure_secret_key)
        secret = secrets.token_hex(32)
    url = settings.sqlalchemy_url()
    engine_options: dict = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        engine_options["connect_args"] = {"check_same_thread": False, "timeout": 15}
    else:
        engine_options.update(pool_size=10, max_overflow=20, pool_timeout=settings.db_pool_wait)
    set_company_timezone(settings.timezone)  # an unknown zone stops the start with its name
    app.config.update(
        BABEL_DEFAULT_TIMEZONE=settings.timezone,  # every time the pages format is the company's
        SECRET_KEY=secret,
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes * 3,
        OAFLOW_MAX_FILE_BYTES=settings.max_upload_bytes,
        OAFLOW_TOKEN_TTL=settings.token_ttl_seconds,
        OAFLOW_MIGRATIONS_DIR=str(ROOT / "migrations"),
        OAFLOW_SETTINGS=settings,
        TESTING=settings.testing,
        JSON_SORT_KEYS=False,
    )
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    with app.app_context():
        if url.startswith("sqlite"):
            _sqlite_setup(db.engine)
    if url.startswith("sqlite"):
        # first of the before_request hooks
        install_sqlite_write_gate(app, settings.sqlite_write_wait, settings.sqlite_max_waiting)
    limits = ScriptLimits(script_timeout=settings.script_timeout)
    services = build_services()
    from api.connectors.http import register as register_http_connector
    register_http_connector(services, settings)
    app.extensions["oaflow_engine"] = Engine(services, OrgDirectory, limits=limits, notifier=_notifier,
                                             rules=settings.approval_rules(), start_checks=build_start_checks(),
                                             end_hooks=build_end_hooks())
    Path(settings.upload_dir).mkdir(parents=True, exist_ok=True)
    _plug_crm_events(app)
    _plug_references(app)

    init_web(app)  # web pages (mounted at /): Babel, CSRF for the pages only, session cookie flags
    init_throttle(app)  # login/credential rate limits, lockout policy, trusted proxies (X-Forwarded-*)
    for module in _route_modules():
        app.register_blueprint(module.bp, url_prefix=getattr(module, "URL_PREFIX", API_PREFIX))
    from api.camunda import external as camunda_external
    from api.camunda import openapi as camunda_openapi
    from api.camunda import routes as camunda_routes  # the Camunda 7 REST subset under /engine-rest
    for camunda in (camunda_routes, camunda_external, camunda_openapi):
        app.register_blueprint(camunda.bp, url_prefix=camunda.URL_PREFIX)
    register_error_handlers(app)
    _request_logging(app)
    init_security_headers(app)  # CSP without inline script, no framing, nosniff
    _favicon(app)
    return app


def _favicon(app: Flask) -> None:
    """`/favicon.ico`, which browsers ask for on any page (and API tools too): the web app's SVG icon."""
    from flask import send_from_directory

    from api.web.blueprint import static_root

    @app.get("/favicon.ico")
    def favicon():  # noqa: ANN202
        return send_from_directory(static_root(), "favicon.svg", mimetype="image/svg+xml", max_age=86400)


def _route_modules() -> list:
    """Every module of api/routes that defines a blueprint `bp` (URL_PREFIX overrides /api/v1)."""
    import importlib
    import pkgutil

    import api.routes
    modules = []
    for info in sorted(pkgutil.iter_modules(api.routes.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"api.routes.{info.name}")
        if hasattr(module, "bp"):
            modules.append(module)
    return modules


def _request_logging(app: Flask) -> None:
    access = logging.getLogger("oaflow.access")

    @app.before_request
    def start_timer() -> None:
        g.started = g.get("started") or time.perf_counter()  # the SQLite write gate starts it before queueing
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex[:16]

    @app.after_request
    def log_request(response):  # noqa: ANN001, ANN202
        duration = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        user = g.get("principal") or g.get("user")  # API requests: the principal; web pages: the user
        access.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "method": request.method, "path": request.path, "status": response.status_code,
            "duration_ms": round(duration, 1), "user": user.username if user else None,
            "request_id": g.get("request_id")})
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response
