"""The approval centre (审批中心): tabs for tasks waiting for me (with group tasks I may take), requests I
acted on, requests I started and requests copied to me; each row with a one-line summary and the outcome.
Filters (process, outcome, date range), a search box and paging. Also the navigation's unread badge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import g, render_template, request
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema
from sqlalchemy import ColumnElement, Select, String, cast, func, or_, select

from api.extensions import db
from api.http import query_args
from api.web.approvals.display import summary
from api.web.approvals.outcome import BADGE, LABELS, OUTCOMES, outcome_clause, outcome_of, outcome_word, withdrawn_ids
from api.web.approvals.tasks import engine_has
from api.web.approvals.timeline import display_names
from api.web.blueprint import bp
from api.web.common import queries as q
from api.web.common.session import actor
from api.web.labels import label
from engine import definitions
from engine.access import ACTED_EVENTS, acted_on
from engine.models import HistoryEvent, InstanceViewer, ProcessInstance, Task
from store.errors import InvalidData

PER_PAGE = 20
TABS = ("todo", "done", "mine", "cc")
MAX_SEARCH = 100
DUE = ("overdue", "today", "week", "none")


class CentreArgs(Schema):
    """Query arguments of the approval centre."""

    class Meta:
        unknown = RAISE

    tab = fields.String(load_default="todo", validate=validate.OneOf(TABS))
    key = fields.String(validate=validate.Length(max=255))
    status = fields.String(validate=validate.OneOf(("", *OUTCOMES)))
    due = fields.String(validate=validate.OneOf(("", *DUE)))  # 待我处理 only: overdue, due today / this week, none
    start = fields.Date(allow_none=True)
    end = fields.Date(allow_none=True)
    q = fields.String(validate=validate.Length(max=MAX_SEARCH))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))

    @pre_load
    def _blank_dates(self, data: dict, **_kw: Any) -> dict:
        """An empty date input is sent as `start=`: the same as no date."""
        return {k: v for k, v in data.items() if not (k in ("start", "end") and v == "")}

    @validates_schema
    def _range(self, data: dict, **_kw: Any) -> None:
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("must not be before start", "end")


@dataclass
class Row:
    """One line of a tab: the request, the task it is about (todo/done), when, and where it links."""

    inst: ProcessInstance
    task: Task | None
    at: datetime | None
    outcome: str
    summary: str
    word: str = ""  # the outcome as people read it (outcome_word)


def _instance_filters(args: dict, dialect: str) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if args.get("key"):
        conds.append(ProcessInstance.process_key == args["key"])
    if args.get("status"):
        conds.append(outcome_clause(args["status"], dialect))
    if args.get("start"):
        conds.append(ProcessInstance.started_at >= datetime.combine(args["start"], time.min))
    if args.get("end"):
        conds.append(ProcessInstance.started_at < datetime.combine(args["end"] + timedelta(days=1), time.min))
    text = (args.get("q") or "").strip()
    if text:
        conds.append(_search(text))
    return conds


def _search(text: str) -> ColumnElement[bool]:
    """Process title (as the reader sees it, in any language), applicant, business key or form data."""
    from oa.models import User
    needle = text.lower()
    like = f"%{needle.replace('%', '').replace('_', '')}%"
    keys = [d.key for d in definitions.latest_definitions(db.session)
            if needle in label(d.name or d.key).lower() or needle in (d.name or "").lower() or needle in d.key]
    people = select(User.username).where(or_(func.lower(User.display_name).like(like),
                                             func.lower(User.username).like(like)))
    data = func.lower(cast(ProcessInstance.variables, String))
    conds = [ProcessInstance.process_key.in_(keys), ProcessInstance.started_by.in_(people),
             func.lower(ProcessInstance.business_key).like(like), data.like(like)]
    escaped = json.dumps(needle)[1:-1]
    if escaped != needle:  # SQLite keeps JSON text ASCII-escaped (\u51fa): look for that spelling too
        conds.append(data.like(f"%{escaped.replace('%', '').replace('_', '')}%"))
    return or_(*conds)


def _query(tab: str, args: dict) -> Select:
    me = actor()
    conds = _instance_filters(args, db.session.get_bind().dialect.name)
    if tab == "todo":
        base = q.my_tasks_query(me, due=args.get("due") or None).join(ProcessInstance,
                                                                       ProcessInstance.id == Task.instance_id)
        return base.where(*conds).add_columns(ProcessInstance)
    if tab == "done":  # 我已处理: requests I acted on (approved, rejected, transferred, added a signer, ...)
        last = (select(func.max(HistoryEvent.at))
                .where(HistoryEvent.instance_id == ProcessInstance.id, HistoryEvent.user == me.username,
                       HistoryEvent.type.in_(ACTED_EVENTS)).scalar_subquery())
        return (select(ProcessInstance, last.label("acted_at"))
                .where(acted_on(ProcessInstance.id, me.username), *conds)
                .order_by(last.desc(), ProcessInstance.id.desc()))
    if tab == "mine":
        return (select(ProcessInstance).where(ProcessInstance.started_by == me.username, *conds)
                .order_by(ProcessInstance.id.desc()))
    return (select(ProcessInstance, InstanceViewer.added_at)
            .join(InstanceViewer, InstanceViewer.instance_id == ProcessInstance.id)
            .where(InstanceViewer.username == me.username, *conds)
            .order_by(InstanceViewer.added_at.desc(), ProcessInstance.id.desc()))


def _rows(tab: str, result: list[Any]) -> list[Row]:
    pairs: list[tuple[ProcessInstance, Task | None, datetime | None]] = []
    for item in result:
        if tab == "todo":
            pairs.append((item[1], item[0], item[0].created_at))
        elif tab == "done":
            pairs.append((item[0], None, item[1]))
        elif tab == "mine":
            pairs.append((item, None, item.started_at))
        else:
            pairs.append((item[0], None, item[1]))
    gone = withdrawn_ids(db.session, [p[0].id for p in pairs if p[0].status == "cancelled"])
    rows = []
    for inst, task, at in pairs:
        outcome = outcome_of(inst, inst.id in gone)
        rows.append(Row(inst, task, at, outcome, summary(db.session, inst), outcome_word(inst, outcome)))
    return rows


@bp.get("/approvals")
def approvals() -> str:
    """The approval centre: one tab at a time, filtered and paged."""
    args = query_args(CentreArgs)
    tab = args["tab"]
    query = _query(tab, args)
    total = q.count(db.session, query)
    pages = max(1, -(-total // PER_PAGE))
    if args["page"] > pages and total:
        raise InvalidData("no such page", errors=[{"field": "page", "message": f"at most {pages}"}])
    execute = db.session.scalars if tab == "mine" else db.session.execute
    rows = _rows(tab, list(execute(query.limit(PER_PAGE).offset((args["page"] - 1) * PER_PAGE)).all()))
    keys = [(d.key, d.name or d.key) for d in definitions.latest_definitions(db.session)]
    counts = {"todo": badge_counts()[0], "cc": badge_counts()[1]}
    return render_template("approvals/centre.html", tab=tab, rows=rows, total=total, args=args, keys=keys,
                           page=args["page"], pages=pages, labels=LABELS, badge=BADGE, outcomes=OUTCOMES,
                           counts=counts, now=q.utcnow(), is_overdue=q.is_overdue,
                           page_args=_page_args(args),
                           names=display_names([r.inst.started_by or "" for r in rows]),
                           can_batch=engine_has("batch_complete"))


def _page_args(args: dict) -> dict[str, str]:
    """The current filters as query arguments for the tab and pager links."""
    out = {k: str(args[k]) for k in ("key", "status", "q", "due") if args.get(k)}
    out.update({k: args[k].isoformat() for k in ("start", "end") if isinstance(args.get(k), date)})
    return out


def badge_counts() -> tuple[int, int]:
    """(tasks waiting for me, unread CC notices) of the logged-in user, read once per request."""
    cached = g.get("_approval_badges")
    if cached is None:
        from oa.record_models import Notification
        me = actor()
        waiting = q.count(db.session, q.my_tasks_query(me).order_by(None).with_only_columns(Task.id))
        unread_cc = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user == me.username, Notification.kind == "cc", Notification.read_at.is_(None))) or 0
        cached = g._approval_badges = (waiting, unread_cc)
    return cached


@bp.app_context_processor
def _approval_badge() -> dict:
    """`approvals_badge` for the navigation: tasks waiting plus unread CC items (0 when logged out)."""
    if not (request and request.blueprint == "web" and g.get("actor") is not None):
        return {"approvals_badge": 0}
    waiting, unread = badge_counts()
    return {"approvals_badge": waiting + unread}
