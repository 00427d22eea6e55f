"""The `oaflow` command line: init, seed-demo, serve, scheduler, deploy, user add, api-key create|list|revoke."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.exc import ArgumentError, OperationalError

from api.config import ROOT, Settings

log = logging.getLogger("oaflow.cli")


def _app():  # noqa: ANN202
    from api.app import create_app
    try:
        return create_app(Settings())
    except ArgumentError as err:
        raise click.ClickException(f"OAFLOW_DATABASE_URL is not a valid database URL: {err}") from err
    except ModuleNotFoundError as err:
        raise click.ClickException(f"the database driver is not installed: {err}") from err


def _check_database(app) -> None:  # noqa: ANN001
    from api.extensions import db
    from api.migrations_state import migration_state
    with app.app_context():
        try:
            state = migration_state(db.engine, app.config["OAFLOW_MIGRATIONS_DIR"])
        except OperationalError as err:
            raise click.ClickException(
                f"cannot connect to the database {db.engine.url.render_as_string(hide_password=True)}: "
                f"{str(err.orig).strip().splitlines()[0] if err.orig else err}") from err
    if not state["up_to_date"]:
        raise click.ClickException(
            f"the database is not migrated (at {state['current'] or 'no revision'}, code needs "
            f"{state['head']}): run `oaflow init` first")


@click.group()
def main() -> None:
    """oaflow: BPMN approval flows, OA and CRM."""


def deploy_paths(app, paths: list[Path], user: str = "cli") -> list[str]:  # noqa: ANN001
    """Deploy files (and folders of them) as one deployment; returns 'key vN (new|unchanged)' lines."""
    from api.extensions import db
    from engine import definitions
    from engine.errors import DeploymentInvalid

    files: dict[str, bytes] = {}
    for path in paths:
        candidates = sorted(path.iterdir()) if path.is_dir() else [path]
        for item in candidates:
            if item.is_file() and definitions.kind_of(item.name):
                files[item.name] = item.read_bytes()
    with app.app_context():
        engine = app.extensions["oaflow_engine"]
        try:
            result = definitions.deploy(db.session, files, engine.services.signatures(), user=user)
            db.session.commit()
            engine.start_timer_processes(db.session, [d for d, c in zip(result.definitions, result.created,
                                                                        strict=True) if c])
        except DeploymentInvalid as err:
            db.session.rollback()
            lines = [f"  {p.file}:{p.line or '?'} [{p.element_id or '-'}] {p.message}" for p in err.problems]
            raise click.ClickException("deployment refused:\n" + "\n".join(lines)) from err
        return [f"{d.key} v{d.version} ({'new' if c else 'unchanged'})"
                for d, c in zip(result.definitions, result.created, strict=True)]


@main.command()
def init() -> None:
    """Migrate the database to the latest schema and deploy processes/ with forms/."""
    from flask_migrate import upgrade
    app = _app()
    with app.app_context():
        click.echo("migrating the database ...", err=True)
        try:
            upgrade(directory=app.config["OAFLOW_MIGRATIONS_DIR"], revision="heads")
        except OperationalError as err:
            raise click.ClickException(f"cannot migrate the database: {err.orig or err}") from err
    click.echo("deploying processes/ and forms/ ...", err=True)
    for line in deploy_paths(app, [ROOT / "processes", ROOT / "forms"]):
        click.echo(f"  {line}")
    with app.app_context():  # the company calendar: shipped public holidays, never overwriting an admin's edit
        from api.extensions import db
        from oa.holidays import load_shipped
        click.echo(f"company calendar: {load_shipped(db.session)} shipped holiday dates checked", err=True)
        db.session.commit()
    click.echo("ready", err=True)


@main.command("seed-demo")
def seed_demo() -> None:
    """Create the demo organisation and users (password: demo); safe to run twice."""
    from api.extensions import db
    from oa import demo_records
    from oa.demo import seed_organisation
    app = _app()
    _check_database(app)
    progress = lambda m: click.echo(f"  {m}", err=True)  # noqa: E731
    with app.app_context():
        click.echo("organisation ...", err=True)
        created = seed_organisation(db.session, progress=progress)
        db.session.commit()
        click.echo("attendance, announcements, calendar, forum ...", err=True)
        demo_records.seed(db.session, progress=progress)
        db.session.commit()
        for name, seed in _crm_seeders(app):
            click.echo(f"{name} ...", err=True)
            seed(db.session, progress=progress)
            db.session.commit()
    click.echo(f"demo organisation ready ({created} users created)")


def _crm_seeders(app=None) -> list:  # noqa: ANN001
    from functools import partial

    from crm import demo
    engine = app.extensions.get("oaflow_engine") if app is not None else None
    return [("customers, pipeline, contracts", demo.seed),
            ("products, quotes, orders, invoices", partial(demo.seed_sales, engine=engine))]


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def deploy(files: tuple[Path, ...]) -> None:
    """Deploy BPMN/DMN/form files (or folders of them) as one deployment."""
    app = _app()
    _check_database(app)
    for line in deploy_paths(app, list(files)):
        click.echo(line)


@main.group()
def user() -> None:
    """Manage users."""


@user.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["admin", "designer", "employee", "integrator"]))
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.option("--manager", default=None, help="username of the user's manager")
@click.option("--group", "groups", multiple=True, help="group to join (created if missing)")
def user_add(name: str, roles: tuple[str, ...], password_stdin: bool, manager: str | None,
             groups: tuple[str, ...]) -> None:
    """Create a user (or update its roles, password, manager and groups)."""
    from api.auth import hash_password
    from api.extensions import db
    from oa import admin_audit
    from oa.models import Group, User
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    if password_stdin and not password:
        raise click.ClickException("no password on standard input")
    app = _app()
    _check_database(app)
    with app.app_context():
        existing = db.session.scalar(select(User).where(User.username == name))
        account = existing or User(username=name)
        before = {"username": existing.username, **admin_audit.user_fields(existing)} if existing else {}
        account.roles = sorted(set(roles))
        if password:
            account.password_hash = hash_password(password)
            account.token_version = (account.token_version or 0) + 1
        if manager:
            boss = db.session.scalar(select(User).where(User.username == manager))
            if boss is None:
                raise click.ClickException(f"no user '{manager}'")
            account.manager = boss
        for gname in groups:
            group = db.session.scalar(select(Group).where(Group.name == gname))
            if group is None:
                group = Group(name=gname)
                db.session.add(group)
                db.session.flush()
                admin_audit.record(db.session, admin_audit.CLI, "group", group.id, gname, "created",
                                   {"name": (None, gname)})
            if group not in account.groups:
                account.groups.append(group)
        db.session.add(account)
        db.session.flush()
        changes = admin_audit.diff(before, {"username": account.username, **admin_audit.user_fields(account)})
        if password:
            changes["password"] = (None, admin_audit.CHANGED if existing else admin_audit.SET)
        if changes:
            admin_audit.record(db.session, admin_audit.CLI, "user", account.id, admin_audit.user_name(account),
                               "updated" if existing else "created", changes)
        db.session.commit()
    click.echo(f"user {name} ({', '.join(sorted(set(roles)))})")


@user.command("unlock")
@click.argument("name")
def user_unlock(name: str) -> None:
    """Clear every login lockout and failure count of user NAME (all client addresses)."""
    from api.extensions import db
    from oa.lockout import unlock
    from oa.models import User
    app = _app()
    _check_database(app)
    with app.app_context():
        if db.session.scalar(select(User.id).where(User.username == name)) is None:
            raise click.ClickException(f"no user '{name}'")
        cleared = unlock(db.session, name)
        db.session.commit()
    click.echo(f"user {name} unlocked ({cleared} client entr{'y' if cleared == 1 else 'ies'} cleared)")


@main.group("api-key")
def api_key() -> None:
    """Manage integrator API keys."""


@api_key.command("create")
@click.argument("name")
@click.option("--act-as", is_flag=True, help="the key may start flows on behalf of a named employee (started_by)")
@click.option("--expires", default=None, help="lifetime such as 30d, 12h, 2w (default: none)")
@click.option("--scope", "scopes", multiple=True,
              help="repeatable: start:<process key>, start:*, read:instances, read:crm, write:crm")
def api_key_create(name: str, act_as: bool, expires: str | None, scopes: tuple[str, ...]) -> None:
    """Create an API key for service account NAME (created with role integrator if missing).

    The key is printed once, alone on the last line; only its hash is stored.
    """
    from api.api_keys import check_scopes, parse_expiry
    from api.auth import issue_api_key
    from api.extensions import db
    from oa import admin_audit
    from oa.models import User
    try:
        expires_at = parse_expiry(expires) if expires else None
        checked = check_scopes(list(scopes))
    except ValueError as err:
        raise click.BadParameter(str(err)) from err
    app = _app()
    _check_database(app)
    with app.app_context():
        account = db.session.scalar(select(User).where(User.username == name))
        if account is None:
            account = User(username=name, display_name=name, roles=["integrator"])
            db.session.add(account)
            db.session.flush()
            admin_audit.record(db.session, admin_audit.CLI, "user", account.id, admin_audit.user_name(account),
                               "created", {"username": (None, name), "roles": (None, ["integrator"])})
        row, key = issue_api_key(account, name, act_as, checked, expires_at)
        admin_audit.api_key_created(db.session, admin_audit.CLI, row)
        db.session.commit()
    click.echo(f"API key for {name} (store it now: it is not shown again):", err=True)
    click.echo(key)


@api_key.command("list")
@click.option("--user", "username", default=None, help="only this user's keys")
def api_key_list(username: str | None) -> None:
    """List API keys (id, prefix, user, scopes, expiry, state); never a secret."""
    from api.api_keys import key_out
    from api.extensions import db
    from oa.models import ApiKey, User
    app = _app()
    _check_database(app)
    with app.app_context():
        query = select(ApiKey).order_by(ApiKey.id)
        if username:
            query = query.join(User, User.id == ApiKey.user_id).where(User.username == username)
        for row in db.session.scalars(query):
            out = key_out(row)
            state = "revoked" if row.revoked else "active"
            click.echo(f"{out['id']}\t{out['prefix']}\t{out['user']}\t{out['name']}\t{state}\t"
                       f"expires={out['expires_at'] or '-'}\tscopes={','.join(out['scopes']) or '*'}"
                       f"{chr(9) + 'act-as' if row.act_as else ''}")


@api_key.command("revoke")
@click.argument("key_id", type=int)
def api_key_revoke(key_id: int) -> None:
    """Revoke API key KEY_ID (see `oaflow api-key list`): it stops working at once."""
    from api.extensions import db
    from oa import admin_audit
    from oa.models import ApiKey
    app = _app()
    _check_database(app)
    with app.app_context():
        row = db.session.get(ApiKey, key_id)
        if row is None:
            raise click.ClickException(f"no API key {key_id}")
        if not row.revoked:
            row.revoked = True
            admin_audit.api_key_revoked(db.session, admin_audit.CLI, row)
        db.session.commit()
    click.echo(f"API key {key_id} revoked")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
@click.option("--no-scheduler", is_flag=True, help="do not fire timers in this process (run `oaflow scheduler`)")
def serve(host: str, port: int, workers: int, threads: int, no_scheduler: bool) -> None:
    """Serve the API with gunicorn (gthread workers); timers fire from a scheduler in each worker."""
    from api.config import ensure_secret_key
    from api.server import public_url, run_gunicorn
    if ensure_secret_key():  # once here, shared by every worker forked below
        click.echo("warning: OAFLOW_SECRET_KEY is not set: using a random key for this run; "
                   "logins will not survive a restart", err=True)
    app = _app()
    _check_database(app)
    logins = _demo_logins(app)
    line = f"oaflow is ready at {public_url(host, port)}"
    if logins:
        line += f" - log in as {', '.join(logins)} (password: demo)"
    # SQLite: writers queue in each worker; beside the one writing, two threads stay free for reads and /healthz
    os.environ.setdefault("OAFLOW_SQLITE_MAX_WAITING", str(max(1, threads - 3)))
    run_gunicorn(host, port, workers, threads, scheduler=not no_scheduler, ready_line=line)


def _demo_logins(app) -> list[str]:  # noqa: ANN001
    """The demo users that still have the demo password (none on a real installation)."""
    from werkzeug.security import check_password_hash

    from api.extensions import db
    from oa.demo import DEMO_USERS
    from oa.models import User
    names = [name for name, *_rest in DEMO_USERS if name != "erp"]
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))}
        probe = users.get("alice") or next(iter(users.values()), None)
        demo = probe is not None and probe.password_hash and check_password_hash(probe.password_hash, "demo")
        db.session.remove()
    return [n for n in ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "admin"] if n in users] if demo \
        else []


@main.command()
@click.option("--interval", default=None, type=float, help="seconds between polls")
def scheduler(interval: float | None) -> None:
    """Run only the timer scheduler (for deployments that keep it out of the web workers)."""
    from api.scheduler import start_scheduler
    app = _app()
    _check_database(app)
    sched = start_scheduler(app, interval)
    click.echo("scheduler running; Ctrl-C to stop", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sched.shutdown()
