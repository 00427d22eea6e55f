"""Admin: users (search, create, edit roles/department/manager/groups, deactivate and reactivate, unlock,
reset password), departments and groups (list, create, edit group membership). The same oa.org_admin and
oa.lockout functions as /api/v1/users, /departments, /groups and /users/{name}/unlock. A password is never
shown after it was set, and a hash never at all: a generated password appears once, on the answer page."""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from api.extensions import db
from api.http import paginate
from api.web.admin import reveal
from api.web.admin.common import require_admin
from api.web.blueprint import bp
from api.web.common.filters import MAX_PAGE, PER_PAGE, load_filters, page_links
from api.web.common.forms import load_form
from api.web.common.schema_forms import errors_by_field
from api.web.common.session import user as me
from engine.runtime import begin_write
from oa import admin_audit, org_admin
from oa.lockout import unlock
from oa.models import ROLES, Group, User
from store.clock import company_date
from store.errors import DomainError, NotFound

_name = validate.Length(min=1, max=100)
MAX_MEMBERS = 500


class UserFilters(Schema):
    """Search by name, department, include the deactivated ones."""

    class Meta:
        unknown = RAISE

    q = fields.String(validate=validate.Length(max=100))
    department = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    include_inactive = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))


class UserForm(Schema):
    """The user form's single-valued inputs (roles and groups are checkboxes, read separately)."""

    class Meta:
        unknown = RAISE

    username = fields.String(validate=[_name, validate.Regexp(r"^[A-Za-z0-9_.@-]+$",
                                                              error="letters, digits, _ . @ - only")])
    display_name = fields.String(validate=validate.Length(max=200))
    email = fields.Email(validate=validate.Length(max=200))
    department_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    manager = fields.String(validate=_name)
    password = fields.String(validate=validate.Length(max=1000))
    start_date = fields.Date()  # hire date; its bounds are oa.org_admin's, as for /api/v1/users


class PasswordForm(Schema):
    """Reset: a password typed by the admin, or none to generate a one-time one."""

    class Meta:
        unknown = RAISE

    password = fields.String(validate=validate.Length(max=1000))


class NameForm(Schema):
    """A new department or group."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=_name)
    parent_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class DepartmentForm(Schema):
    """A department's name, parent, head and whether it is active."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=_name)
    parent_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    head = fields.String(validate=_name)
    active = fields.Boolean()


class MembersForm(Schema):
    """A group's members: user names separated by commas, spaces or lines (the picker posts them comma-separated)."""

    class Meta:
        unknown = RAISE

    members = fields.String(validate=validate.Length(max=MAX_MEMBERS * 101))


def one_time_password() -> str:
    """A random password to hand to the user once."""
    return secrets.token_urlsafe(12)


# the roles of oa.models.ROLES as people read them (the keys are stored on users)
ROLE_LABELS = {"admin": _l("Administrator"), "designer": _l("Process designer"), "employee": _l("Employee"),
               "integrator": _l("Integration account")}
assert set(ROLE_LABELS) == set(ROLES)


def _choices() -> dict[str, Any]:
    departments = db.session.scalars(org_admin.departments_query()).all()
    groups = db.session.scalars(select(Group).order_by(Group.name)).all()
    return {"roles": ROLES, "role_labels": ROLE_LABELS, "departments": departments,
            "groups": [g.name for g in groups]}


@bp.get("/admin/users")
def admin_users() -> str:
    """Users by username; search by name, filter by department, include the deactivated."""
    require_admin()
    args, errors, raw = load_filters(UserFilters())
    query = org_admin.users_query(include_inactive=args["include_inactive"], q=args.get("q"),
                                  department_id=args.get("department"))
    result = paginate(query.options(selectinload(User.groups)), args["page"], PER_PAGE, list)
    return render_template("admin/users.html", rows=result["items"], total=result["total"], values=raw,
                           errors=errors, paging=page_links(args["page"], result["total"]), **_choices())


def _user_form(target: User | None, values: dict, errors: dict, status: int = 200) -> tuple[str, int]:
    return render_template("admin/user.html", target=target, values=values, errors=errors,
                           checked_roles=values.get("roles", []), checked_groups=values.get("groups", []),
                           **_choices()), status


def _values(u: User) -> dict[str, Any]:
    return {"username": u.username, "display_name": u.display_name or "", "email": u.email or "",
            "department_id": str(u.department_id or ""), "manager": u.manager.username if u.manager else "",
            "roles": list(u.roles or []), "groups": sorted(g.name for g in u.groups),
            "start_date": u.start_date.isoformat() if u.start_date else ""}


def _submitted() -> tuple[dict, dict[str, str], dict]:
    loaded, errors, raw = load_form(UserForm(), skip={"roles", "groups"})
    roles = request.form.getlist("roles")[:len(ROLES)]
    groups = request.form.getlist("groups")[:MAX_MEMBERS]
    raw.update(roles=roles, groups=groups)
    loaded.update(roles=roles, groups=groups)
    if not roles:
        errors["roles"] = _("choose at least one role")
    return loaded, errors, raw


def _answer(err: DomainError, values: dict, target: User | None) -> tuple[str, int]:
    db.session.rollback()
    errors = errors_by_field(err.errors) or {"_": err.detail or _(err.title)}
    return _user_form(target, values, errors, getattr(err, "status", 400))


@bp.get("/admin/users/new")
def admin_new_user() -> tuple[str, int]:
    """The new-user form; the hire date defaults to today (company time zone)."""
    require_admin()
    return _user_form(None, {"roles": ["employee"], "start_date": company_date().isoformat()}, {})


@bp.post("/admin/users/new")
def admin_create_user() -> Any:
    """Create the user; without a typed password a one-time password is generated and shown once; without a
    hire date it is today (company time zone), so the days before they joined never count as absent."""
    require_admin()
    loaded, errors, raw = _submitted()
    if not loaded.get("username"):
        errors.setdefault("username", _("required"))
    if errors:
        return _user_form(None, raw, errors, 422)
    password = loaded.get("password") or one_time_password()
    try:
        begin_write(db.session)
        created = org_admin.create_user(db.session, {
            "username": loaded["username"], "password": password, "display_name": loaded.get("display_name"),
            "email": loaded.get("email"), "roles": loaded["roles"], "department_id": loaded.get("department_id"),
            "manager": loaded.get("manager"), "groups": loaded["groups"],
            "start_date": loaded.get("start_date") or company_date()}, actor=me().username)
        db.session.commit()
    except DomainError as err:
        return _answer(err, raw, None)
    reveal.keep("password", created.id, None if loaded.get("password") else password)
    flash(_("User created."), "ok")
    return redirect(url_for("web.admin_password_once", user_id=created.id), 303)


def _target(user_id: int) -> User:
    return org_admin.get_user(db.session, user_id)


@bp.get("/admin/users/<int:user_id>")
def admin_user(user_id: int) -> tuple[str, int]:
    """One user's edit form and account actions."""
    require_admin()
    target = _target(user_id)
    return _user_form(target, _values(target), {})


@bp.post("/admin/users/<int:user_id>")
def admin_update_user(user_id: int) -> Any:
    """Save display name, email, hire date, roles, department, manager and groups (a hire date left out of the
    post stays as it was; sent empty, it is cleared)."""
    require_admin()
    target = _target(user_id)
    loaded, errors, raw = _submitted()
    raw["username"] = target.username
    if errors:
        return _user_form(target, raw, errors, 422)
    changes = {"display_name": loaded.get("display_name"), "email": loaded.get("email"),
               "roles": loaded["roles"], "department_id": loaded.get("department_id"),
               "manager": loaded.get("manager"), "groups": loaded["groups"]}
    if "start_date" in raw:
        changes["start_date"] = loaded.get("start_date")
    try:
        begin_write(db.session)
        org_admin.update_user(db.session, user_id, changes, actor=me().username,
                              acting=db.session.get(User, me().id))
        db.session.commit()
    except DomainError as err:
        return _answer(err, raw, _target(user_id))
    flash(_("Saved."), "ok")
    return redirect(url_for("web.admin_user", user_id=user_id))


@bp.post("/admin/users/<int:user_id>/active")
def admin_set_active(user_id: int) -> Any:
    """Deactivate (tokens stop working at once) or reactivate a user."""
    require_admin()
    target = _target(user_id)
    activate = request.form.get("active") == "1"
    try:
        begin_write(db.session)
        org_admin.update_user(db.session, user_id, {"active": activate}, actor=me().username,
                              acting=db.session.get(User, me().id))
        db.session.commit()
    except DomainError as err:
        return _answer(err, _values(target), _target(user_id))
    flash(_("Reactivated.") if activate else _("Deactivated."), "ok")
    return redirect(url_for("web.admin_user", user_id=user_id))


@bp.post("/admin/users/<int:user_id>/unlock")
def admin_unlock(user_id: int) -> Response:
    """Clear every login lockout of the user."""
    require_admin()
    target = _target(user_id)
    cleared = unlock(db.session, target.username, by=me().username)
    db.session.commit()
    flash(_("Unlocked (%(count)s lockouts cleared).", count=cleared), "ok")
    return redirect(url_for("web.admin_user", user_id=user_id))


@bp.post("/admin/users/<int:user_id>/password")
def admin_reset_password(user_id: int) -> Any:
    """Set the typed password, or generate a one-time one and show it once; old sessions and tokens end."""
    require_admin()
    target = _target(user_id)
    loaded, errors, _raw = load_form(PasswordForm())
    if errors:
        return _user_form(target, _values(target), errors, 422)
    password = loaded.get("password") or one_time_password()
    try:
        begin_write(db.session)
        org_admin.reset_password(db.session, user_id, password, actor=me().username)
        db.session.commit()
    except DomainError as err:
        return _answer(err, _values(target), _target(user_id))
    reveal.keep("password", user_id, None if loaded.get("password") else password)
    return redirect(url_for("web.admin_password_once", user_id=user_id), 303)


@bp.get("/admin/users/<int:user_id>/password")
def admin_password_once(user_id: int) -> Any:
    """The answer to a create or a password reset, read once after its redirect: the generated one-time password
    (or that the typed one was set); read again (a reload), it is gone and the user's page is shown instead."""
    require_admin()
    target = _target(user_id)
    held, password = reveal.take("password", user_id)
    if not held:
        return redirect(url_for("web.admin_user", user_id=user_id))
    resp = make_response(render_template("admin/password_once.html", target=target, password=password))
    resp.headers["Cache-Control"] = "no-store"
    return resp


# --------------------------------------------------------------------------- departments and groups
def _org_page(errors: dict[str, str] | None = None, values: dict | None = None, status: int = 200) -> tuple[str, int]:
    departments = db.session.scalars(org_admin.departments_query(include_inactive=True)).all()
    sizes = dict(db.session.execute(select(User.department_id, func.count()).where(User.active.is_(True))
                                    .group_by(User.department_id)).all())
    groups = db.session.scalars(select(Group).order_by(Group.name)).all()
    members = {g.id: sorted(u.username for u in g.members if u.active) for g in groups}
    return render_template("admin/org.html", departments=departments, sizes=sizes, groups=groups,
                           members=members, errors=errors or {}, values=values or {},
                           max_members=MAX_MEMBERS), status


@bp.get("/admin/org")
def admin_departments() -> tuple[str, int]:
    """Departments (with their active member count) and groups (with their members)."""
    require_admin()
    return _org_page()


@bp.post("/admin/org/departments")
def admin_create_department() -> Any:
    """Create a department under an optional parent."""
    require_admin()
    loaded, errors, raw = load_form(NameForm())
    if errors:
        return _org_page({f"dept_{k}": v for k, v in errors.items()}, {f"dept_{k}": v for k, v in raw.items()}, 422)
    try:
        begin_write(db.session)
        org_admin.create_department(db.session, loaded["name"], loaded.get("parent_id"), actor=me().username)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        return _org_page({"dept_name": err.detail or _(err.title)}, {f"dept_{k}": v for k, v in raw.items()},
                         getattr(err, "status", 400))
    flash(_("Department created."), "ok")
    return redirect(url_for("web.admin_departments"))


@bp.post("/admin/org/departments/<int:dept_id>")
def admin_update_department(dept_id: int) -> Any:
    """Rename, move (no cycles), set the head, (de)activate a department (deactivating needs it empty)."""
    require_admin()
    org_admin.get_department(db.session, dept_id)
    loaded, errors, raw = load_form(DepartmentForm())
    key = f"dept_{dept_id}"
    if errors:
        return _org_page({key: "; ".join(f"{k}: {v}" for k, v in errors.items())}, {}, 422)
    changes = {"name": loaded["name"], "parent_id": loaded.get("parent_id"), "head": loaded.get("head"),
               "active": loaded.get("active", False)}
    try:
        begin_write(db.session)
        org_admin.update_department(db.session, dept_id, changes, actor=me().username)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        detail = "; ".join(f"{k}: {v}" for k, v in errors_by_field(err.errors).items()) or err.detail
        return _org_page({key: detail or _(err.title)}, {}, getattr(err, "status", 400))
    flash(_("Saved."), "ok")
    return redirect(url_for("web.admin_departments"))


@bp.post("/admin/org/groups")
def admin_create_group() -> Any:
    """Create a group."""
    require_admin()
    loaded, errors, raw = load_form(NameForm(only=("name",)))
    if errors:
        return _org_page({f"group_{k}": v for k, v in errors.items()}, {f"group_{k}": v for k, v in raw.items()},
                         422)
    try:
        begin_write(db.session)
        org_admin.create_group(db.session, loaded["name"], actor=me().username)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        return _org_page({"group_name": err.detail or _(err.title)}, {f"group_{k}": v for k, v in raw.items()},
                         getattr(err, "status", 400))
    flash(_("Group created."), "ok")
    return redirect(url_for("web.admin_departments"))


@bp.post("/admin/org/groups/<int:group_id>/members")
def admin_group_members(group_id: int) -> Any:
    """Set a group's members (user names, as the people picker posts them): each added or removed user's groups
    are updated with the same function as PATCH /users/{id}; unknown or deactivated user names are named and
    nothing changes (a deactivated member already in the group, not listed on the page, stays)."""
    require_admin()
    group = db.session.get(Group, group_id)
    if group is None:
        raise NotFound(f"no group {group_id}")
    loaded, errors, raw = load_form(MembersForm())
    key = f"members_{group_id}"
    if errors:
        return _org_page({key: next(iter(errors.values()))}, {key: raw.get("members", "")}, 422)
    wanted = [n for n in dict.fromkeys(re.split(r"[\s,，]+", loaded.get("members") or "")) if n]
    if len(wanted) > MAX_MEMBERS:
        return _org_page({key: _("at most %(count)s members", count=MAX_MEMBERS)}, {key: raw["members"]}, 422)
    found = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(wanted)))}
    missing = [n for n in wanted if n not in found]
    if missing:
        return _org_page({key: _("unknown users: %(names)s", names=", ".join(missing[:10]))},
                         {key: raw["members"]}, 422)
    current = {u.username: u for u in group.members}
    # a deactivated user is not added; one already in the group stays (the page lists active members only)
    inactive = [n for n in wanted if not found[n].active and n not in current]
    if inactive:
        return _org_page({key: _("deactivated users: %(names)s", names=", ".join(inactive[:10]))},
                         {key: raw["members"]}, 422)
    wanted += [n for n, u in current.items() if not u.active and n not in wanted]
    acting = db.session.get(User, me().id)
    try:
        begin_write(db.session)
        before = admin_audit.group_members(group)
        for name in sorted(set(wanted) ^ set(current)):
            person = found.get(name) or current[name]
            names = [g.name for g in person.groups if g.id != group.id]
            if name in found:
                names.append(group.name)
            org_admin.update_user(db.session, person.id, {"groups": names}, actor=acting.username, acting=acting)
        db.session.refresh(group)
        if admin_audit.group_members(group) != before:
            admin_audit.record(db.session, acting.username, "group", group.id, group.name, "members_changed",
                               {"members": (before, admin_audit.group_members(group))})
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        return _org_page({key: err.detail or _(err.title)}, {key: raw.get("members", "")},
                         getattr(err, "status", 400))
    flash(_("Members saved."), "ok")
    return redirect(url_for("web.admin_departments"))
