"""Revisions t2100000001-2 put right what was stored before: every summarised attendance month is marked for
recount, the leave entries flows wrote (08:00 on the first day to 07:59 after the last in Shanghai, "Leave
(annual)") become one all-day entry per recorded leave day titled by the leave type, and a flow's visit at
09:00-18:00 moves to the company's 09:00-18:00 (new-user findings 2 and 3)."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import create_engine, text

from api.extensions import db
from tests.test_migrations import _config


def _moment(value: object) -> datetime:
    return datetime.fromisoformat(str(value))  # SQLite hands text back to a plain text() query


def test_upgrade_rebuilds_flow_leave_entries_and_moves_visits(app, database_url, monkeypatch) -> None:  # noqa: ANN001
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    config = _config(database_url)
    command.downgrade(config, "t2100000001-1")
    engine = create_engine(database_url)
    old = datetime(2026, 12, 1)
    with engine.begin() as conn:
        conn.execute(text('INSERT INTO leave_record ("user", date, leave_type, half, instance_id) VALUES '
                          "('alice', '2026-12-21', 'annual', NULL, 901), ('alice', '2026-12-22', 'sick', 'am', 901)"))
        for title, kind, start, end, instance in (
                ("Leave (annual)", "leave", datetime(2026, 12, 21), datetime(2026, 12, 22, 12), 901),
                ("Customer visit: review", "visit", datetime(2026, 11, 20, 9), datetime(2026, 11, 20, 18), 902),
                ("Offsite", "event", datetime(2026, 11, 20, 9), datetime(2026, 11, 20, 18), None)):
            conn.execute(text("INSERT INTO calendar_event (owner, title, description, kind, start_at, end_at, "
                              "source_instance_id, created_at) VALUES ('alice', :title, '', :kind, :start, :end, "
                              ":instance, :old)"),
                         {"title": title, "kind": kind, "start": start, "end": end, "instance": instance, "old": old})
        conn.execute(text('DELETE FROM attendance_month_dirty'))
    monkeypatch.setenv("OAFLOW_TIMEZONE", "Asia/Shanghai")
    command.upgrade(config, "heads")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT title, kind, start_at, end_at FROM calendar_event WHERE owner = 'alice' "
                                 "ORDER BY start_at, title")).all()
        marks = conn.execute(text('SELECT "user", month FROM attendance_month_dirty')).all()
    engine.dispose()
    assert [(r[0], r[1], _moment(r[2]), _moment(r[3])) for r in rows] == [
        ("Customer visit: review", "visit", datetime(2026, 11, 20, 1), datetime(2026, 11, 20, 10)),
        ("Offsite", "event", datetime(2026, 11, 20, 9), datetime(2026, 11, 20, 18)),  # not a flow's: kept
        ("Annual leave", "leave", datetime(2026, 12, 20, 16), datetime(2026, 12, 21, 16)),  # all of Dec 21
        ("Sick leave", "leave", datetime(2026, 12, 21, 16), datetime(2026, 12, 22, 4))]  # Dec 22 until noon
    assert [(u, str(m)) for u, m in marks] == [("*", "0001-01-01")]
