"""The leave request's start check: the working days are computed, the dates must make sense and must not
overlap the applicant's own pending or approved leave. Plugged into the engine by the app factory.

`days` is computed by the platform (oa.workdays: company calendar, half days) and replaces any typed value;
`start_half` / `end_half` default to "am" / "pm" (whole first and last days).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import ProcessInstance
from engine.start_checks import StartChecks
from oa.attendance import rule_for
from oa.models import User
from oa.org import OrgDirectory
from oa.record_models import LeaveRecord
from oa.workdays import leave_days, slots, total
from store.errors import InvalidData

PROCESS_KEY = "leave_request"
PENDING = ("running", "error")


def _date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidData(f"{field} is not a date", errors=[{"field": field, "message": "expected YYYY-MM-DD"}])


def _overlap_error(what: str) -> InvalidData:
    return InvalidData("the leave overlaps leave you already have",
                       errors=[{"field": "start_date", "message": f"overlaps {what}"}])


def _check_overlap(session: Session, username: str, start: date, end: date, wanted: tuple[int, int]) -> None:
    # serialise one applicant's leave starts (PostgreSQL; SQLite write transactions are serial already)
    session.execute(select(User.id).where(User.username == username).with_for_update())
    for inst_id, variables in session.execute(select(ProcessInstance.id, ProcessInstance.variables).where(
            ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.started_by == username,
            ProcessInstance.status.in_(PENDING))):
        try:
            other = slots(date.fromisoformat(variables["start_date"]), date.fromisoformat(variables["end_date"]),
                          variables.get("start_half"), variables.get("end_half"))
        except (KeyError, TypeError, ValueError):
            continue
        if other[0] <= wanted[1] and wanted[0] <= other[1]:
            raise _overlap_error(f"your pending leave request {inst_id}")
    for row in session.scalars(select(LeaveRecord).where(LeaveRecord.user == username, LeaveRecord.date >= start,
                                                         LeaveRecord.date <= end)):
        taken = slots(row.date, row.date, "pm" if row.half == "pm" else "am", "am" if row.half == "am" else "pm")
        if taken[0] <= wanted[1] and wanted[0] <= taken[1]:
            raise _overlap_error(f"your approved leave on {row.date.isoformat()}")


def check_leave_start(session: Session, username: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Validate a leave request's dates and compute its working days; the variables the platform sets."""
    start, end = _date(variables.get("start_date"), "start_date"), _date(variables.get("end_date"), "end_date")
    start_half, end_half = variables.get("start_half") or "am", variables.get("end_half") or "pm"
    week = rule_for(session, OrgDirectory(session).person(username)).work_days or ()
    days = leave_days(session, week, start, end, start_half, end_half)
    if not days:
        raise InvalidData("the leave has no working day", errors=[
            {"field": "start_date", "message": "no working day between start_date and end_date "
                                               "(weekends and public holidays are not working days)"}])
    _check_overlap(session, username, start, end, slots(start, end, start_half, end_half))
    count = total(days)
    return {"days": int(count) if count.is_integer() else count, "start_half": start_half, "end_half": end_half}


def register(checks: StartChecks) -> None:
    """Plug the leave request's start check into the engine."""
    checks.register(PROCESS_KEY, check_leave_start, computed={"days"})
