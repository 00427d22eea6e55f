"""Every CRM report gives the same numbers after the SQL-aggregation rewrite as the code before it did
(tests/crm/report_golden.json was recorded from that code on tests/crm/report_fixture's seeded data)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from sqlalchemy import select

from api.extensions import db
from tests.crm.report_fixture import GOLDEN, NOW, expected_reports, seed


def test_reports_match_the_numbers_recorded_before_the_rewrite(app) -> None:  # noqa: ANN001
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    with app.app_context():
        seed(db.session)
        db.session.commit()
        from crm.rfm import refresh_all
        refresh_all(db.session, NOW)
        got = expected_reports(db.session)
    for viewer, reports in golden.items():
        for name, value in reports.items():
            assert got[viewer][name] == value, (viewer, name)


def test_attendance_vs_sales_matches_the_golden_numbers_from_the_attendance_summary(app) -> None:  # noqa: ANN001
    """The same numbers once the scheduler has stored the attendance months (the closed ones whole, June through
    the 13th); a clock-in written afterwards on a stored June day changes the report at once (the month is
    marked and counted live) and the refreshed summary carries it too."""
    from oa.attendance import refresh_summary
    from oa.attendance_summary import AttendanceMonthSummary
    from oa.record_models import AttendanceRecord
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    months = ("2026-06", "2026-05", "2026-02")
    with app.app_context():
        seed(db.session)
        db.session.commit()
        assert refresh_summary(db.session, NOW) > 0
        stored = dict(db.session.execute(select(AttendanceMonthSummary.month, AttendanceMonthSummary.through)
                                         .where(AttendanceMonthSummary.user == "alice")).all())
        assert stored[date(2026, 6, 1)] == date(2026, 6, 13) and stored[date(2026, 5, 1)] == date(2026, 5, 31)
        got = expected_reports(db.session)
        for viewer in golden:
            assert got[viewer]["attendance_vs_sales"] == golden[viewer]["attendance_vs_sales"], viewer

        day = date(2026, 6, 3)  # a Wednesday, stored in alice's June row
        start = datetime.combine(day, datetime.min.time()) + timedelta(hours=9)
        db.session.add(AttendanceRecord(user="alice", work_date=day, clock_in=start,
                                        clock_out=start + timedelta(hours=9)))
        db.session.commit()
        want = json.loads(json.dumps(golden["admin"]["attendance_vs_sales"]))
        row = next(r for r in want["2026-06"] if r["user"] == "alice")
        row["present_days"] += 1
        row["absent"] -= 1
        live = expected_reports(db.session)["admin"]["attendance_vs_sales"]
        assert live == want
        refresh_summary(db.session, NOW)
        present = db.session.scalar(select(AttendanceMonthSummary.present).where(
            AttendanceMonthSummary.user == "alice", AttendanceMonthSummary.month == date(2026, 6, 1)))
        assert present == 1  # the summary followed the write
        assert expected_reports(db.session)["admin"]["attendance_vs_sales"] == want
        assert set(want) == set(months)
