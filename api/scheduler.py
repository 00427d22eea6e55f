"""APScheduler jobs that work through the database, safe with several schedulers: timers, webhook
deliveries, calendar and follow-up reminders, and the public-pool sweep."""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy.orm import Session

from api.extensions import db
from store.base import utcnow

log = logging.getLogger("oaflow.scheduler")


def _run(app: Flask, name: str, job: Callable[[Session], int | None]) -> int:
    """Run one job in its own app context; a failure is logged and retried on the next poll."""
    with app.app_context():
        try:
            done = job(db.session) or 0
            db.session.commit()
            return done
        except Exception:  # a poll must never kill the scheduler
            log.exception("scheduled job %s failed", name)
            db.session.rollback()
            return 0
        finally:
            db.session.remove()


def fire_timers_once(app: Flask) -> int:
    """Fire every due timer now; returns how many instances advanced."""
    return _run(app, "timers", app.extensions["oaflow_engine"].fire_due_timers)


def deliver_webhooks_once(app: Flask) -> int:
    """Send due webhook deliveries."""
    from engine.webhooks import deliver_pending
    return _run(app, "webhooks", deliver_pending)


def run_reminders_once(app: Flask) -> int:
    """Calendar reminders, follow-up reminders and the public-pool sweep (each on its own)."""
    from crm.follow_ups import fire_due_follow_up_reminders
    from crm.pool import release_stale_customers
    from oa.calendar import fire_due_reminders
    return sum(_run(app, job.__name__, lambda session, job=job: job(session, utcnow()))
               for job in (fire_due_reminders, fire_due_follow_up_reminders, release_stale_customers))


def start_scheduler(app: Flask, interval: float | None = None) -> BackgroundScheduler:
    """Start polling every `interval` seconds (OAFLOW_TIMER_POLL by default; reminders at most every 30 s)."""
    seconds = interval or app.config["OAFLOW_SETTINGS"].timer_poll_seconds
    sched = BackgroundScheduler(daemon=True)
    for job_id, func, every in (("oaflow-timers", fire_timers_once, seconds),
                                ("oaflow-webhooks", deliver_webhooks_once, seconds),
                                ("oaflow-reminders", run_reminders_once, max(seconds, 30))):
        sched.add_job(func, "interval", seconds=every, args=[app], id=job_id, max_instances=1, coalesce=True)
    sched.start()
    log.info("scheduler polling every %ss", seconds)
    return sched
