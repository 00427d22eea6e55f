"""OA pages: clock in/out and my attendance month, announcements with read marking, the calendar week,
and the notification inbox. Each calls the oa/ domain functions with the logged-in user, as the v1 API does."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, fields, validate

from api.extensions import db
from api.http import query_args
from api.web.blueprint import bp
from api.web.common.queries import count
from api.web.common.session import user
from engine.runtime import begin_write
from oa import announcements as ann
from oa import attendance, notifications
from oa.calendar import events_query
from store.clock import company_date, day_range_utc

PER_PAGE = 25
MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="expected YYYY-MM")


# ------------------------------------------------------------------ attendance
class MonthArgs(Schema):
    """?month=YYYY-MM (this month by default)."""

    class Meta:
        unknown = RAISE

    month = fields.String(validate=MONTH)


def _this_month() -> str:
    return company_date().strftime("%Y-%m")


@bp.get("/attendance")
def my_attendance() -> str:
    """Clock in/out buttons, and my records and totals for the month."""
    args = query_args(MonthArgs)
    me = user()
    month = args.get("month") or _this_month()
    first, last = attendance.parse_month(month)
    rule = attendance.rule_for(db.session, me)
    records = db.session.scalars(attendance.records_query(db.session, me, me.username, first, last)).all()
    flags = attendance.flags_for(db.session, records, {me.username: rule})
    rows = [(r, f, attendance.to_local(rule, r.clock_in), attendance.to_local(rule, r.clock_out) if r.clock_out
             else None) for r, f in zip(records, flags, strict=True)]
    summary = attendance.summarise_month(db.session, [me], first, last)[0].as_dict()
    prev_month = (first - timedelta(days=1)).strftime("%Y-%m")
    next_month = (last + timedelta(days=1)).strftime("%Y-%m")
    return render_template("oa/attendance.html", month=month, rows=rows, summary=summary,
                           open_shift=attendance.open_shift(db.session, me.username),
                           prev_month=prev_month, next_month=next_month,
                           timezone=attendance.rule_zone(rule).key)


@bp.post("/attendance/clock-in")
def clock_in() -> Any:
    """Start a shift now (an error page if one is already open)."""
    name = user().username
    begin_write(db.session)
    attendance.clock_in(db.session, name)
    db.session.commit()
    flash(_("Clocked in."), "ok")
    return redirect(url_for("web.my_attendance"))


@bp.post("/attendance/clock-out")
def clock_out() -> Any:
    """End the open shift now."""
    name = user().username
    begin_write(db.session)
    attendance.clock_out(db.session, name)
    db.session.commit()
    flash(_("Clocked out."), "ok")
    return redirect(url_for("web.my_attendance"))


# ------------------------------------------------------------------ announcements
class UnreadPageArgs(Schema):
    """Query arguments of the announcements page and the inbox: unread only, and which page."""

    class Meta:
        unknown = RAISE

    unread = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


def _page(query: Any, page: int) -> tuple[list, int, int]:
    """(rows of `page`, total rows, number of pages) for a select."""
    total = count(db.session, query)
    rows = db.session.scalars(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return list(rows), total, max(1, -(-total // PER_PAGE))


@bp.get("/announcements")
def announcements() -> str:
    """Announcements published to me, newest first, with what I have read."""
    args = query_args(UnreadPageArgs)
    me = user()
    query = ann.visible_query(me, unread_only=args["unread"])
    rows, total, pages = _page(query, args["page"])
    read = ann.read_usernames(db.session, me.username, [a.id for a in rows])
    return render_template("oa/announcements.html", rows=rows, read=read, total=total, args=args, page=args["page"],
                           pages=pages)


@bp.post("/announcements/<int:announcement_id>/read")
def read_announcement(announcement_id: int) -> Any:
    """Mark an announcement read (404 if it is not published to me)."""
    me = user()
    begin_write(db.session)
    ann.mark_read(db.session, me, announcement_id)
    db.session.commit()
    return redirect(url_for("web.announcements") + f"#a{announcement_id}")


# ------------------------------------------------------------------ calendar
class WeekArgs(Schema):
    """?week=YYYY-MM-DD: any day of the week to show (this week by default)."""

    class Meta:
        unknown = RAISE

    week = fields.Date()


@bp.get("/calendar")
def calendar_week() -> str:
    """My events (owned or attending) Monday to Sunday, with links to the previous and next week."""
    args = query_args(WeekArgs)
    day = args.get("week") or company_date()
    monday = day - timedelta(days=day.weekday())
    start, end = day_range_utc(monday, monday + timedelta(days=6))  # the company's week, as stored (UTC)
    events = db.session.scalars(events_query(user().username, start, end).limit(500)).all()
    days: list[tuple[date, list]] = []
    for i in range(7):  # each day: its events, and how each meets the day: from before it, past it, all of it
        d = monday + timedelta(days=i)
        lo, hi = day_range_utc(d, d)
        days.append((d, [(e, {"before": e.start_at < lo, "after": e.end_at > hi, "to_midnight": e.end_at == hi,
                              "all_day": e.start_at <= lo and e.end_at >= hi})
                         for e in events if e.start_at < hi and e.end_at > lo]))
    return render_template("oa/calendar.html", days=days, monday=monday, today=company_date(),
                           prev_week=monday - timedelta(days=7), next_week=monday + timedelta(days=7))


# ------------------------------------------------------------------ notifications
@bp.get("/notifications")
def inbox() -> str:
    """My notifications, newest first."""
    args = query_args(UnreadPageArgs)
    name = user().username
    query = notifications.inbox_query(name, unread_only=args["unread"])
    rows, total, pages = _page(query, args["page"])
    return render_template("oa/notifications.html", rows=rows, total=total, args=args, page=args["page"],
                           pages=pages,
                           unread=notifications.unread_count(db.session, name))


@bp.post("/notifications/<int:notification_id>/read")
def read_notification(notification_id: int) -> Any:
    """Mark one of my notifications read (404 for anyone else's)."""
    name = user().username
    begin_write(db.session)
    notifications.mark_read(db.session, name, notification_id)
    db.session.commit()
    return redirect(url_for("web.inbox"))


@bp.post("/notifications/read-all")
def read_all_notifications() -> Any:
    """Mark all my notifications read."""
    name = user().username
    begin_write(db.session)
    count = notifications.mark_all_read(db.session, name)
    db.session.commit()
    flash(_("%(n)s notifications marked read.", n=count), "ok")
    return redirect(url_for("web.inbox"))
