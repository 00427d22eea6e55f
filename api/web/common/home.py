"""The home page: counts of my open tasks, my requests in progress and unread notifications."""

from __future__ import annotations

from flask import render_template

from api.extensions import db
from api.web.blueprint import bp
from api.web.common import queries as q
from api.web.common.session import actor


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
