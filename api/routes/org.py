"""Organisation: departments, users and groups. Admins change them; everyone reads the directory."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields, validate

from api.auth import current_user, login_required, require_roles
from api.extensions import db
from api.http import json_body, paginate, query_args
from api.schemas import PageArgs, Strict
from engine.runtime import begin_write
from oa import org_admin
from oa.models import ROLES, Department, User
from store.errors import NotFound

bp = Blueprint("org", __name__)

_name = validate.Length(min=1, max=100)


class DepartmentCreate(Strict):
    name = fields.String(required=True, validate=_name)
    parent_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    head = fields.String(load_default=None, allow_none=True, validate=_name)


class DepartmentUpdate(Strict):
    name = fields.String(validate=_name)
    parent_id = fields.Integer(allow_none=True, strict=True)
    head = fields.String(allow_none=True, validate=_name)
    active = fields.Boolean()


class DepartmentListArgs(PageArgs):
    include_inactive = fields.Boolean(load_default=False)


class UserCreate(Strict):
    username = fields.String(required=True, validate=[_name, validate.Regexp(r"^[A-Za-z0-9_.@-]+$",
                                                                            error="letters, digits, _ . @ - only")])
    password = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    display_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=200))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), load_default=lambda: ["employee"])
    department_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    manager = fields.String(load_default=None, allow_none=True, validate=_name)
    groups = fields.List(fields.String(validate=_name), load_default=list)
    start_date = fields.Date(load_default=None, allow_none=True)  # hire date: no absences before it


class UserUpdate(Strict):
    display_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    email = fields.Email(allow_none=True, validate=validate.Length(max=200))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)))
    department_id = fields.Integer(allow_none=True, strict=True)
    manager = fields.String(allow_none=True, validate=_name)
    groups = fields.List(fields.String(validate=_name))
    active = fields.Boolean()
    start_date = fields.Date(allow_none=True)


class PasswordReset(Strict):
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class UserListArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=100))
    department = fields.Integer()
    include_inactive = fields.Boolean(load_default=False)


class GroupCreate(Strict):
    name = fields.String(required=True, validate=_name)


def dump_department(d: Department) -> dict:
    """A department with its parent and head."""
    return {"id": d.id, "name": d.name, "parent_id": d.parent_id, "head": d.head.username if d.head else None,
            "active": d.active}


def dump_directory_user(u: User) -> dict:
    """What every colleague may see about a user (never credentials)."""
    return {"id": u.id, "username": u.username, "display_name": u.display_name,
            "department": {"id": u.department.id, "name": u.department.name} if u.department else None,
            "manager": u.manager.username if u.manager else None}


def dump_full_user(u: User) -> dict:
    """The admin's (and the user's own) view: adds email, roles, groups and status; never the hash."""
    out = dump_directory_user(u)
    out.update(email=u.email, roles=list(u.roles or []), groups=sorted(g.name for g in u.groups),
               active=u.active, created_at=u.created_at.isoformat(), has_password=bool(u.password_hash),
               start_date=u.start_date.isoformat() if u.start_date else None)
    return out


def _commit_write() -> None:
    begin_write(db.session)


# --------------------------------------------------------------------------- departments
@bp.get("/departments")
@login_required
def list_departments() -> dict:
    """Departments (a tree via parent_id), for everyone; admins may include inactive ones."""
    args = query_args(DepartmentListArgs)
    include_inactive = args["include_inactive"] and current_user().has_role("admin")
    return paginate(org_admin.departments_query(include_inactive), args["page"], args["per_page"],
                    lambda rows: [dump_department(d) for d in rows])


@bp.post("/departments")
@login_required
def create_department() -> tuple[dict, int]:
    """Create a department (admin)."""
    require_roles("admin")
    body = json_body(DepartmentCreate)
    _commit_write()
    dept = org_admin.create_department(db.session, body["name"], body["parent_id"], body["head"],
                                       actor=current_user().username)
    db.session.commit()
    return dump_department(dept), 201


@bp.get("/departments/<int:dept_id>")
@login_required
def get_department(dept_id: int) -> dict:
    """One department."""
    return dump_department(org_admin.get_department(db.session, dept_id))


@bp.patch("/departments/<int:dept_id>")
@login_required
def update_department(dept_id: int) -> dict:
    """Rename, move (no cycles), set the head, (de)activate (admin)."""
    require_roles("admin")
    body = json_body(DepartmentUpdate)
    _commit_write()
    dept = org_admin.update_department(db.session, dept_id, body, actor=current_user().username)
    db.session.commit()
    return dump_department(dept)


@bp.post("/departments/<int:dept_id>/deactivate")
@login_required
def deactivate_department(dept_id: int) -> dict:
    """Deactivate an empty department (admin)."""
    require_roles("admin")
    _commit_write()
    dept = org_admin.deactivate_department(db.session, dept_id, actor=current_user().username)
    db.session.commit()
    return dump_department(dept)


# --------------------------------------------------------------------------- groups
@bp.get("/groups")
@login_required
def list_groups() -> dict:
    """Groups with their members."""
    args = query_args(PageArgs)
    return paginate(org_admin.groups_query(), args["page"], args["per_page"],
                    lambda rows: [{"id": g.id, "name": g.name,
                                   "members": sorted(u.username for u in g.members if u.active)} for g in rows])


@bp.post("/groups")
@login_required
def create_group() -> tuple[dict, int]:
    """Create a group (admin)."""
    require_roles("admin")
    body = json_body(GroupCreate)
    _commit_write()
    group = org_admin.create_group(db.session, body["name"], actor=current_user().username)
    db.session.commit()
    return {"id": group.id, "name": group.name, "members": []}, 201


# --------------------------------------------------------------------------- users
@bp.get("/users")
@login_required
def list_users() -> dict:
    """The directory: everyone sees id, username, display name, department and manager; admins see more."""
    args = query_args(UserListArgs)
    admin = current_user().has_role("admin")
    query = org_admin.users_query(include_inactive=args["include_inactive"] and admin, q=args.get("q"),
                                  department_id=args.get("department"))
    dump = dump_full_user if admin else dump_directory_user
    return paginate(query, args["page"], args["per_page"], lambda rows: [dump(u) for u in rows])


@bp.get("/users/me")
@login_required
def me() -> dict:
    """The caller's own profile, with roles and groups."""
    return dump_full_user(current_user())


@bp.get("/users/<int:user_id>")
@login_required
def get_user(user_id: int) -> dict:
    """One user (directory view; admins and the user themselves get the full view)."""
    viewer = current_user()
    user = org_admin.get_user(db.session, user_id)
    if viewer.has_role("admin") or viewer.id == user.id:
        return dump_full_user(user)
    if not user.active:
        raise NotFound(f"no user {user_id}")
    return dump_directory_user(user)


@bp.post("/users")
@login_required
def create_user() -> tuple[dict, int]:
    """Create a user (admin)."""
    require_roles("admin")
    body = json_body(UserCreate)
    _commit_write()
    user = org_admin.create_user(db.session, body, actor=current_user().username)
    db.session.commit()
    return dump_full_user(user), 201


@bp.patch("/users/<int:user_id>")
@login_required
def update_user(user_id: int) -> dict:
    """Set display name, email, roles, department, manager (no cycles), groups, active (admin)."""
    require_roles("admin")
    body = json_body(UserUpdate)
    acting = current_user()
    _commit_write()
    user = org_admin.update_user(db.session, user_id, body, actor=acting.username,
                                 acting=db.session.get(User, acting.id))
    db.session.commit()
    return dump_full_user(user)


@bp.post("/users/<int:user_id>/deactivate")
@login_required
def deactivate_user(user_id: int) -> dict:
    """Deactivate a user (admin); their tokens stop working."""
    require_roles("admin")
    acting = current_user()
    _commit_write()
    user = org_admin.deactivate_user(db.session, user_id, actor=acting.username,
                                     acting=db.session.get(User, acting.id))
    db.session.commit()
    return dump_full_user(user)


@bp.post("/users/<int:user_id>/reset-password")
@login_required
def reset_password(user_id: int) -> dict:
    """Set a new password (admin); the user's existing tokens stop working."""
    require_roles("admin")
    body = json_body(PasswordReset)
    _commit_write()
    user = org_admin.reset_password(db.session, user_id, body["password"], actor=current_user().username)
    db.session.commit()
    return dump_full_user(user)

