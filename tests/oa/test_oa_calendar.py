"""Calendar: events with attendees, free/busy without details, reminders claimed once, the operation."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import func, select

from api.extensions import db
from oa.calendar import add_calendar_event, fire_due_reminders
from oa.record_models import EventReminder, Notification
from tests.conftest import run_in_threads
from tests.oa.conftest import problem_fields, run_service

EVENTS = "/api/v1/calendar/events"


def test_create_list_and_read_events(api) -> None:  # noqa: ANN001
    body = {"title": "Pipeline review", "start": "2026-12-03T10:00:00", "end": "2026-12-03T11:00:00",
            "attendees": ["alice", "carol"], "reminders": [15], "location": "Room 1"}
    resp = api.post(EVENTS, "bob", json=body)
    assert resp.status_code == 201, resp.get_json()
    event = resp.get_json()
    assert event["owner"] == "bob" and event["attendees"] == ["alice", "carol"] and event["reminders"] == [15]
    invites = api.get("/api/v1/notifications", "alice").get_json()["items"]
    assert [n["kind"] for n in invites] == ["invitation"]
    assert api.get(EVENTS, "alice").get_json()["total"] == 1  # attending
    assert api.get(EVENTS, "dave").get_json()["total"] == 0
    assert api.get(f"{EVENTS}/{event['id']}", "carol").status_code == 200
    assert api.get(f"{EVENTS}/{event['id']}", "dave").status_code == 404
    assert api.get(f"{EVENTS}/{event['id']}", "admin").status_code == 200
    in_range = api.get(EVENTS, "bob", query_string={"from": "2026-12-03T10:30:00", "to": "2026-12-04T00:00:00"})
    assert in_range.get_json()["total"] == 1
    out_of_range = api.get(EVENTS, "bob", query_string={"from": "2026-12-04T00:00:00"})
    assert out_of_range.get_json()["total"] == 0
    # only the organiser deletes
    assert api.client.delete(f"{EVENTS}/{event['id']}", headers=api.headers("alice")).status_code == 403
    assert api.client.delete(f"{EVENTS}/{event['id']}", headers=api.headers("dave")).status_code == 404
    assert api.client.delete(f"{EVENTS}/{event['id']}", headers=api.headers("bob")).status_code == 204
    assert api.get(f"{EVENTS}/{event['id']}", "bob").status_code == 404


def test_event_bad_input(api) -> None:  # noqa: ANN001
    good = {"title": "T", "start": "2026-12-03T10:00:00", "end": "2026-12-03T11:00:00"}
    for change, field in (({"title": ""}, "title"), ({"start": "soon"}, "start"),
                          ({"end": "2026-12-03T09:00:00"}, "end"), ({"attendees": ["ghost"]}, "attendees"),
                          ({"reminders": [-5]}, "reminders"), ({"colour": "red"}, "colour"),
                          ({"kind": "party"}, "kind")):
        resp = api.post(EVENTS, "bob", json={**good, **change})
        assert resp.status_code == 422, change
        assert {f.split("/")[0] for f in problem_fields(resp)} == {field}, (change, resp.get_json())
    assert api.post(EVENTS, None, json=good).status_code == 401
    resp = api.get(EVENTS, "bob", query_string={"from": "tomorrow"})
    assert resp.status_code == 422 and problem_fields(resp) == {"from"}


def test_free_busy_shows_intervals_only(api, dbs) -> None:  # noqa: ANN001
    api.post(EVENTS, "alice", json={"title": "Secret interview", "start": "2026-12-03T09:00:00",
                                    "end": "2026-12-03T10:00:00"})
    api.post(EVENTS, "bob", json={"title": "1:1", "start": "2026-12-03T09:30:00", "end": "2026-12-03T11:00:00",
                                  "attendees": ["alice"]})
    resp = run_service(api, "oa.add_calendar_event", {"user": "'alice'", "title": "'Annual leave'",
                                                      "start": "'2026-12-07'", "end": "'2026-12-08'",
                                                      "kind": "'leave'"})
    assert resp.status_code == 201 and resp.get_json()["status"] == "completed", resp.get_json()
    resp = api.get("/api/v1/calendar/free-busy", "carol",
                   query_string={"user": "alice", "from": "2026-12-01T00:00:00", "to": "2026-12-10T00:00:00"})
    assert resp.status_code == 200
    assert resp.get_json()["busy"] == [
        {"start": "2026-12-03T09:00:00", "end": "2026-12-03T11:00:00"},
        {"start": "2026-12-07T00:00:00", "end": "2026-12-09T00:00:00"}]
    assert "Secret" not in resp.get_data(as_text=True)
    leave = api.get(EVENTS, "alice", query_string={"from": "2026-12-07T00:00:00"}).get_json()["items"]
    assert leave[0]["kind"] == "leave" and leave[0]["source_instance_id"] is not None
    for query, field in (({"from": "2026-12-01T00:00:00", "to": "2026-12-10T00:00:00"}, "user"),
                         ({"user": "alice", "from": "x", "to": "2026-12-10T00:00:00"}, "from"),
                         ({"user": "alice", "from": "2026-12-10T00:00:00", "to": "2026-12-01T00:00:00"}, "to"),
                         ({"user": "alice", "from": "2026-01-01T00:00:00", "to": "2026-12-01T00:00:00"}, "to")):
        resp = api.get("/api/v1/calendar/free-busy", "carol", query_string=query)
        assert resp.status_code == 422 and problem_fields(resp) == {field}, query
    resp = api.get("/api/v1/calendar/free-busy", "carol",
                   query_string={"user": "ghost", "from": "2026-12-01T00:00:00", "to": "2026-12-02T00:00:00"})
    assert resp.status_code == 404


def test_reminders_fire_once_even_with_two_schedulers(app, dbs) -> None:  # noqa: ANN001
    start = datetime(2026, 12, 3, 10, 0)
    with dbs() as s:
        add_calendar_event(s, "bob", "Review", start, start + timedelta(hours=1), attendees=["alice", "carol"],
                           reminders=[15, 60])
    with dbs() as s:
        assert fire_due_reminders(s, start - timedelta(minutes=61)) == 0
    results: list[int] = []
    barrier = threading.Barrier(2)

    def scheduler() -> None:
        with app.app_context():
            barrier.wait()
            try:
                results.append(fire_due_reminders(db.session, start - timedelta(minutes=30)))
            finally:
                db.session.remove()

    run_in_threads(2, lambda _i: scheduler())
    assert sum(results) == 3  # the 60-minute reminder for bob, alice and carol, each once
    with dbs() as s:
        assert fire_due_reminders(s, start - timedelta(minutes=30)) == 0
        assert fire_due_reminders(s, start - timedelta(minutes=10)) == 3
        counts = dict(s.execute(select(Notification.user, func.count()).where(Notification.kind == "reminder")
                                .group_by(Notification.user)).all())
        assert counts == {"alice": 2, "bob": 2, "carol": 2}
        assert s.scalar(select(func.count()).select_from(EventReminder).where(EventReminder.sent_at.is_(None))) == 0
