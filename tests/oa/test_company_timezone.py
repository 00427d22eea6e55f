"""The company time zone (OAFLOW_TIMEZONE, default Asia/Shanghai): attendance days and lateness are the company's,
stored times stay UTC, and the pages show times in it."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import pytest

from api.app import create_app
from api.config import Settings
from store.clock import company_timezone, set_company_timezone


@pytest.fixture(autouse=True)
def _restore_zone():  # noqa: ANN202
    """The zone is per process: put back the tests' zone for the tests that follow."""
    yield
    set_company_timezone(os.environ.get("OAFLOW_TIMEZONE", "UTC"))


def _app(database_url: str, tmp_path: Path, zone: str):  # noqa: ANN202
    return create_app(Settings(database_url=database_url, secret_key="test", testing=True, log_json=False,
                               upload_dir=str(tmp_path / "uploads"), timezone=zone))


def test_default_is_shanghai_and_an_unknown_zone_stops_the_start(monkeypatch, database_url: str,
                                                                 tmp_path: Path) -> None:  # noqa: ANN001
    monkeypatch.delenv("OAFLOW_TIMEZONE")
    assert Settings().timezone == "Asia/Shanghai"
    with pytest.raises(ValueError, match="Mars/Olympus"):
        _app(database_url, tmp_path, "Mars/Olympus")


def test_clock_in_late_evening_utc_counts_for_the_next_shanghai_day(database_url: str, tmp_path: Path) -> None:
    from api.extensions import db
    from oa import attendance
    app = _app(database_url, tmp_path, "Asia/Shanghai")
    with app.app_context():
        assert str(company_timezone()) == "Asia/Shanghai"
        row = attendance.clock_in(db.session, "alice", now=datetime(2026, 12, 1, 23, 30))  # 07:30 on the 2nd
        assert row.work_date == date(2026, 12, 2) and row.clock_in == datetime(2026, 12, 1, 23, 30)  # stored UTC
        assert attendance.record_flags(db.session, row)["late"] is False
        attendance.clock_out(db.session, "alice", now=datetime(2026, 12, 2, 10, 0))  # 18:00 Shanghai
        # 09:05 Shanghai is within the 10 minutes' grace, 09:15 is late (01:05 / 01:15 UTC)
        on_time = attendance.clock_in(db.session, "bob", now=datetime(2026, 12, 2, 1, 5))
        assert attendance.record_flags(db.session, on_time)["late"] is False
        attendance.clock_out(db.session, "bob", now=datetime(2026, 12, 2, 10, 0))
        late = attendance.clock_in(db.session, "carol", now=datetime(2026, 12, 2, 1, 15))
        assert late.work_date == date(2026, 12, 2) and attendance.record_flags(db.session, late)["late"] is True
        db.session.rollback()
        db.session.remove()


def test_the_time_zone_setting_changes_every_displayed_time(api, database_url: str,  # noqa: ANN001
                                                            tmp_path: Path) -> None:
    from api.extensions import db
    from engine.models import HistoryEvent
    resp = api.start_leave("alice")
    assert resp.status_code == 201, resp.get_json()
    instance_id = resp.get_json()["id"]
    with api.app.app_context():
        for event in db.session.query(HistoryEvent).filter_by(instance_id=instance_id):
            event.at = datetime(2026, 12, 2, 6, 30)  # 06:30 UTC
        db.session.commit()
    shown = {}
    zh = _app(database_url, tmp_path, "Asia/Shanghai").test_client()
    html = zh.get("/login").get_data(as_text=True)
    token = html.split('name="csrf_token" value="')[1].split('"')[0]
    zh.post("/login", data={"username": "alice", "password": "demo", "csrf_token": token})
    zh.get("/lang/zh_CN")
    assert "2026年12月2日 14:30" in zh.get(f"/instances/{instance_id}").get_data(as_text=True)
    for zone in ("UTC", "Asia/Shanghai", "America/New_York"):
        client = _app(database_url, tmp_path, zone).test_client()
        html = client.get("/login").get_data(as_text=True)
        token = html.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data={"username": "alice", "password": "demo", "csrf_token": token})
        page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
        assert 'datetime="2026-12-02T06:30:00Z"' in page  # the machine-readable value stays UTC
        shown[zone] = page
    assert "Dec 2, 2026, 6:30 AM" in shown["UTC"] and "Dec 2, 2026, 2:30 PM" in shown["Asia/Shanghai"]
    assert "Dec 2, 2026, 1:30 AM" in shown["America/New_York"]


def test_company_days_begin_at_local_midnight(database_url: str, tmp_path: Path) -> None:
    from store.clock import company_date, day_range_utc
    _app(database_url, tmp_path, "Asia/Shanghai")
    assert day_range_utc(date(2026, 12, 2), date(2026, 12, 2)) == (datetime(2026, 12, 1, 16), datetime(2026, 12, 2, 16))
    assert company_date(datetime(2026, 12, 1, 16, 0)) == date(2026, 12, 2)
    assert company_date(datetime(2026, 12, 1, 15, 59)) == date(2026, 12, 1)
