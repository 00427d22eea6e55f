"""What the task page shows: the request's declared fields (never internal variables), cards for the records
the request names, the votes of a countersign as a count, and the actions the user may take now — decided by
the same rules the engine applies (engine.access, engine.commands.approvals), so no offered button is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import url_for
from flask_babel import format_decimal
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.web import formatting
from api.web.approvals.timeline import said
from api.web.common import queries as q
from api.web.common.schema_forms import Field, build_fields
from crm.access import Viewer, get_customer, get_opportunity
from crm.contracts import get_contract
from crm.models import Customer
from crm.orders import get_order
from crm.tickets import get_ticket
from engine import assignment
from engine.commands.approvals import URGE_INTERVAL
from engine.context import Actor
from engine.models import HistoryEvent, InstanceAttachment, ProcessInstance, Task
from forms.references import declared, ref_values
from store.base import utcnow
from store.errors import DomainError

DECISION_EVENTS = ("task_completed",)


def declared_fields(inst: ProcessInstance, computed: frozenset[str]) -> list[Field]:
    """The start form's fields filled with the instance's current values (read only), plus the values the
    platform computed at start (e.g. a leave's working days). References are shown as cards instead."""
    meta = q.start_meta(inst.definition)
    forms = inst.definition.forms
    schema = forms.get(meta.form or "") if meta else None
    ui = forms.get(meta.ui_form or "") if meta and meta.ui_form else None
    variables = inst.variables or {}
    shown = [f for f in build_fields(schema, ui, variables, {}) if f.kind != "ref" and f.value not in (None, "", [])]
    for name in sorted(computed):
        if name in variables and isinstance(variables[name], (int, float, str)):
            title = {"days": "Working days"}.get(name, name)
            shown.append(Field(path=name, name=name, kind="number", title=title, value=variables[name]))
    return shown


@dataclass
class Card:
    """A record the request names, as the viewer may see it."""

    kind: str
    title: str
    owner: str | None
    facts: list[tuple[str, Any]] = field(default_factory=list)
    link: str | None = None


def record_cards(session: Session, inst: ProcessInstance, viewer: Viewer) -> list[Card]:
    """Cards for the request's typed references the viewer may read (a task grant counts); others are left out."""
    meta = q.start_meta(inst.definition)
    schema = inst.definition.forms.get(meta.form or "") if meta else None
    cards: list[Card] = []
    for ref in declared(schema):
        for _path, value in ref_values(ref, inst.variables or {}):
            card = _card(session, ref.type, value, viewer)
            if card is not None:
                cards.append(card)
    return cards[:10]


BUSINESS_KINDS = {"customer": "crm.customer", "opportunity": "crm.opportunity", "contract": "crm.contract",
                  "order": "crm.order", "ticket": "crm.ticket"}


def business_record(session: Session, inst: ProcessInstance, viewer: Viewer) -> Card | None:
    """The record a request's business key (`opportunity:3`) names, if the viewer may read it; else None
    (the raw key is never shown)."""
    kind, _sep, raw = (inst.business_key or "").partition(":")
    if kind not in BUSINESS_KINDS or not raw.isdigit() or len(raw) > 10:
        return None
    return _card(session, BUSINESS_KINDS[kind], int(raw), viewer)


def _card(session: Session, kind: str, value: Any, viewer: Viewer) -> Card | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        if kind == "crm.customer":
            c = get_customer(session, viewer, value)
            return Card("customer", c.name, c.owner, [("Level", c.level), ("Industry", c.industry)],
                        url_for("web.customer", customer_id=c.id))
        if kind == "crm.opportunity":
            o = get_opportunity(session, viewer, value)
            customer = session.get(Customer, o.customer_id)
            return Card("opportunity", o.name, o.owner, [("Customer", customer.name if customer else None),
                                                          ("Stage", o.stage),
                                                          ("Amount", o.amount)],
                        url_for("web.customer", customer_id=o.customer_id))
        if kind == "crm.contract":
            k = get_contract(session, viewer, value)
            return Card("contract", k.title, k.owner, [("Status", k.status), ("Amount", k.amount)],
                        url_for("web.customer", customer_id=k.customer_id))
        if kind == "crm.ticket":
            t = get_ticket(session, viewer, value)
            return Card("ticket", t.title, t.assignee, [], url_for("web.ticket", ticket_id=t.id))
        if kind == "crm.order":
            o = get_order(session, viewer, value)
            return Card("order", o.number, o.owner, [("Status", o.status), ("Total", o.total)],
                        url_for("web.order", order_id=o.id))
    except DomainError:
        return None
    return None


@dataclass
class Votes:
    """A countersign's progress without who voted what."""

    done: int
    total: int


def step_is_open(session: Session, row: Task) -> bool:
    """Whether any task of the row's step (its element in its instance) is still open."""
    return session.scalar(select(Task.id).where(Task.instance_id == row.instance_id, Task.element_id == row.element_id,
                                                Task.status == "open").limit(1)) is not None


def votes_of(session: Session, row: Task) -> Votes | None:
    """For a step several people work at once (a countersign), how many of them have voted; None otherwise."""
    open_rows = session.scalars(select(Task).where(Task.instance_id == row.instance_id,
                                                   Task.element_id == row.element_id, Task.status == "open")).all()
    if not open_rows:
        return None
    since = min(t.created_at for t in open_rows) - timedelta(seconds=5)
    done = session.scalar(select(func.count()).select_from(Task).where(
        Task.instance_id == row.instance_id, Task.element_id == row.element_id, Task.status == "completed",
        Task.created_at >= since)) or 0
    total = len(open_rows) + done
    return Votes(done, total) if total > 1 else None


PEOPLE_EVENTS = frozenset({"started", "task_completed", "task_claimed", "task_unclaimed", "comment", "cc",
                           "signer_added", "task_delegated", "task_resolved", "task_returned", "task_signed",
                           "task_transferred", "urged", "withdrawn", "task_reassigned",
                           "completed", "cancelled", "error"})


def visible_history(history: list[HistoryEvent], row: Task, me: str, step_open: bool) -> list[_Shown]:
    """What people did on the request (engine steps such as gateways and service calls left out, and no
    internal element ids); while this step is open, fellow voters' decisions on it stay hidden: their
    completions show who acted and when, never approve/reject or their comment. `step_open`: some task of
    this step is still open (for a voter who has voted already too)."""
    out: list[_Shown] = []
    for e in history:
        if e.type not in PEOPLE_EVENTS:
            continue
        secret = step_open and e.type in DECISION_EVENTS and e.element_id == row.element_id and e.user != me
        data = None if secret else _public_data(e.data)
        out.append(_Shown(e.type, None, e.user, e.at, data, None if secret else said(e)))
    return out


def _public_data(data: Any) -> dict | None:
    """The parts of an event's data the history list shows (the decision, people named), nothing else."""
    if not isinstance(data, dict):
        return None
    out: dict[str, Any] = {}
    variables = data.get("variables")
    if isinstance(variables, dict) and isinstance(variables.get("approved"), bool):
        out["variables"] = {"approved": variables["approved"]}
    for key in ("users", "to", "assignee", "message"):
        if key in data:
            out[key] = data[key]
    return out or None


@dataclass
class _Shown:
    type: str
    element_id: str | None
    user: str | None
    at: Any
    data: dict | None = None
    comment: str | None = None


@dataclass
class Actions:
    """What the user may do on the task now."""

    claim: bool = False
    unclaim: bool = False
    complete: bool = False
    transfer: bool = False
    delegate: bool = False
    add_signer: bool = False
    return_to: bool = False
    cc: bool = False
    urge: bool = False
    comment: bool = True

    def offers(self, action: str) -> bool:
        """Whether the page shows the form of `action` (a URL action name such as `add-signer`)."""
        name = {"add-signer": "add_signer", "return": "return_to"}.get(action, action)
        return bool(getattr(self, name, False))

    @property
    def any_more(self) -> bool:
        """Whether the "more actions" block has anything to offer."""
        return self.transfer or self.delegate or self.add_signer or self.return_to or self.cc


def allowed_actions(row: Task, inst: ProcessInstance, actor: Actor, has: dict[str, bool],
                    return_targets: list[dict]) -> Actions:
    """The actions the engine would accept from `actor` now (see engine.access and engine.commands)."""
    running = inst.status == "running" and row.status == "open"
    me, groups = actor.username, set(actor.groups)
    own_request = row.excluded_user == me
    works = running and not own_request and assignment.may_work(me, groups, row.assignee, row.candidate_users or [],
                                                                 row.candidate_groups or [])
    candidate = me in (row.candidate_users or []) or bool(groups & set(row.candidate_groups or []))
    urge_due = row.urged_at is None or utcnow() - row.urged_at >= URGE_INTERVAL
    # held only as a delegate / signer-before: approve or comment, and the task goes back to its owner
    handed = bool(row.delegation and row.owner and row.owner != me and row.assignee == me)
    # an admin may reassign any open task (stranded with someone who left), like the engine allows
    admin_transfer = running and actor.is_admin and not own_request
    return Actions(
        claim=running and not own_request and not row.assignee and candidate,
        unclaim=running and row.assignee == me and bool(row.candidate_users or row.candidate_groups) and not handed,
        complete=works,
        transfer=has.get("transfer", False) and ((works and not handed) or admin_transfer),
        delegate=works and has.get("delegate", False) and not row.delegation,
        add_signer=works and has.get("add_signer", False) and not row.delegation,
        return_to=works and has.get("return_to", False) and bool(return_targets) and not handed,
        cc=works and has.get("cc", False),
        urge=running and has.get("urge", False) and inst.started_by == me and urge_due,
        comment=True,
    )


def attachments_of(session: Session, instance_id: int) -> list[InstanceAttachment]:
    """The instance's attachments, oldest first (at most 100 listed)."""
    return list(session.scalars(select(InstanceAttachment).where(InstanceAttachment.instance_id == instance_id)
                                .order_by(InstanceAttachment.id).limit(100)))


def as_money(value: Any) -> Decimal | None:
    """A number as Decimal for formatting with two decimals (None for anything else)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    return Decimal(str(value))


def fmt_money(value: Any) -> str:
    """Money with two decimals and the locale's thousands separators (e.g. 12,345.60)."""
    number = as_money(value)
    return format_decimal(number, format="#,##0.00") if number is not None else str(value)


def fmt_number(value: Any) -> str:
    """A number in the locale's format."""
    number = as_money(value)
    return format_decimal(number) if number is not None else str(value)


def fmt_date(value: Any) -> str:
    """A date or date-time (or its ISO text) in the reader's format as on every other page (api.web.formatting:
    `2026年12月3日`, `Dec 3, 2026`); a moment in the company time zone; other values as they are."""
    if isinstance(value, str) and len(value) > 10:
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        moment = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return formatting.format_datetime(moment)
    if isinstance(value, date | str):
        return formatting.format_date(value)
    return str(value)


def money_total(f: Field) -> Decimal | None:
    """The total of a line-item list's money column (the expense total), None if it has none."""
    column = f.sum_column
    if not column:
        return None
    sums = [as_money(c.value) for row in f.rows for c in row if c.name == column]
    return sum((x for x in sums if x is not None), Decimal(0))


