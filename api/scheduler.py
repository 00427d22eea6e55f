"""APScheduler job that fires due timers through the database (safe with several schedulers)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from api.extensions import db

log = logging.getLogger("oaflow.scheduler")


def fire_timers_once(app: Flask) -> int:
    """Fire every due timer now; returns how many instances advanced."""
    with app.app_context():
        try:
            return app.extensions["oaflow_engine"].fire_due_timers(db.session)
        except Exception:  # the next poll retries; a poll must never kill the scheduler
            log.exception("timer poll failed")
            db.session.rollback()
            return 0
        finally:
            db.session.remove()


def deliver_webhooks_once(app: Flask) -> int:
    """Send due webhook deliveries."""
    from engine.webhooks import deliver_pending
    with app.app_context():
        try:
            return deliver_pending(db.session)
        except Exception:  # retried on the next poll
            log.exception("webhook delivery failed")
            db.session.rollback()
            return 0
        finally:
            db.session.remove()


def run_reminders_once(app: Flask) -> int:
    """Calendar reminders, follow-up reminders and the public-pool sweep."""
    from crm.follow_ups import fire_due_follow_up_reminders
    from crm.pool import release_stale_customers
    from oa.calendar import fire_due_reminders
    from store.base import utcnow
    done = 0
    with app.app_context():
        for job in (fire_due_reminders, fire_due_follow_up_reminders, release_stale_customers):
            try:
                done += job(db.session, utcnow()) or 0
                db.session.commit()
            except Exception:  # one failing job must not stop the others
                log.exception("scheduled job %s failed", job.__name__)
                db.session.rollback()
        db.session.remove()
    return done


def start_scheduler(app: Flask, interval: float | None = None) -> BackgroundScheduler:
    """Start polling for due timers every `interval` seconds (OAFLOW_TIMER_POLL by default)."""
    seconds = interval or app.config["OAFLOW_SETTINGS"].timer_poll_seconds
    sched = BackgroundScheduler(daemon=True)
    sched.add_job(fire_timers_once, "interval", seconds=seconds, args=[app], id="oaflow-timers",
                  max_instances=1, coalesce=True)
    sched.add_job(deliver_webhooks_once, "interval", seconds=seconds, args=[app], id="oaflow-webhooks",
                  max_instances=1, coalesce=True)
    sched.add_job(run_reminders_once, "interval", seconds=max(seconds, 30), args=[app], id="oaflow-reminders",
                  max_instances=1, coalesce=True)
    sched.start()
    log.info("timer scheduler polling every %ss", seconds)
    return sched
