"""The monthly attendance counted in SQL (oa.attendance_month, issue #19) gives the same numbers as the old
person-day walk in Python (tests/oa/attendance_reference.py) on the same records: holidays and make-up days,
whole and half days of leave with and without clock-ins, late and early shifts, a missing clock-out, two shifts a
day, a clock-out on the next day, a shift rule in another timezone (with its departments' users), a hire date in
the month, people without a shift, and a month seen from its middle (today and later are never absent)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from oa.models import Department, User
from oa.record_models import AttendanceRecord, LeaveRecord, ShiftRule

FIRST, LAST = date(2026, 10, 1), date(2026, 10, 31)


def _utc(day: date, at: time, zone: str) -> datetime:
    return datetime.combine(day, at, ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)


def _fixtures(dbs) -> None:  # noqa: ANN001, C901
    """Holidays, a Shanghai department with its own rule, and a month of random but valid records."""
    from oa.holidays import create
    rnd = random.Random(19)
    with dbs() as s:
        for day in (1, 2, 5):
            create(s, date(2026, 10, day), "holiday", f"holiday {day}")
        create(s, date(2026, 10, 10), "workday", "make-up Saturday")
        east = Department(name="Shanghai office")
        s.add(east)
        s.flush()
        s.add(ShiftRule(name="Shanghai", start_time=time(8, 30), end_time=time(17, 30), grace_minutes=5,
                        work_days=[0, 1, 2, 3, 4, 5], timezone="Asia/Shanghai", department_id=east.id))
        users = list(s.scalars(select(User).where(User.active.is_(True)).order_by(User.username)))
        for i, u in enumerate(users[:4]):
            u.department_id = east.id if i % 2 else u.department_id
        users[-1].start_date = date(2026, 10, 14)
        for u in users:
            zone = "Asia/Shanghai" if u.department_id == east.id else "UTC"
            start, end = (time(8, 30), time(17, 30)) if zone != "UTC" else (time(9), time(18))
            open_left = True
            for n in range(31):
                day = FIRST + timedelta(days=n)
                kind = rnd.random()
                if kind < 0.15:
                    continue  # nothing: absent on a past work day
                if kind < 0.3:
                    s.add(LeaveRecord(user=u.username, date=day, leave_type=rnd.choice(("annual", "sick")),
                                      half=rnd.choice((None, "am", "pm"))))
                    if rnd.random() < 0.5:
                        continue  # leave without a clock-in
                begin = datetime.combine(day, start) + timedelta(minutes=rnd.randint(-30, 40))
                stop = datetime.combine(day, end) + timedelta(minutes=rnd.randint(-60, 60))
                if rnd.random() < 0.08:
                    stop = datetime.combine(day + timedelta(days=1), time(rnd.randint(0, 10)))  # next morning
                clock_in, clock_out = _utc(begin.date(), begin.time(), zone), _utc(stop.date(), stop.time(), zone)
                if rnd.random() < 0.15:  # two shifts: a break at noon
                    noon = _utc(day, time(12), zone)
                    s.add(AttendanceRecord(user=u.username, work_date=day, clock_in=clock_in, clock_out=noon))
                    clock_in = noon + timedelta(minutes=45)
                if open_left and n > 20 and rnd.random() < 0.2:
                    clock_out, open_left = None, False  # the clock-out never came
                s.add(AttendanceRecord(user=u.username, work_date=day, clock_in=clock_in, clock_out=clock_out))
                if clock_out is None:
                    break


def _both(app, now: datetime) -> tuple[list[dict], list[dict]]:  # noqa: ANN001
    from api.extensions import db
    from oa.attendance import summarise_month
    from tests.oa.attendance_reference import summarise_month_by_day
    with app.app_context():
        users = list(db.session.scalars(select(User).order_by(User.username)))
        new = [m.as_dict() for m in summarise_month(db.session, users, FIRST, LAST, now)]
        old = [m.as_dict() for m in summarise_month_by_day(db.session, users, FIRST, LAST, now)]
        db.session.remove()
    return new, old


def test_sql_month_counts_equal_the_day_by_day_walk(app, dbs) -> None:  # noqa: ANN001
    _fixtures(dbs)
    for now in (datetime(2026, 11, 3, 12), datetime(2026, 10, 15, 1, 30), datetime(2026, 10, 15, 20)):
        new, old = _both(app, now)
        assert new == old, now
    new, _ = _both(app, datetime(2026, 11, 3, 12))
    counted = {k: sum(u[k] for u in new) for k in ("present", "late", "early_leave", "absent", "leave_days")}
    assert all(counted.values()), counted  # every kind of day occurs in the fixtures: the comparison means something
    assert any(u["work_days"] for u in new) and any(not u["work_days"] for u in new)


def test_report_route_gives_the_reference_numbers(api, app, dbs) -> None:  # noqa: ANN001
    """The HTTP report (users with a shift, per department) carries the same per-person numbers."""
    _fixtures(dbs)
    resp = api.get("/api/v1/reports/attendance", "admin", query_string={"month": "2026-10"})
    assert resp.status_code == 200, resp.get_json()
    got = {u["user"]: u for u in resp.get_json()["users"]}
    _, old = _both(app, datetime.now(UTC).replace(tzinfo=None))
    assert got and all(got[u["user"]] == u for u in old if u["user"] in got)


CLOSED = datetime(2026, 11, 3, 12)  # October is over in every timezone


def _summary_rows(app) -> int:  # noqa: ANN001
    from api.extensions import db
    from oa.attendance_summary import AttendanceMonthSummary
    with app.app_context():
        n = db.session.query(AttendanceMonthSummary).filter_by(month=FIRST).count()
        db.session.remove()
    return n


def _from_summary(app) -> set[str]:  # noqa: ANN001
    """The people whose October the report would read from the summary now."""
    from api.extensions import db
    from oa.attendance import has_shift
    from oa.attendance_summary import read
    with app.app_context():
        users = list(db.session.scalars(select(User).order_by(User.username)))
        got = set(read(db.session, [(u, has_shift(u)) for u in users], FIRST, LAST, CLOSED))
        db.session.remove()
    return got


def _refresh(app) -> int:  # noqa: ANN001
    from api.extensions import db
    from oa.attendance import refresh_summary
    with app.app_context():
        n = refresh_summary(db.session, CLOSED)
        db.session.remove()
    return n


def _same(app) -> list[dict]:  # noqa: ANN001
    new, old = _both(app, CLOSED)
    assert new == old
    return new


def test_closed_month_summary_gives_the_reference_numbers_after_edits(app, dbs) -> None:  # noqa: ANN001
    """A closed month is read from the summary once the scheduler has counted it; every later write (a late
    clock-in corrected, leave approved after the fact, a holiday added, a person moved) marks it in its own
    transaction, so the report counts those people live until the next refresh - the numbers never differ
    from the day-by-day walk."""
    from oa.attendance import record_leave
    from oa.holidays import create
    _fixtures(dbs)
    with dbs() as s:  # the fixtures' writes marked October
        from oa.attendance_marks import AttendanceMonthDirty
        assert s.query(AttendanceMonthDirty).count() > 0
    assert _from_summary(app) == set()
    before = _same(app)
    people = {u["user"] for u in before}
    assert _refresh(app) > 0 and _summary_rows(app) == len(people)
    assert _from_summary(app) == people  # now read from the summary, and still the same numbers
    assert _same(app) == before

    with dbs() as s:  # a late clock-in corrected to on time
        late = s.scalars(select(AttendanceRecord).where(AttendanceRecord.work_date == date(2026, 10, 20))
                         .order_by(AttendanceRecord.clock_in.desc())).first()
        who = late.user
        late.clock_in = late.clock_in.replace(hour=0, minute=30)
    assert who not in _from_summary(app) and _from_summary(app) == people - {who}
    after = _same(app)
    assert after != before
    _refresh(app)
    assert _from_summary(app) == people and _same(app) == after

    with dbs() as s:  # leave approved after the fact, over a day without a clock-in
        bare = sorted(people - {who})[0]
        record_leave(s, bare, "2026-10-26", "2026-10-28", "annual")
    assert bare not in _from_summary(app)
    after = _same(app)
    _refresh(app)
    assert _from_summary(app) == people and _same(app) == after

    with dbs() as s:  # a holiday added: everyone's October is counted live until the refresh
        create(s, date(2026, 10, 30), "holiday", "added later")
    assert _from_summary(app) == set()
    after = _same(app)
    _refresh(app)
    assert _from_summary(app) == people and _same(app) == after

    with dbs() as s:  # a person's hire date moved: their stored row no longer matches and is not read
        u = s.scalar(select(User).where(User.username == who))
        u.start_date = date(2026, 10, 21)
    assert who not in _from_summary(app)
    assert _same(app) != after


def test_a_month_is_closed_once_over_everywhere(app, dbs) -> None:  # noqa: ANN001
    """Until a month is over everywhere its counts depend on today; its rows cover only the days over."""
    from oa.attendance_summary import covered_through, is_closed
    assert not is_closed(FIRST, LAST, datetime(2026, 11, 1, 12))
    assert is_closed(FIRST, LAST, datetime(2026, 11, 2, 0, 1))
    assert not is_closed(FIRST, date(2026, 10, 30), CLOSED)
    assert covered_through(datetime(2026, 10, 15, 1, 30)) == date(2026, 10, 13)


def _rows_through(app) -> set[date]:  # noqa: ANN001
    from api.extensions import db
    from oa.attendance_summary import AttendanceMonthSummary
    with app.app_context():
        got = set(db.session.scalars(select(AttendanceMonthSummary.through).where(
            AttendanceMonthSummary.month == FIRST)))
        db.session.remove()
    return got


def _refresh_at(app, now: datetime) -> int:  # noqa: ANN001
    from api.extensions import db
    from oa.attendance import refresh_summary
    with app.app_context():
        n = refresh_summary(db.session, now)
        db.session.remove()
    return n


def _read_at(app, now: datetime) -> dict[str, date]:  # noqa: ANN001
    """Who the report would read from the summary at `now`, and through which day."""
    from api.extensions import db
    from oa.attendance import has_shift
    from oa.attendance_summary import read
    with app.app_context():
        users = list(db.session.scalars(select(User).order_by(User.username)))
        got = {name: through for name, (through, _c) in
               read(db.session, [(u, has_shift(u)) for u in users], FIRST, LAST, now).items()}
        db.session.remove()
    return got


def test_the_open_month_reads_the_days_over_and_counts_the_rest_live(app, dbs, monkeypatch) -> None:  # noqa: ANN001
    """The scheduler stores the open month's days that are over everywhere; the report adds the later days
    counted live, and the numbers stay those of the day-by-day walk: on the day itself, the next day (the row
    extended by a day), after a write on a stored day (marked, counted live until the refresh), after today's
    clock-in (no mark: no row holds that day), after a record for yesterday (marked: a day of margin) and once
    the month has closed (the last open-month row plus the rest, then the closed row)."""
    import oa.attendance_summary as summary
    _fixtures(dbs)
    mid = datetime(2026, 10, 15, 1, 30)
    people = {u["user"] for u in _both(app, mid)[1]}
    assert _refresh_at(app, mid) > 0 and _rows_through(app) == {date(2026, 10, 13)}
    assert set(_read_at(app, mid)) == people
    new, old = _both(app, mid)
    assert new == old
    later = datetime(2026, 10, 16, 12)
    assert _refresh_at(app, later) > 0 and _rows_through(app) == {date(2026, 10, 14)}
    assert set(_read_at(app, later)) == people
    new, old = _both(app, later)
    assert new == old

    monkeypatch.setattr(summary, "utcnow", lambda: later)  # the writes below happen on 16 October
    with dbs() as s:  # a clock-in corrected on a stored day: that person's month is counted live
        rec = s.scalars(select(AttendanceRecord).where(AttendanceRecord.work_date == date(2026, 10, 13))
                        .order_by(AttendanceRecord.id)).first()
        who = rec.user
        rec.clock_in = rec.clock_in + timedelta(hours=3)
    assert who not in _read_at(app, later) and set(_read_at(app, later)) == people - {who}
    new, old = _both(app, later)
    assert new == old
    with dbs() as s:  # today's clock-in by someone else: no row holds today, nothing is marked
        other = sorted(people - {who})[0]
        s.add(AttendanceRecord(user=other, work_date=date(2026, 10, 16), clock_in=datetime(2026, 10, 16, 11),
                               clock_out=datetime(2026, 10, 16, 15)))
    assert other in _read_at(app, later)
    new, old = _both(app, later)
    assert new == old and {u["user"]: u for u in new}[other]["late"] >= 1
    with dbs() as s:  # a record for yesterday: within a day of the rows' reach, so it marks (a margin)
        s.add(AttendanceRecord(user=other, work_date=date(2026, 10, 15), clock_in=datetime(2026, 10, 15, 23),
                               clock_out=datetime(2026, 10, 15, 23, 30)))
    assert other not in _read_at(app, later)
    new, old = _both(app, later)
    assert new == old
    _refresh_at(app, later)
    assert set(_read_at(app, later)) == people
    new, old = _both(app, later)
    assert new == old

    new, old = _both(app, CLOSED)  # October over: rows through the 14th plus the rest of the month live
    assert new == old
    _refresh_at(app, CLOSED)
    assert _rows_through(app) == {LAST} and set(_read_at(app, CLOSED)) == people
    assert _same(app) == old


def test_statements_and_moved_records_mark_the_month(app, dbs) -> None:  # noqa: ANN001
    """A DELETE statement on leave through a session, and a clock record moved to another month, leave the
    summary unread for what they touched (statements: everyone; a moved record: both months of its person)."""
    from sqlalchemy import delete

    from oa.attendance_marks import EVERY_MONTH, EVERYONE, AttendanceMonthDirty
    _fixtures(dbs)
    _refresh(app)
    assert _from_summary(app)
    with dbs() as s:
        rec = s.scalars(select(AttendanceRecord).where(AttendanceRecord.work_date == date(2026, 10, 21))).first()
        who = rec.user
        rec.work_date = date(2026, 9, 30)
    with dbs() as s:
        marks = set(s.execute(select(AttendanceMonthDirty.user, AttendanceMonthDirty.month)))
    assert marks == {(who, date(2026, 10, 1)), (who, date(2026, 9, 1))}
    _refresh(app)
    with dbs() as s:
        s.execute(delete(LeaveRecord).where(LeaveRecord.date == date(2026, 10, 22)))
    assert _from_summary(app) == set()
    with dbs() as s:
        assert s.get(AttendanceMonthDirty, (EVERYONE, EVERY_MONTH)) is not None
    _same(app)


def test_the_month_just_closed_is_filled_on_the_second(app, dbs) -> None:  # noqa: ANN001
    """On the 2nd of the next month (over everywhere) the scheduler already fills the month just ended."""
    from api.extensions import db
    from oa.attendance import refresh_summary
    _fixtures(dbs)
    with app.app_context():
        assert refresh_summary(db.session, datetime(2026, 11, 2, 0, 30)) > 0
        db.session.remove()
    assert _from_summary(app)


def _some(app, now: datetime, pick: slice) -> tuple[list[dict], list[dict]]:  # noqa: ANN001
    """summarise_month and the walk for a part of the people (`pick` of them by name)."""
    from api.extensions import db
    from oa.attendance import summarise_month
    from tests.oa.attendance_reference import summarise_month_by_day
    with app.app_context():
        users = list(db.session.scalars(select(User).order_by(User.username)))[pick]
        new = [m.as_dict() for m in summarise_month(db.session, users, FIRST, LAST, now)]
        old = [m.as_dict() for m in summarise_month_by_day(db.session, users, FIRST, LAST, now)]
        db.session.remove()
    return new, old


def test_counts_read_by_department_past_a_few_people_equal_the_walk(app, dbs, monkeypatch) -> None:  # noqa: ANN001
    """Past a few people the statements select the people's departments (oa.attendance_people.among) instead of
    binding every name: for every other person of the org (their colleagues left out of the group), counted live,
    read from the closed month's rows and from the open month's rows plus the days after them, the numbers are
    still those of the walk and nobody outside the group appears."""
    from oa import attendance_people
    monkeypatch.setattr(attendance_people, "FEW", 0)  # every statement selects by department
    _fixtures(dbs)
    mid = datetime(2026, 10, 20, 12)
    for pick in (slice(None, None, 2), slice(1, None, 2), slice(None)):
        new, old = _some(app, mid, pick)  # live: no rows yet
        assert new == old and len(new) == len(old)
    assert _refresh_at(app, mid) > 0 and _rows_through(app) == {date(2026, 10, 18)}
    everyone = {u["user"] for u in _both(app, mid)[1]}
    assert set(_read_at(app, mid)) == everyone  # the rows are read through the department selection
    for pick in (slice(None, None, 2), slice(1, None, 2)):
        new, old = _some(app, mid, pick)  # the rows through the 18th plus the days after, for half the people
        assert new == old and {u["user"] for u in new} < everyone
    _refresh_at(app, CLOSED)
    assert _rows_through(app) == {LAST}
    for pick in (slice(None, None, 2), slice(1, None, 2), slice(None)):
        new, old = _some(app, CLOSED, pick)
        assert new == old


def test_live_days_past_the_last_record_equal_the_walk(app, dbs) -> None:  # noqa: ANN001
    """On an ordinary day of the open month the clock records stop at today, and the statements bind the
    moments of the days up to today only (oa.attendance_month: records dated later, as in the other tests here,
    send it back to every day's) - counted whole, from the rows plus a live day, and from the rows plus live days
    without a record, the numbers stay the walk's (leave still counted to the month's end)."""
    from sqlalchemy import delete
    _fixtures(dbs)
    with dbs() as s:
        s.execute(delete(AttendanceRecord).where(AttendanceRecord.work_date > date(2026, 10, 19)))
    now = datetime(2026, 10, 20, 12)
    new, old = _both(app, now)  # the whole month live: records from the 1st to the 19th
    assert new == old
    assert _refresh_at(app, now) > 0 and _rows_through(app) == {date(2026, 10, 18)}
    people = {u["user"] for u in old}
    assert set(_read_at(app, now)) == people
    new, old = _both(app, now)  # rows through the 18th, the 19th live (the only day of the tail with records)
    assert new == old and any(u["present"] for u in new)
    with dbs() as s:
        s.execute(delete(AttendanceRecord).where(AttendanceRecord.work_date == date(2026, 10, 19)))
    _refresh_at(app, now)
    assert set(_read_at(app, now)) == people
    new, old = _both(app, now)  # rows through the 18th, live days without any record
    assert new == old and any(u["leave_days"] for u in new)
