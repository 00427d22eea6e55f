"""The demo data's times are the company's wall-clock times (Asia/Shanghai here): alice clocks in around 08:30-09:50
and out around 17:00-18:40 as the pages read them, late and early only now and then, and the month's totals
are the days the rows flag; a demo database seeded before stored those wall-clock times as UTC (every day late
and left early, finding 2) and is repaired by seeding again, once (new-user findings 2 and 3)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from api.extensions import db
from oa.record_models import AttendanceRecord, CalendarEvent, LeaveRecord
from store.clock import set_company_timezone, to_company


@pytest.fixture
def shanghai(app) -> Iterator[None]:  # noqa: ANN001
    """The company zone is the default Asia/Shanghai (the tests' UTC would hide stored-vs-local mix-ups)."""
    set_company_timezone("Asia/Shanghai")
    yield
    set_company_timezone(os.environ.get("OAFLOW_TIMEZONE", "UTC"))


def _seed() -> None:
    from oa import demo_records
    demo_records.seed(db.session, progress=lambda _m: None)
    db.session.commit()


def _alice_local() -> list[tuple[datetime, datetime]]:
    rows = db.session.scalars(select(AttendanceRecord).where(AttendanceRecord.user == "alice")
                              .order_by(AttendanceRecord.id)).all()
    return [(to_company(r.clock_in).replace(tzinfo=None), to_company(r.clock_out).replace(tzinfo=None))
            for r in rows]


def _believable(shifts: list[tuple[datetime, datetime]]) -> None:
    assert shifts
    assert all(time(8, 30) <= a.time() < time(9, 51) and time(17) <= b.time() < time(18, 41) and a.date() == b.date()
               for a, b in shifts)


def test_demo_times_read_as_office_hours_and_old_rows_are_repaired_once(app, shanghai) -> None:  # noqa: ANN001
    from oa import attendance
    with app.app_context():
        _seed()
        fresh = _alice_local()
        _believable(fresh)
        rows = db.session.scalars(select(AttendanceRecord).where(AttendanceRecord.user == "alice")).all()
        flags = attendance.flags_for(db.session, rows)
        late = sum(f["late"] for f in flags)
        assert 0 < late < len(rows) // 2 and sum(f["early_leave"] for f in flags) < len(rows) // 4
        month = max(r.work_date for r in rows).replace(day=1) - timedelta(days=1)  # the last whole month
        first, last = attendance.parse_month(f"{month:%Y-%m}")
        in_month = [(r, f) for r, f in zip(rows, flags, strict=True) if first <= r.work_date <= last]
        from oa.models import User
        alice = db.session.scalar(select(User).where(User.username == "alice"))
        counted = attendance.summarise_month(db.session, [alice], first, last)[0]
        assert (counted.present, counted.late, counted.early_leave) == (
            len(in_month), sum(f["late"] for _r, f in in_month), sum(f["early_leave"] for _r, f in in_month))

        # erin's leave: one all-day entry per leave day (none on the weekend inside it), titled by its type
        days = sorted(db.session.scalars(select(LeaveRecord.date).where(LeaveRecord.user == "erin")))
        entries = db.session.scalars(select(CalendarEvent).where(CalendarEvent.owner == "erin",
                                                                 CalendarEvent.kind == "leave")
                                     .order_by(CalendarEvent.start_at)).all()
        assert [to_company(e.start_at).date() for e in entries] == days
        assert all(to_company(e.start_at).time() == time(0) and e.end_at - e.start_at == timedelta(days=1)
                   and e.title == "Annual leave" for e in entries)
        meeting = db.session.scalar(select(CalendarEvent).where(CalendarEvent.title == "Weekly sales meeting"))
        assert to_company(meeting.start_at).time() == time(10)

        # as an earlier seeding stored them: wall-clock times as UTC, erin's leave as one entry over the weekend
        for row in rows:
            row.clock_in, row.clock_out = (to_company(row.clock_in).replace(tzinfo=None),
                                           to_company(row.clock_out).replace(tzinfo=None))
        meeting.start_at, meeting.end_at = (to_company(meeting.start_at).replace(tzinfo=None),
                                            to_company(meeting.end_at).replace(tzinfo=None))
        span = (entries[0].start_at, entries[-1].end_at)
        for entry in entries:
            db.session.delete(entry)
        db.session.add(CalendarEvent(owner="erin", title="Annual leave", kind="leave", start_at=span[0],
                                     end_at=span[1]))
        db.session.commit()
        assert _alice_local() != fresh

        for _ in range(2):  # repaired by the next seeding, and left alone by the one after
            _seed()
            assert _alice_local() == fresh
            meeting = db.session.scalar(select(CalendarEvent).where(CalendarEvent.title == "Weekly sales meeting"))
            assert to_company(meeting.start_at).time() == time(10)
            again = db.session.scalars(select(CalendarEvent).where(CalendarEvent.owner == "erin",
                                                                   CalendarEvent.kind == "leave")
                                       .order_by(CalendarEvent.start_at)).all()
            assert [to_company(e.start_at).date() for e in again] == days
