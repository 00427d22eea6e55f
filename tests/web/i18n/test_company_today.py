""""Today" and calendar days are the company's (store.clock), not UTC's: the follow-up reminder list, the
calendar week (times, day headings, all-day ends), the attendance note and a confirmed order's instalments.

The zone is chosen so that the company's date differs from UTC's date right now (UTC+14 in the UTC afternoon,
UTC-11 in the UTC morning), so every test fails if a page uses the UTC date."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.extensions import db
from store.clock import company_date, set_company_timezone
from tests.web.conftest import Web


def _other_day_zone() -> str:
    return "Pacific/Kiritimati" if datetime.now(UTC).hour >= 10 else "Pacific/Pago_Pago"


@pytest.fixture
def zone(app) -> Iterator[str]:  # noqa: ANN001
    """A company zone whose today is not UTC's today (the pages format times in it too)."""
    name = _other_day_zone()
    set_company_timezone(name)
    yield name
    set_company_timezone(os.environ.get("OAFLOW_TIMEZONE", "UTC"))


def _html(resp) -> str:  # noqa: ANN001
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def test_due_follow_ups_use_the_company_today(web: Web, crm: dict, api, zone: str) -> None:  # noqa: ANN001
    today = company_date()
    assert today != datetime.now(UTC).date()
    resp = api.post("/api/v1/follow-ups", "alice", json={"customer_id": crm["mine"]["id"], "type": "call",
                                                          "content": "Call back", "next_follow_up_date":
                                                          today.isoformat()})
    assert resp.status_code == 201, resp.get_json()
    web.login("alice")
    html = _html(web.get("/follow-ups/due"))
    assert "Acme Robotics" in html  # due today: listed, and as today, not overdue
    assert "Overdue" not in html and ">Today<" in html
    assert today.isoformat() not in html  # the date is formatted for the reader, not ISO


def test_calendar_shows_company_times_days_and_zone(web: Web, api, zone: str) -> None:  # noqa: ANN001
    from oa.calendar import add_calendar_event
    monday = date(2026, 12, 7)
    with api.app.app_context():
        # a leave Monday..Friday (whole days) and a meeting at 09:30 company time on Wednesday
        add_calendar_event(db.session, "alice", "Leave", monday, monday + timedelta(days=4), kind="leave")
        local = datetime(2026, 12, 9, 9, 30, tzinfo=ZoneInfo(zone))
        add_calendar_event(db.session, "alice", "Standup", local, local + timedelta(minutes=30))
        db.session.commit()
    web.login("alice")
    html = _html(web.get("/calendar?week=2026-12-07"))
    assert "Times in UTC" not in html and f"Times in {zone}." in html
    sections = html.split('<section class="day')[1:]
    by_day = {s.split('data-date="')[1][:10]: s for s in sections}
    assert all("Leave" in by_day[(monday + timedelta(days=i)).isoformat()] for i in range(5))
    assert "Leave" not in by_day["2026-12-12"] and "Leave" not in by_day["2026-12-13"]  # ends Friday
    assert "09:30–10:00" in by_day["2026-12-09"]
    assert "23:59" not in html
    assert "Mon 7 Dec" in html
    web.get("/lang/zh_CN")
    zh = _html(web.get("/calendar?week=2026-12-07"))
    assert "12月7日 周一" in zh and "周一 7 12月" not in zh


def test_attendance_names_the_zone(web: Web, zone: str) -> None:
    web.login("alice")
    html = _html(web.get("/attendance"))
    assert f"Times in {zone}." in html and "Times in company" not in html


def test_confirmed_order_instalments_count_from_the_company_day(api, app) -> None:  # noqa: ANN001
    from crm import orders
    from crm.models import Contract, ReceivablePlan, SalesOrder
    from tests.crm.conftest import Crm
    from tests.crm.sales_helpers import order, product
    c = Crm(api).customer("alice")
    p = product(api, "TZ-1", 1000)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}], payment_terms="30_70")
    set_company_timezone("Asia/Shanghai")
    try:
        with app.app_context():
            db.session.get(SalesOrder, o["id"]).status = "pending"
            db.session.flush()
            # 20:45 UTC on Dec 2 is 04:45 on Dec 3 in Shanghai: the 30% is due on Dec 3, not overdue already
            confirmed = orders.confirm(db.session, o["id"], "carol", now=datetime(2026, 12, 2, 20, 45))
            db.session.commit()
            plans = db.session.query(ReceivablePlan).filter_by(contract_id=confirmed.contract_id).order_by(
                ReceivablePlan.due_date).all()
            assert [p.due_date for p in plans] == [date(2026, 12, 3), date(2027, 2, 1)]
            assert db.session.get(Contract, confirmed.contract_id).signed_date == date(2026, 12, 3)
    finally:
        set_company_timezone(os.environ.get("OAFLOW_TIMEZONE", "UTC"))
