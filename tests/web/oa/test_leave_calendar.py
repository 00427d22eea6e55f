"""Approved leave in the calendar, in the company zone (Asia/Shanghai here): a 2-day leave makes exactly two
all-day entries on those days, titled with the leave type in the reader's language (年假 / Annual leave), not
"08:00-…" / "…-07:59" spilling into a third day (new-user finding 3). A flow's visit at 09:00 is 09:00 there."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

import pytest

from store.clock import set_company_timezone
from tests.web.conftest import Web


@pytest.fixture
def shanghai(app) -> Iterator[None]:  # noqa: ANN001
    """The company zone is the default Asia/Shanghai (the tests' UTC would hide times read as UTC)."""
    set_company_timezone("Asia/Shanghai")
    yield
    set_company_timezone(os.environ.get("OAFLOW_TIMEZONE", "UTC"))


def _days(html: str) -> dict[str, str]:
    return {s.split('data-date="')[1][:10]: s.split("</section>")[0] for s in html.split('<section class="day')[1:]}


def _approve(api, user: str, instance_id: int) -> None:  # noqa: ANN001
    task = next(t for t in api.tasks(user) if t["instance_id"] == instance_id)
    resp = api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"variables": {"approved": True}})
    assert resp.status_code == 200, resp.get_json()


def test_approved_leave_is_two_all_day_entries_titled_in_the_readers_language(web: Web, api, shanghai) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", start_date="2026-12-21", end_date="2026-12-22")
    assert inst.status_code == 201, inst.get_json()
    _approve(api, "bob", inst.get_json()["id"])

    events = api.get("/api/v1/calendar/events?from=2026-12-14T00:00:00&to=2026-12-31T00:00:00",
                     "alice").get_json()["items"]
    assert [(e["kind"], e["title"], e["start"], e["end"]) for e in events] == [
        ("leave", "Annual leave", "2026-12-20T16:00:00", "2026-12-21T16:00:00"),  # Shanghai's Dec 21, in UTC
        ("leave", "Annual leave", "2026-12-21T16:00:00", "2026-12-22T16:00:00")]

    web.login("alice")
    days = _days(web.get("/calendar?week=2026-12-21").get_data(as_text=True))
    for day in ("2026-12-21", "2026-12-22"):
        assert days[day].count("Annual leave") == 1 and "All day" in days[day], days[day]
    assert all("Annual leave" not in days[d] for d in days if d not in ("2026-12-21", "2026-12-22"))
    assert "Leave (annual)" not in "".join(days.values()) and "08:00" not in days["2026-12-21"]

    web.get("/lang/zh_CN")
    zh = _days(web.get("/calendar?week=2026-12-21").get_data(as_text=True))
    for day in ("2026-12-21", "2026-12-22"):
        assert zh[day].count("年假") == 1 and "全天" in zh[day], zh[day]
    assert "年假" not in zh["2026-12-23"] and "Annual leave" not in "".join(zh.values())


def test_a_flows_wall_clock_times_are_the_companys(api, shanghai) -> None:  # noqa: ANN001
    customer = api.post("/api/v1/customers", "alice", json={"name": "Visit Co", "industry": "retail",
                                                            "region": "east", "level": "B", "source": "web",
                                                            "phone": "021-5555-0199"}).get_json()
    inst = api.post("/api/v1/process-definitions/customer_visit/start", "alice", json={"variables": {
        "customer_id": customer["id"], "visit_date": "2026-11-20", "purpose": "quarterly review"}})
    assert inst.status_code == 201, inst.get_json()
    _approve(api, "bob", inst.get_json()["id"])
    events = api.get("/api/v1/calendar/events?from=2026-11-19T00:00:00&to=2026-11-21T00:00:00",
                     "alice").get_json()["items"]
    assert [(e["kind"], e["start"], e["end"]) for e in events] == [
        ("visit", "2026-11-20T01:00:00", "2026-11-20T10:00:00")]  # 09:00-18:00 in Shanghai
    assert datetime.fromisoformat(events[0]["start"]).hour == 1
