"""Admin: the audit trail — every CRM record change (crm_audit), every process instance event
(history_event: starts, completions, variable fixes, retries, cancels) and every administration change
(admin_audit: users, departments, groups, API keys, webhooks) in one list, newest first, filtered by actor,
object type, action and date range, with paging."""

from __future__ import annotations

from datetime import datetime, time

from flask import render_template
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import String, func, literal, null, select, union_all
from sqlalchemy.orm import selectinload

from api.extensions import db
from api.web.admin.audit_detail import change_lines
from api.web.admin.common import require_admin
from api.web.approvals.timeline import step_name
from api.web.blueprint import bp
from api.web.common.filters import MAX_PAGE, PER_PAGE, load_filters, page_links
from api.web.crm.audit_log import readable_change
from api.web.crm.choices import AUDIT_ACTIONS, field_label, field_value
from api.web.labels import process_name
from crm.models import AuditEntry
from crm.trail import ENTITIES
from engine.models import HistoryEvent, ProcessInstance
from oa import admin_audit as admin_trail
from oa.models import AdminAuditEntry

OBJECT_TYPES = ("instance", *ENTITIES, *admin_trail.OBJECT_TYPES)
OBJECT_LABELS = {
    "user": _l("User"), "department": _l("Department"), "group": _l("User group"), "api_key": _l("API key"),
    "webhook": _l("Webhook"), "notification_channel": _l("Notification channel"),
    "instance": _l("Process instance"), "customer": _l("Customer"), "contact": _l("Contact"),
    "opportunity": _l("Opportunity"), "follow_up": _l("Follow-up"), "visit_plan": _l("Visit plan"),
    "ticket": _l("Ticket"), "contract": _l("Contract"), "receivable_plan": _l("Receivable plan"),
    "target": _l("Target"), "product": _l("Product"), "quote": _l("Quote"), "order": _l("Order"),
    "invoice": _l("Invoice"),
}
PROCESS_ACTIONS = {
    # process history (the same words as the request page's timeline)
    "started": _l("Started"), "task_created": _l("Task created"), "task_completed": _l("Task completed"),
    "task_claimed": _l("Task taken"), "task_unclaimed": _l("Task given back"), "task_cancelled": _l("Task cancelled"),
    "gateway_passed": _l("Decision"), "timer_fired": _l("Timer fired"), "message_received": _l("Message received"),
    "service_called": _l("Service called"), "comment": _l("Comment"), "completed": _l("Finished"),
    "cancelled": _l("Cancelled"), "error": _l("Error"), "retried": _l("Retried"), "cc": _l("Copied to"),
    "signer_added": _l("Signer added"), "task_delegated": _l("Delegated"), "task_returned": _l("Returned"),
    "task_transferred": _l("Transferred"), "urged": _l("Reminder sent"), "withdrawn": _l("Withdrawn"),
    "variables_changed": _l("Variables changed"), "attachment_added": _l("Attachment added"),
    "task_resolved": _l("Delegation resolved"), "task_signed": _l("Signed"),
}
CRM_ACTIONS = {
    # CRM record changes: every action the CRM writes (api.web.crm.choices), a few in the console's own words
    **AUDIT_ACTIONS,
    "create": _l("Record created"), "update": _l("Record changed"), "delete": _l("Record deleted"),
    "claim": _l("Claimed from the pool"), "release": _l("Released to the pool"), "transfer": _l("Owner transferred"),
}
ADMIN_ACTIONS = {
    "created": _l("Added"), "updated": _l("Changed"), "deactivated": _l("Deactivated"),
    "reactivated": _l("Reactivated"), "password_reset": _l("Password reset"), "unlocked": _l("Unlocked"),
    "revoked": _l("Revoked"), "deleted": _l("Deleted"), "members_changed": _l("Members changed"),
}
assert set(ADMIN_ACTIONS) == set(admin_trail.ACTIONS)
ACTION_LABELS = {**PROCESS_ACTIONS, **CRM_ACTIONS, **ADMIN_ACTIONS}
assert not (set(PROCESS_ACTIONS) & set(CRM_ACTIONS) or set(CRM_ACTIONS) & set(ADMIN_ACTIONS)
            or set(PROCESS_ACTIONS) & set(ADMIN_ACTIONS))
# the action filter's choices, one group per trail
ACTION_GROUPS = ((_l("Processes"), PROCESS_ACTIONS), (_l("CRM"), CRM_ACTIONS), (_l("Administration"), ADMIN_ACTIONS))


class AuditFilters(Schema):
    """The audit trail's filters."""

    class Meta:
        unknown = RAISE

    actor = fields.String(validate=validate.Length(max=100))
    object_type = fields.String(validate=validate.OneOf(OBJECT_TYPES))
    action = fields.String(validate=validate.Length(max=40))
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))


def audit_query(args: dict):  # noqa: ANN201
    """The three trails as one selectable (source, entry_id, object_type, object_id, name, action, detail, actor,
    at), filtered; source is crm, flow or admin and entry_id the row's id in that trail."""
    no_name = null().cast(String(300)).label("name")
    crm = select(literal("crm").label("source"), AuditEntry.id.label("entry_id"),
                 AuditEntry.entity.label("object_type"), AuditEntry.entity_id.label("object_id"), no_name,
                 AuditEntry.action.label("action"), AuditEntry.field.label("detail"),
                 AuditEntry.user.label("actor"), AuditEntry.at.label("at"))
    flow = select(literal("flow").label("source"), HistoryEvent.id.label("entry_id"),
                  literal("instance").label("object_type"), HistoryEvent.instance_id.label("object_id"), no_name,
                  HistoryEvent.type.label("action"), HistoryEvent.element_id.label("detail"),
                  HistoryEvent.user.label("actor"), HistoryEvent.at.label("at"))
    admin = select(literal("admin").label("source"), AdminAuditEntry.id.label("entry_id"),
                   AdminAuditEntry.object_type.label("object_type"), AdminAuditEntry.object_id.label("object_id"),
                   AdminAuditEntry.object_name.label("name"), AdminAuditEntry.action.label("action"),
                   AdminAuditEntry.summary.label("detail"), AdminAuditEntry.actor.label("actor"),
                   AdminAuditEntry.at.label("at"))
    parts = []
    wanted = args.get("object_type")
    for part, kinds, kind, action, who, at in (
            (crm, ENTITIES, AuditEntry.entity, AuditEntry.action, AuditEntry.user, AuditEntry.at),
            (flow, ("instance",), None, HistoryEvent.type, HistoryEvent.user, HistoryEvent.at),
            (admin, admin_trail.OBJECT_TYPES, AdminAuditEntry.object_type, AdminAuditEntry.action,
             AdminAuditEntry.actor, AdminAuditEntry.at)):
        if wanted and wanted not in kinds:
            continue
        if wanted and kind is not None:
            part = part.where(kind == wanted)
        if args.get("actor"):
            part = part.where(who == args["actor"])
        if args.get("action"):
            part = part.where(action == args["action"])
        if args.get("from_"):
            part = part.where(at >= datetime.combine(args["from_"], time.min))
        if args.get("to"):
            part = part.where(at <= datetime.combine(args["to"], time.max))
        parts.append(part)
    return union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()


def readable(rows: list) -> list[dict]:  # noqa: ANN001
    """The page's rows as people read them: an administration change's fields with labels and shown values,
    a process event's process and step by their translated names, a CRM change's field by its label."""
    changes = dict(db.session.execute(select(AdminAuditEntry.id, AdminAuditEntry.changes).where(
        AdminAuditEntry.id.in_([r.entry_id for r in rows if r.source == "admin"]))).all())
    instances = {i.id: i for i in db.session.scalars(
        select(ProcessInstance).options(selectinload(ProcessInstance.definition)).where(
            ProcessInstance.id.in_({r.object_id for r in rows if r.source == "flow"})))}
    crm_changes = {e.id: e for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.id.in_([r.entry_id for r in rows if r.source == "crm" and r.detail])))}
    out = []
    for r in rows:
        row = {"at": r.at, "actor": r.actor, "object_type": r.object_type, "object_id": r.object_id,
               "name": r.name, "action": r.action, "step": "", "changes": []}
        if r.source == "admin":
            row["changes"] = change_lines(changes.get(r.entry_id))
        elif r.source == "flow":
            inst = instances.get(r.object_id)
            row["name"] = process_name(inst) if inst is not None else None
            row["step"] = step_name(inst, r.detail) if inst is not None else (r.detail or "")
        elif r.detail:
            entry = crm_changes.get(r.entry_id)
            if entry is None:
                row["step"] = field_label(r.detail)
            else:  # the field with its old and new values, as the record's operation log shows them
                change = readable_change({"field": entry.field, "old": entry.old_value, "new": entry.new_value})
                row["changes"] = [(field_label(entry.field), field_value(entry.entity, entry.field, change["old"]),
                                   field_value(entry.entity, entry.field, change["new"]))]
        out.append(row)
    return out


@bp.get("/admin/audit")
def admin_audit() -> tuple[str, int]:
    """The audit trail page; a bad filter is named beside its input, left out of the list, and the page is a 422
    (as the report pages and GET /api/v1/admin-audit answer)."""
    require_admin()
    args, errors, raw = load_filters(AuditFilters())
    trail = audit_query(args)
    total = db.session.scalar(select(func.count()).select_from(trail)) or 0
    rows = db.session.execute(select(trail).order_by(trail.c.at.desc()).limit(PER_PAGE)
                              .offset((args["page"] - 1) * PER_PAGE)).all()
    return render_template("admin/audit.html", rows=readable(rows), total=total, values=raw, errors=errors,
                           paging=page_links(args["page"], total),
                           object_types=[(t, OBJECT_LABELS.get(t, t)) for t in OBJECT_TYPES],
                           object_labels=OBJECT_LABELS, action_labels=ACTION_LABELS,
                           action_groups=ACTION_GROUPS), 422 if errors else 200
