"""/engine-rest/external-task: fetchAndLock (with long polling), complete, failure, bpmnError, extendLock,
unlock and retries, as Camunda 7's REST reference documents them."""

from __future__ import annotations

import os
import threading
import time

from flask import Response
from sqlalchemy import select

from api.auth import current_actor
from api.camunda import query as args
from api.camunda import shapes
from api.camunda.common import body, camunda_blueprint, integer, refuse_unstorable, text
from api.camunda.shapes import camunda_date
from api.camunda.variables import remember_types, types_of, variables_in, variables_out
from api.errors import ApiError
from api.extensions import db
from api.sqlite_write_gate import stepped_aside
from api.state import get_engine
from engine.commands import external
from engine.models import ExternalTask, ProcessDefinition, ProcessInstance

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


class PollSlots:
    """The long-poll slots of one worker process: at most `total` wait at once, and one account at most half of
    them (at least one), so one integrator's workers cannot keep every other integrator's polls short."""

    def __init__(self, total: int) -> None:
        self.total, self.share = total, max(1, total // 2)
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}

    def take(self, who: str) -> bool:
        """Take a slot for `who`; False when all are taken or `who` holds their share."""
        with self._lock:
            if sum(self._held.values()) >= self.total or self._held.get(who, 0) >= self.share:
                return False
            self._held[who] = self._held.get(who, 0) + 1
            return True

    def give_back(self, who: str) -> None:
        """Return a slot `who` took."""
        with self._lock:
            left = self._held.get(who, 0) - 1
            if left > 0:
                self._held[who] = left
            else:
                self._held.pop(who, None)


_WAITING = PollSlots(MAX_WAITING_POLLS)


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


def _instance_of(task_id: str) -> int | None:
    row = db.session.get(ExternalTask, task_id[:36])
    return row.instance_id if row is not None else None


def _locked_all(rows: list[ExternalTask], topics: dict[str, external.TopicRequest] | None = None) -> list[dict]:
    """The tasks as Camunda's LockedExternalTaskDto, with their instances' business keys and definition ids
    (one query for all)."""
    ids = sorted({r.instance_id for r in rows})
    about = {pid: (key, shapes.definition_id(d)) for pid, key, d in db.session.execute(
        select(ProcessInstance.id, ProcessInstance.business_key, ProcessDefinition)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.id.in_(ids))).all()} if ids else {}
    out = []
    for row in rows:
        names = topics[row.topic].variables if topics is not None else None
        values = row.variables or {}
        if names is not None:
            values = {k: v for k, v in values.items() if k in names}
        business_key, definition_id = about.get(row.instance_id, (None, None))
        out.append({"activityId": row.element_id, "activityInstanceId": row.id, "errorMessage": row.error_message,
                    "errorDetails": row.error_details, "executionId": str(row.instance_id), "id": row.id,
                    "lockExpirationTime": camunda_date(row.lock_expires_at), "processDefinitionId": definition_id,
                    "processDefinitionKey": row.process_key, "processInstanceId": str(row.instance_id),
                    "retries": row.retries, "suspended": False, "workerId": row.worker_id, "topicName": row.topic,
                    "tenantId": None, "variables": variables_out(values, types_of(row.instance_id)),
                    "priority": row.priority, "businessKey": business_key})
    return out


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
    who = current_actor().username
    if rows or not wait_ms or not _WAITING.take(who):
        return _locked_all(rows, by_name)
    try:
        deadline = time.monotonic() + wait_ms / 1000
        while not rows and time.monotonic() < deadline:
            db.session.rollback()  # end the read before waiting, so the next poll sees new tasks
            with stepped_aside():  # SQLite: other writers (the one creating the task, say) go on meanwhile
                time.sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))
            rows = _fetch(worker, max_tasks, topics, use_priority)
    finally:
        _WAITING.give_back(who)
    return _locked_all(rows, by_name)


def _fetch(worker: str, max_tasks: int, topics: list[external.TopicRequest], use_priority: bool) -> list:
    if not max_tasks:
        return []
    return external.fetch_and_lock(db.session, current_actor(), worker, max_tasks, topics, use_priority)


@bp.post("/external-task/<task_id>/complete")
def complete(task_id: str) -> Response:
    """The worker finished the task with (typed) variables."""
    data = body()
    instance_id = _instance_of(task_id)
    get_engine().complete_external(db.session, current_actor(), task_id[:36], text(data, "workerId", required=True),
                                   variables_in(data.get("variables")))
    remember_types(instance_id, data.get("variables"))
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
    instance_id = _instance_of(task_id)
    get_engine().external_bpmn_error(db.session, current_actor(), task_id[:36],
                                     text(data, "workerId", required=True), text(data, "errorCode", required=True),
                                     text(data, "errorMessage", cap=10_000), variables_in(data.get("variables")))
    remember_types(instance_id, data.get("variables"))
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
    external.check_worker(current_actor())
    args.only({"topicName", "noRetriesLeft"})
    query = select(ExternalTask).order_by(ExternalTask.created_at, ExternalTask.id).limit(1000)
    topic = request.args.get("topicName")
    if topic is not None:
        refuse_unstorable(topic, "topicName")
        query = query.where(ExternalTask.topic == topic[:255])
    if args.boolean("noRetriesLeft"):
        query = query.where(ExternalTask.retries == 0)
    return [_without_variables(t) for t in _locked_all(list(db.session.scalars(query)))]


def _without_variables(task: dict) -> dict:
    task.pop("variables", None)
    return task


@bp.get("/external-task/<task_id>")
def get_task(task_id: str) -> dict:
    """One external task (integrators and admins), as Camunda's ExternalTaskDto."""
    external.check_worker(current_actor())
    row = db.session.get(ExternalTask, task_id[:36])
    if row is None:
        raise ApiError(404, "InvalidRequestException", f"External task with id {task_id[:50]} does not exist")
    return _without_variables(_locked_all([row])[0])
