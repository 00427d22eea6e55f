"""The demo OA records: believable, visible through the API, and safe to seed twice."""

from __future__ import annotations

from sqlalchemy import func, select

from oa.demo_records import seed
from oa.record_models import Announcement, AttendanceRecord, CalendarEvent, ForumThread, LeaveRecord


def test_seed_twice_and_read_back(api, dbs) -> None:  # noqa: ANN001
    counts = []
    for _ in range(2):
        with dbs() as s:
            seed(s, progress=lambda _m: None)
        with dbs() as s:
            counts.append([s.scalar(select(func.count()).select_from(m)) for m in
                           (AttendanceRecord, LeaveRecord, Announcement, ForumThread, CalendarEvent)])
    assert counts[0] == counts[1] and all(counts[0])
    with dbs() as s:
        assert set(s.scalars(select(LeaveRecord.user))) == {"erin"}
    assert api.get("/api/v1/announcements", "alice").get_json()["total"] == 2
    assert api.get("/api/v1/announcements", "carol").get_json()["total"] == 1
    assert api.get("/api/v1/attendance", "bob", query_string={"user": "alice"}).get_json()["total"] >= 18
    assert api.get("/api/v1/forum/boards", "frank").get_json()["items"][0]["name"] == "General"
