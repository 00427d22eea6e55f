"""Demo attendance follows the company calendar: nobody clocks in on a public holiday, the make-up working days
are worked, so the demo's attendance report shows no false absences."""

from __future__ import annotations

from sqlalchemy import func, select

from api.extensions import db
from oa.record_models import AttendanceRecord, Holiday, LeaveRecord


def test_demo_attendance_follows_the_company_calendar(app) -> None:  # noqa: ANN001
    from oa import demo_records
    with app.app_context():
        demo_records.seed(db.session, progress=lambda _m: None)
        db.session.commit()
        first, last = db.session.execute(select(func.min(AttendanceRecord.work_date),
                                                func.max(AttendanceRecord.work_date))).one()
        calendar = dict(db.session.execute(select(Holiday.date, Holiday.kind).where(
            Holiday.date >= first, Holiday.date <= last)).all())
        assert "holiday" in calendar.values(), "the demo loads the company calendar before its attendance"
        worked = set(db.session.scalars(select(AttendanceRecord.work_date).distinct()))
        on_leave = set(db.session.scalars(select(LeaveRecord.date)))
        holidays = {d for d, kind in calendar.items() if kind == "holiday"}
        assert not worked & holidays and not on_leave & holidays
        assert all(d in worked for d, kind in calendar.items() if kind == "workday")  # make-up days are worked
        assert all(d.weekday() < 5 or calendar.get(d) == "workday" for d in worked)
