"""Attendance times people live by: in the company zone (Asia/Shanghai here, the default), a clock-in at 08:34 and
a clock-out at 18:05 read as 08:34 and 18:05 on the page, are neither late nor early on the page or in the API,
and the month's totals (page tiles, report API) count exactly the days the rows flag (new-user finding 2)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from api.extensions import db
from store.clock import set_company_timezone
from tests.web.conftest import Web

ZONE = ZoneInfo("Asia/Shanghai")
# (clock-in, clock-out) in Shanghai wall time; the shift is 09:00-18:00 with 10 minutes' grace
SHIFTS = [(datetime(2026, 11, 3, 8, 34), datetime(2026, 11, 3, 18, 5)),  # on time
          (datetime(2026, 11, 4, 9, 20), datetime(2026, 11, 4, 18, 10)),  # late
          (datetime(2026, 11, 5, 8, 50), datetime(2026, 11, 5, 17, 30)),  # left early
          (datetime(2026, 11, 6, 9, 5), datetime(2026, 11, 6, 18, 0))]  # within the grace, on time to the end
_ROW = re.compile(r'<tr><td data-label="Date">[^<]*</td>\s*<td data-label="Clock in">([^<]*)</td>\s*'
                  r'<td data-label="Clock out">([^<]*)</td>\s*<td data-label="Remarks">(.*?)</td></tr>', re.S)


@pytest.fixture
def shanghai(app) -> Iterator[None]:  # noqa: ANN001
    """The company zone is Asia/Shanghai (the tests' default is UTC, where local and stored times look alike)."""
    set_company_timezone("Asia/Shanghai")
    yield
    set_company_timezone(os.environ.get("OAFLOW_TIMEZONE", "UTC"))


def _utc(local: datetime) -> datetime:
    return local.replace(tzinfo=ZONE).astimezone(UTC).replace(tzinfo=None)


def _clock(app) -> None:  # noqa: ANN001
    from oa import attendance
    with app.app_context():
        for start, end in SHIFTS:
            attendance.clock_in(db.session, "alice", now=_utc(start))
            attendance.clock_out(db.session, "alice", now=_utc(end))
        db.session.commit()


def test_page_api_and_totals_agree_on_company_times_and_flags(web: Web, api, app, shanghai) -> None:  # noqa: ANN001
    _clock(app)
    web.login("alice")
    html = web.get("/attendance?month=2026-11").get_data(as_text=True)
    rows = [(t_in, t_out, "Late" in remarks, "Left early" in remarks, "On time" in remarks)
            for t_in, t_out, remarks in _ROW.findall(html)][::-1]  # newest first on the page
    assert rows == [("08:34", "18:05", False, False, True), ("09:20", "18:10", True, False, False),
                    ("08:50", "17:30", False, True, False), ("09:05", "18:00", False, False, True)]
    # every remark cell says something (a phone shows each cell under its label: no empty "Remarks:")

    items = api.get("/api/v1/attendance?from=2026-11-01&to=2026-11-30", "alice").get_json()["items"][::-1]
    seen = [(datetime.fromisoformat(i["clock_in"]).replace(tzinfo=UTC).astimezone(ZONE).strftime("%H:%M"),
             datetime.fromisoformat(i["clock_out"]).replace(tzinfo=UTC).astimezone(ZONE).strftime("%H:%M"),
             i["late"], i["early_leave"]) for i in items]
    assert seen == [row[:4] for row in rows]  # the API's UTC times are the page's times, and its flags the page's
    assert items[0]["clock_in"] == "2026-11-03T00:34:00" and items[0]["work_date"] == "2026-11-03"

    late, early = sum(r[2] for r in rows), sum(r[3] for r in rows)
    assert f'data-count="present"><strong>{len(rows)}<' in html
    assert f'data-count="late"><strong>{late}<' in html and f'data-count="early_leave"><strong>{early}<' in html
    report = api.get("/api/v1/reports/attendance?month=2026-11", "alice").get_json()
    mine = next(u for u in report["users"] if u["user"] == "alice")
    assert (mine["present"], mine["late"], mine["early_leave"]) == (len(rows), late, early)


def test_totals_counted_before_the_zone_changed_are_not_reused(web: Web, api, app) -> None:  # noqa: ANN001
    """The scheduler summarised November while the company zone was UTC; after OAFLOW_TIMEZONE becomes
    Asia/Shanghai the totals follow the rows' flags in the new zone, not the rows counted in the old one."""
    from oa.attendance import refresh_summary
    _clock(app)
    with app.app_context():
        assert refresh_summary(db.session) > 0  # November is closed (two days past it): summarised in UTC
        db.session.remove()
    set_company_timezone("Asia/Shanghai")
    try:
        web.login("alice")
        html = web.get("/attendance?month=2026-11").get_data(as_text=True)
        rows = [("Late" in remarks, "Left early" in remarks) for _i, _o, remarks in _ROW.findall(html)]
        late, early = sum(r[0] for r in rows), sum(r[1] for r in rows)
        assert (late, early) == (1, 1)
        assert f'data-count="late"><strong>{late}<' in html and f'data-count="early_leave"><strong>{early}<' in html
        report = api.get("/api/v1/reports/attendance?month=2026-11", "alice").get_json()
        mine = next(u for u in report["users"] if u["user"] == "alice")
        assert (mine["late"], mine["early_leave"]) == (late, early)
    finally:
        set_company_timezone(os.environ.get("OAFLOW_TIMEZONE", "UTC"))
