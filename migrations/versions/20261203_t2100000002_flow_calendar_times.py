"""calendar: the entries flows wrote, at the times people meant. `oa.add_calendar_event` read a flow's times
without a zone as UTC, so in Shanghai an approved leave showed 08:00 on its first day to 07:59 on the day after
its last, titled "Leave (annual)" in English, and a customer visit at 09:00-18:00 showed 17:00-02:00. Each
leave instance's entries become one all-day entry per recorded leave day in the company zone (OAFLOW_TIMEZONE,
read here as the app reads it), titled with the leave type (oa.leave_calendar); visits move to the company's
09:00-18:00 of their day

Revision ID: t2100000002
Revises: t2100000001
Create Date: 2026-12-03 08:00:00
"""
import os
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "t2100000002"
down_revision = "t2100000001"
branch_labels = None
depends_on = None

# oa.leave_calendar.LEAVE_TITLES as of this revision
TITLES = {"annual": "Annual leave", "sick": "Sick leave", "personal": "Personal leave",
          "marriage": "Marriage leave", "maternity": "Maternity leave", "bereavement": "Bereavement leave"}

event = sa.table("calendar_event", sa.column("id", sa.Integer), sa.column("owner", sa.String),
                 sa.column("title", sa.String), sa.column("description", sa.Text), sa.column("location", sa.String),
                 sa.column("kind", sa.String), sa.column("start_at", sa.DateTime), sa.column("end_at", sa.DateTime),
                 sa.column("source_instance_id", sa.Integer), sa.column("created_at", sa.DateTime))
attendee = sa.table("event_attendee", sa.column("event_id", sa.Integer))
reminder = sa.table("event_reminder", sa.column("event_id", sa.Integer))
leave = sa.table("leave_record", sa.column("user", sa.String), sa.column("date", sa.Date),
                 sa.column("leave_type", sa.String), sa.column("half", sa.String),
                 sa.column("instance_id", sa.Integer))


def _utc(zone: ZoneInfo, day, at: time) -> datetime:  # noqa: ANN001
    return datetime.combine(day, at, zone).astimezone(UTC).replace(tzinfo=None)


def upgrade():
    zone = ZoneInfo(os.environ.get("OAFLOW_TIMEZONE") or "Asia/Shanghai")
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    flows = bind.execute(sa.select(event.c.owner, event.c.source_instance_id).where(
        event.c.kind == "leave", event.c.source_instance_id.is_not(None)).distinct()).all()
    for owner, instance_id in flows:
        days = bind.execute(sa.select(leave.c.date, leave.c.leave_type, leave.c.half).where(
            leave.c.user == owner, leave.c.instance_id == instance_id).order_by(leave.c.date)).all()
        if not days:
            continue
        old = [r[0] for r in bind.execute(sa.select(event.c.id).where(
            event.c.owner == owner, event.c.kind == "leave", event.c.source_instance_id == instance_id))]
        bind.execute(attendee.delete().where(attendee.c.event_id.in_(old)))
        bind.execute(reminder.delete().where(reminder.c.event_id.in_(old)))
        bind.execute(event.delete().where(event.c.id.in_(old)))
        rows = []
        for day, leave_type, half in days:
            start, noon, end = _utc(zone, day, time(0)), _utc(zone, day, time(12)), \
                _utc(zone, day + timedelta(days=1), time(0))
            span = (start, noon) if half == "am" else (noon, end) if half == "pm" else (start, end)
            rows.append({"owner": owner, "title": TITLES.get(leave_type) or f"Leave ({leave_type})",
                         "description": "", "location": None, "kind": "leave", "start_at": span[0],
                         "end_at": span[1], "source_instance_id": instance_id, "created_at": now})
        bind.execute(event.insert(), rows)
    visits = bind.execute(sa.select(event.c.id, event.c.start_at, event.c.end_at).where(
        event.c.kind == "visit", event.c.source_instance_id.is_not(None))).all()
    for event_id, start, end in visits:
        if start.time() == time(9) and end.time() == time(18) and start.date() == end.date():
            bind.execute(event.update().where(event.c.id == event_id).values(
                start_at=_utc(zone, start.date(), time(9)), end_at=_utc(zone, start.date(), time(18))))


def downgrade():
    pass  # the entries before were wrong; nothing to go back to
