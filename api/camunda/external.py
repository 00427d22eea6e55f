"""/engine-rest/external-task: fetchAndLock (with long polling), complete, failure, bpmnError, extendLock,
unlock and retries, as Camunda 7's REST reference documents them."""

from __future__ import annotations

import os
import threading
import time

from flask import Response

from api.auth import current_actor
from api.camunda.common import body, camunda_blueprint, integer, text
from api.camunda.shapes import camunda_date
from api.camunda.variables import variables_in, variables_out
from api.errors import ApiError
from api.extensions import db
from api.state import get_engine
from engine.commands import external
from engine.models import ExternalTask

bp = camunda_blueprint("camunda_external")
URL_PREFIX = "/engine-rest"
MAX_TASKS = 100
MAX_TOPICS = 50
MAX_LOCK_MS = 7 * 24 * 3600 * 1000
MAX_POLL_MS = 30_000
POLL_INTERVAL = 0.2
# long polls that may wait at once in one worker process: each holds a request thread while it waits, so
# without a cap a few integrators' polls would take every thread and the worker would stop answering
# (/healthz included). A poll beyond the cap answers at once (an empty list when nothing is there), and
# Camunda's clients simply poll again after their own back-off.
MAX_WAITING_POLLS = max(1, int(os.environ.get("OAFLOW_MAX_LONG_POLLS", "2")))
_WAITING = threading.BoundedSemaphore(MAX_WAITING_POLLS)


def _topics(data: dict) -> list[external.TopicRequest]:
    raw = data.get("topics")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_TOPICS:
        raise ApiError(400, "InvalidRequestException", f"topics must be a list of 1 to {MAX_TOPICS} topics")
    topics = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ApiError(400, "InvalidRequestException", f"topics[{i}] must be an object")
        names = item.get("variables")
        if names is not None and (not isinstance(names, list) or len(names) > 200
                                  or not all(isinstance(n, str) and len(n) <= 255 for n in names)):
            raise ApiError(400, "InvalidRequestException", f"topics[{i}].variables must be a list of names")
        topics.append(external.TopicRequest(text(item, "topicName", required=True),
                                            integer(item, "lockDuration", None, 1, MAX_LOCK_MS),
                                            tuple(names) if names is not None else None))
    return topics


def _locked(row: ExternalTask, topic: external.TopicRequest) -> dict:
    values = row.variables or {}
    if topic.variables is not None:
        values = {k: v for k, v in values.items() if k in topic.variables}
    return {"activityId": row.element_id, "activityInstanceId": row.id, "errorMessage": row.error_message,
            "errorDetails": row.error_details, "executionId": str(row.instance_id), "id": row.id,
            "lockExpirationTime": camunda_date(row.lock_expires_at), "processDefinitionId": None,
            "processDefinitionKey": row.process_key, "processInstanceId": str(row.instance_id),
            "retries": row.retries, "suspended": False, "workerId": row.worker_id, "topicName": row.topic,
            "tenantId": None, "variables": variables_out(values), "priority": row.priority,
            "businessKey": None}


@bp.post("/external-task/fetchAndLock")
def fetch_and_lock() -> list:
    """Lock up to maxTasks tasks of the topics; with asyncResponseTimeout, wait up to that long for one."""
    data = body()
    worker = text(data, "workerId", required=True)
    max_tasks = integer(data, "maxTasks", 1, 0, MAX_TASKS)
    topics = _topics(data)
    wait_ms = integer(data, "asyncResponseTimeout", 0, 0, MAX_POLL_MS)
    use_priority = data.get("usePriority") is True
    by_name = {t.name: t for t in topics}
    rows = _fetch(worker, max_tasks, topics, use_priority)
    if rows or not wait_ms or not _WAITING.acquire(blocking=False):
        return [_locked(r, by_name[r.topic]) for r in rows]
    try:
        deadline = time.monotonic() + wait_ms / 1000
        while not rows and time.monotonic() < deadline:
            db.session.rollback()  # end the read before waiting, so the next poll sees new tasks
            time.sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))
            rows = _fetch(worker, max_tasks, topics, use_priority)
    finally:
        _WAITING.release()
    return [_locked(r, by_name[r.topic]) for r in rows]


def _fetch(worker: str, max_tasks: int, topics: list[external.TopicRequest], use_priority: bool) -> list:
    if not max_tasks:
        return []
    return external.fetch_and_lock(db.session, current_actor(), worker, max_tasks, topics, use_priority)


@bp.post("/external-task/<task_id>/complete")
def complete(task_id: str) -> Response:
    """The worker finished the task with (typed) variables."""
    data = body()
    get_engine().complete_external(db.session, current_actor(), task_id[:36], text(data, "workerId", required=True),
                                   variables_in(data.get("variables")))
    return Response(status=204)


@bp.post("/external-task/<task_id>/failure")
def failure(task_id: str) -> Response:
    """The worker failed: retries left, and when to try again; zero retries makes an incident."""
    data = body()
    external.failure(db.session, current_actor(), task_id[:36], text(data, "workerId", required=True),
                     text(data, "errorMessage", cap=10_000), text(data, "errorDetails", cap=100_000),
                     integer(data, "retries", 0, 0, 1000), integer(data, "retryTimeout", 0, 0, MAX_LOCK_MS))
    return Response(status=204)


@bp.post("/external-task/<task_id>/bpmnError")
def bpmn_error(task_id: str) -> Response:
    """The worker threw a BPMN error; a boundary error event on the task catches it."""
    data = body()
    get_engine().external_bpmn_error(db.session, current_actor(), task_id[:36],
                                     text(data, "workerId", required=True), text(data, "errorCode", required=True),
                                     text(data, "errorMessage", cap=10_000), variables_in(data.get("variables")))
    return Response(status=204)


@bp.post("/external-task/<task_id>/extendLock")
def extend_lock(task_id: str) -> Response:
    """The worker needs longer: lock for newDuration ms from now."""
    data = body()
    external.extend_lock(db.session, current_actor(), task_id[:36], text(data, "workerId", required=True),
                         integer(data, "newDuration", None, 1, MAX_LOCK_MS))
    return Response(status=204)


@bp.post("/external-task/<task_id>/unlock")
def unlock(task_id: str) -> Response:
    """Release the lock."""
    external.unlock(db.session, current_actor(), task_id[:36])
    return Response(status=204)


@bp.put("/external-task/<task_id>/retries")
def set_retries(task_id: str) -> Response:
    """Set the retries (an admin re-arming a task whose retries ran out)."""
    external.set_retries(db.session, current_actor(), task_id[:36], integer(body(), "retries", None, 0, 1000))
    return Response(status=204)


@bp.get("/external-task")
def list_tasks() -> list:
    """External tasks (integrators and admins), by topicName; noRetriesLeft=true lists the incidents."""
    from flask import request
    from sqlalchemy import select
    external.check_worker(current_actor())
    query = select(ExternalTask).order_by(ExternalTask.created_at, ExternalTask.id).limit(1000)
    topic = request.args.get("topicName")
    if topic is not None:
        query = query.where(ExternalTask.topic == topic[:255])
    if request.args.get("noRetriesLeft") == "true":
        query = query.where(ExternalTask.retries == 0)
    return [_locked(r, external.TopicRequest(r.topic, 1, ())) for r in db.session.scalars(query)]
