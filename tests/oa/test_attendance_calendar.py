"""The attendance report follows the company calendar by itself (no caller passes it): public holidays are
neither work days nor absences, make-up Saturdays are work days; half days of leave count 0.5 and the other
half of that day is worked."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select

from oa.models import User


def _load_calendar(dbs) -> None:  # noqa: ANN001
    from oa.holidays import load_shipped
    with dbs() as s:
        load_shipped(s)


def _report(api, month: str, user: str = "admin") -> dict[str, dict]:  # noqa: ANN001
    resp = api.get("/api/v1/reports/attendance", user, query_string={"month": month})
    assert resp.status_code == 200, resp.get_json()
    return {u["user"]: u for u in resp.get_json()["users"]}


def _clock(dbs, username: str, day: date, start: time, end: time) -> None:  # noqa: ANN001
    """A closed shift on `day` from `start` to `end`, local time of the user's shift rule."""
    from oa.attendance import rule_for, rule_zone
    from oa.record_models import AttendanceRecord
    with dbs() as s:
        rule = rule_for(s, s.scalar(select(User).where(User.username == username)))
        tz = rule_zone(rule)

        def utc(t: time) -> datetime:
            return datetime.combine(day, t, tz).astimezone(UTC).replace(tzinfo=None)
        s.add(AttendanceRecord(user=username, work_date=day, clock_in=utc(start), clock_out=utc(end)))


def test_october_and_february_follow_the_company_calendar(api, dbs) -> None:  # noqa: ANN001
    _load_calendar(dbs)
    alice = _report(api, "2026-10")["alice"]
    # 22 weekdays - 5 weekdays of National Day (Oct 1, 2, 5, 6, 7) + make-up Saturday Oct 10
    assert (alice["work_days"], alice["absent"]) == (18, 18)
    alice = _report(api, "2026-02")["alice"]
    assert (alice["work_days"], alice["absent"]) == (16, 16)  # 20 - 6 Spring Festival + 2 make-up Saturdays
    resp = api.get("/api/v1/reports/attendance-vs-sales", "alice", query_string={"month": "2026-10"})
    assert resp.status_code == 200, resp.get_json()
    rows = resp.get_json()
    rows = {r["user"]: r for r in (rows["items"] if isinstance(rows, dict) else rows)}
    assert (rows["alice"]["work_days"], rows["alice"]["absent"]) == (18, 18)


def test_a_make_up_saturday_is_worked_and_a_holiday_is_not(api, dbs) -> None:  # noqa: ANN001
    _load_calendar(dbs)
    _clock(dbs, "alice", date(2026, 10, 10), time(9, 45), time(18, 30))  # make-up Saturday, late
    _clock(dbs, "alice", date(2026, 10, 8), time(8, 50), time(18, 30))
    _clock(dbs, "alice", date(2026, 10, 1), time(11, 0), time(12, 0))  # came in on a holiday: never late
    alice = _report(api, "2026-10")["alice"]
    assert (alice["work_days"], alice["present"], alice["late"], alice["absent"]) == (18, 3, 1, 16)
    resp = api.get("/api/v1/attendance", "alice", query_string={"from": "2026-10-01", "to": "2026-10-10"})
    assert resp.status_code == 200, resp.get_json()
    flags = {r["work_date"]: r["late"] for r in resp.get_json()["items"]}
    assert flags == {"2026-10-10": True, "2026-10-08": False, "2026-10-01": False}


def test_the_summary_reads_the_calendar_itself(app, dbs) -> None:  # noqa: ANN001
    from api.extensions import db
    from oa.attendance import summarise_month
    from oa.holidays import create
    with dbs() as s:
        create(s, date(2026, 10, 1), "holiday", "day one")
        create(s, date(2026, 10, 2), "holiday", "day two")
        create(s, date(2026, 10, 3), "holiday", "a Saturday anyway")
    with app.app_context():
        alice = db.session.scalar(select(User).where(User.username == "alice"))
        [month] = summarise_month(db.session, [alice], date(2026, 10, 1), date(2026, 10, 31))
        assert (month.work_days, month.absent) == (20, 20)


def test_half_days_of_leave_count_half(api, app, dbs) -> None:  # noqa: ANN001
    from oa.attendance import record_leave
    with dbs() as s:  # the two halves of Thu Dec 10, then Mon Dec 14 afternoon to Tue Dec 15 noon
        record_leave(s, "carol", "2026-12-10", "2026-12-10", "annual", start_half="pm")
        record_leave(s, "carol", "2026-12-10", "2026-12-10", "annual", end_half="am")
        record_leave(s, "carol", "2026-12-14", "2026-12-15", "annual", start_half="pm", end_half="am")
    carol = _report(api, "2026-12")["carol"]
    assert (carol["leave_days"], carol["leave"]) == (2, {"annual": 2})
    resp = api.get("/api/v1/reports/attendance", "admin", query_string={"month": "2026-12", "format": "csv"})
    if resp.status_code == 200 and resp.mimetype == "text/csv":
        assert "2.0" not in resp.get_data(as_text=True)


def test_the_other_half_of_a_half_day_is_worked(api, dbs) -> None:  # noqa: ANN001
    from oa.attendance import record_leave
    with dbs() as s:
        record_leave(s, "alice", "2026-11-10", "2026-11-10", "annual", end_half="am")  # Tue morning off
        record_leave(s, "alice", "2026-11-11", "2026-11-11", "sick", start_half="pm")  # Wed afternoon off
        record_leave(s, "alice", "2026-11-12", "2026-11-12", "annual", start_half="pm")  # Thu afternoon off
    _clock(dbs, "alice", date(2026, 11, 10), time(13, 30), time(18, 30))  # came at noon: not late
    _clock(dbs, "alice", date(2026, 11, 11), time(9, 40), time(12, 0))  # late in the morning, left at noon
    # Thu: neither clocked in nor on leave in the morning: half a day absent
    alice = _report(api, "2026-11")["alice"]
    assert alice["leave_days"] == 1.5 and alice["leave"] == {"annual": 1, "sick": 0.5}
    assert (alice["present"], alice["late"], alice["early_leave"]) == (2, 1, 0)
    assert alice["absent"] == 21 - 3 + 0.5  # 21 weekdays, two worked, Thu half
