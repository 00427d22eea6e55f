"""GET /admin-audit: the administration audit trail for admins — who created, changed, deactivated or
reactivated a user, reset a password, unlocked an account, changed a department or group, created or revoked
an API key, added or removed a webhook; newest first, paged, filtered as the /admin/audit page."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields, validate

from api.auth import login_required, require_roles
from api.http import paginate, query_args
from api.schemas import PageArgs
from oa import admin_audit

bp = Blueprint("admin_audit", __name__)


class AdminAuditArgs(PageArgs):
    actor = fields.String(validate=validate.Length(max=100))
    object_type = fields.String(validate=validate.OneOf(admin_audit.OBJECT_TYPES))
    action = fields.String(validate=validate.Length(max=40))
    from_ = fields.Date(data_key="from")
    to = fields.Date()


@bp.get("/admin-audit")
@login_required
def list_entries() -> dict:
    """Administration audit rows (admins only): {items: [{at, actor, object_type, object_id, object_name,
    action, changes: {field: {old, new}}}], total, page, per_page}."""
    require_roles("admin")
    args = query_args(AdminAuditArgs)
    query = admin_audit.entries_query(actor=args.get("actor"), object_type=args.get("object_type"),
                                      action=args.get("action"), start=args.get("from_"), end=args.get("to"))
    return paginate(query, args["page"], args["per_page"], lambda rows: [admin_audit.as_dict(r) for r in rows])
