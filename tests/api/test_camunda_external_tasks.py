"""External tasks (camunda:type="external"): fetchAndLock, complete, failure and incidents, bpmnError,
extendLock, unlock, lock expiry, and two workers never locking the same task. Plain `requests` calls shaped
like those of Camunda's external task clients, against a real `oaflow serve`."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.api.camunda_server import Server, serve
from tests.bpmn_samples import HEADER
from tests.conftest import PG_URL


def external_process(key: str, topic: str) -> bytes:
    """start -> external task on `topic` -> review (alice) -> end; a boundary error `card_declined` on the
    external task leads to `declined` (bob)."""
    return (HEADER.format(key=key) + f"""<bpmn:error id="err_declined" name="Declined" errorCode="card_declined" />
<bpmn:process id="{key}" isExecutable="true">
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:serviceTask id="charge" name="Charge card" camunda:type="external" camunda:topic="{topic}">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:serviceTask>
  <bpmn:boundaryEvent id="declined_event" attachedToRef="charge">
    <bpmn:outgoing>f4</bpmn:outgoing>
    <bpmn:errorEventDefinition errorRef="err_declined" />
  </bpmn:boundaryEvent>
  <bpmn:userTask id="review" name="Review" camunda:assignee="alice">
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:userTask id="declined" name="Declined" camunda:assignee="bob">
    <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="end2"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="charge" />
  <bpmn:sequenceFlow id="f2" sourceRef="charge" targetRef="review" />
  <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end" />
  <bpmn:sequenceFlow id="f4" sourceRef="declined_event" targetRef="declined" />
  <bpmn:sequenceFlow id="f5" sourceRef="declined" targetRef="end2" />
</bpmn:process>
</bpmn:definitions>
""").encode()


@pytest.fixture(scope="module")
def server(db_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module; each test deploys its own process and topic."""
    with serve(db_template, tmp_path_factory.mktemp("external")) as srv:
        yield srv


class Worker:
    """The calls a Camunda external task client makes, as the `erp` integrator (Basic: user + API key)."""

    def __init__(self, server: Server, worker_id: str) -> None:
        self.base, self.auth, self.worker_id = server.base, ("erp", server.erp_key), worker_id

    def post(self, path: str, body: dict) -> requests.Response:
        return requests.post(f"{self.base}/external-task/{path}", json=body, auth=self.auth, timeout=60)

    def fetch(self, topic: str, max_tasks: int = 1, lock_ms: int = 10_000, wait_ms: int = 0,
              variables: list | None = None) -> list[dict]:
        topic_body = {"topicName": topic, "lockDuration": lock_ms}
        if variables is not None:
            topic_body["variables"] = variables
        resp = self.post("fetchAndLock", {"workerId": self.worker_id, "maxTasks": max_tasks, "usePriority": True,
                                          "asyncResponseTimeout": wait_ms, "topics": [topic_body]})
        assert resp.status_code == 200, resp.text
        return resp.json()


def _deploy_and_start(server: Server, key: str, topic: str, count: int = 1) -> list[str]:
    resp = requests.post(f"{server.base}/deployment/create", auth=("grace", "demo"), timeout=30,
                         data={"deployment-name": key},
                         files={"data": (f"{key}.bpmn", external_process(key, topic), "application/octet-stream")})
    assert resp.status_code == 200, resp.text
    ids = []
    for i in range(count):
        started = requests.post(f"{server.base}/process-definition/key/{key}/start", auth=("alice", "demo"),
                                timeout=30, json={"businessKey": f"{key}-{i}", "variables": {
                                    "amount": {"value": 120 + i, "type": "Integer"},
                                    "card": {"value": "4111", "type": "String"}}})
        assert started.status_code == 200, started.text
        ids.append(started.json()["id"])
    return ids


def _tasks(server: Server, user: str, instance_id: str) -> list[str]:
    resp = requests.get(f"{server.base}/task", params={"processInstanceId": instance_id}, auth=(user, "demo"),
                        timeout=30)
    return [t["taskDefinitionKey"] for t in resp.json()]


def test_fetch_lock_and_complete_moves_the_instance_on(server: Server) -> None:
    """The instance waits at the external task until a worker completes it with typed variables."""
    [pid] = _deploy_and_start(server, "ext_complete", "charge-a")
    assert _tasks(server, "alice", pid) == []
    worker, other = Worker(server, "w1"), Worker(server, "w2")
    [task] = worker.fetch("charge-a", variables=["amount"])
    assert task["topicName"] == "charge-a" and task["workerId"] == "w1" and task["activityId"] == "charge"
    assert task["processInstanceId"] == pid and task["lockExpirationTime"] is not None
    assert task["variables"] == {"amount": {"value": 120, "type": "Integer", "valueInfo": {}}}
    assert other.fetch("charge-a") == []  # locked
    wrong = other.post(f"{task['id']}/complete", {"workerId": "w2"})
    assert wrong.status_code == 400 and wrong.json()["type"] == "BadUserRequestException"
    done = worker.post(f"{task['id']}/complete", {"workerId": "w1",
                                                  "variables": {"charged": {"value": True, "type": "Boolean"}}})
    assert done.status_code == 204, done.text
    assert _tasks(server, "alice", pid) == ["review"]
    got = requests.get(f"{server.base}/process-instance/{pid}/variables", auth=("alice", "demo"), timeout=30).json()
    assert got["charged"] == {"value": True, "type": "Boolean", "valueInfo": {}}
    assert worker.post(f"{task['id']}/complete", {"workerId": "w1"}).status_code == 404


def test_only_integrators_and_admins_work_external_tasks(server: Server) -> None:
    """An employee may not fetch, complete or unlock external tasks."""
    [pid] = _deploy_and_start(server, "ext_roles", "charge-r")
    body = {"workerId": "alice", "maxTasks": 1, "topics": [{"topicName": "charge-r", "lockDuration": 1000}]}
    resp = requests.post(f"{server.base}/external-task/fetchAndLock", json=body, auth=("alice", "demo"), timeout=30)
    assert resp.status_code == 403 and resp.json()["type"] == "AuthorizationException"
    [task] = Worker(server, "w1").fetch("charge-r")
    resp = requests.post(f"{server.base}/external-task/{task['id']}/complete", json={"workerId": "w1"},
                         auth=("alice", "demo"), timeout=30)
    assert resp.status_code == 403
    assert _tasks(server, "alice", pid) == []
    for bad in ({"workerId": "w", "topics": []}, {"topics": [{"topicName": "x", "lockDuration": 1}]},
                {"workerId": "w", "maxTasks": 10**6, "topics": [{"topicName": "x", "lockDuration": 1}]},
                {"workerId": "w", "topics": [{"topicName": "x", "lockDuration": -1}]},
                {"workerId": "w", "topics": [{"topicName": "x" * 300, "lockDuration": 1}]}):
        resp = Worker(server, "w").post("fetchAndLock", bad)
        assert resp.status_code == 400 and resp.json()["type"] == "InvalidRequestException", bad


def test_failure_retries_incident_and_admin_retry(server: Server) -> None:
    """A failure with retries left makes the task fetchable after retryTimeout; at zero retries it is an
    incident (listed, never fetched) until an admin sets retries again."""
    [pid] = _deploy_and_start(server, "ext_fail", "charge-f")
    worker = Worker(server, "w1")
    [task] = worker.fetch("charge-f")
    resp = worker.post(f"{task['id']}/failure", {"workerId": "w1", "errorMessage": "gateway down",
                                                 "errorDetails": "trace", "retries": 1, "retryTimeout": 0})
    assert resp.status_code == 204, resp.text
    [again] = worker.fetch("charge-f")
    assert again["id"] == task["id"] and again["retries"] == 1 and again["errorMessage"] == "gateway down"
    assert worker.post(f"{task['id']}/failure", {"workerId": "w1", "errorMessage": "still down",
                                                 "retries": 0}).status_code == 204
    assert worker.fetch("charge-f") == []
    incidents = requests.get(f"{server.base}/external-task", params={"noRetriesLeft": "true", "topicName": "charge-f"},
                             auth=("erp", server.erp_key), timeout=30).json()
    assert [(i["id"], i["errorMessage"]) for i in incidents] == [(task["id"], "still down")]
    denied = requests.put(f"{server.base}/external-task/{task['id']}/retries", json={"retries": 3},
                          auth=("erp", server.erp_key), timeout=30)
    assert denied.status_code == 403
    assert requests.put(f"{server.base}/external-task/{task['id']}/retries", json={"retries": 3},
                        auth=("admin", "demo"), timeout=30).status_code == 204
    [rearmed] = worker.fetch("charge-f")
    assert rearmed["retries"] == 3
    assert worker.post(f"{task['id']}/complete", {"workerId": "w1"}).status_code == 204
    assert _tasks(server, "alice", pid) == ["review"]


def test_bpmn_error_is_caught_by_the_boundary_event(server: Server) -> None:
    """bpmnError with the boundary's errorCode leaves the task by the error path; an unknown code is a 400 and
    changes nothing."""
    [pid] = _deploy_and_start(server, "ext_error", "charge-e")
    worker = Worker(server, "w1")
    [task] = worker.fetch("charge-e")
    unknown = worker.post(f"{task['id']}/bpmnError", {"workerId": "w1", "errorCode": "no_such_code"})
    assert unknown.status_code == 400 and set(unknown.json()) == {"type", "message"}
    resp = worker.post(f"{task['id']}/bpmnError", {"workerId": "w1", "errorCode": "card_declined",
                                                   "errorMessage": "declined by the bank"})
    assert resp.status_code == 204, resp.text
    assert _tasks(server, "bob", pid) == ["declined"]
    assert _tasks(server, "alice", pid) == []


def test_extend_lock_unlock_and_expired_lock(server: Server) -> None:
    """extendLock keeps a task from others; unlock hands it back; an expired lock makes it fetchable again."""
    _deploy_and_start(server, "ext_lock", "charge-l")
    w1, w2 = Worker(server, "w1"), Worker(server, "w2")
    [task] = w1.fetch("charge-l", lock_ms=10_000)  # long enough for a loaded machine: extendLock needs a live lock
    assert w2.post(f"{task['id']}/extendLock", {"workerId": "w2", "newDuration": 60_000}).status_code == 400
    assert w1.post(f"{task['id']}/extendLock", {"workerId": "w1", "newDuration": 60_000}).status_code == 204
    assert w2.fetch("charge-l") == []
    assert w1.post(f"{task['id']}/unlock", {}).status_code == 204
    [taken] = w2.fetch("charge-l", lock_ms=200)
    assert taken["id"] == task["id"] and taken["workerId"] == "w2"
    # long polling: w1 waits until w2's lock has expired and then gets the task
    [expired] = w1.fetch("charge-l", wait_ms=20_000)
    assert expired["id"] == task["id"] and expired["workerId"] == "w1"


def test_long_polling_returns_when_a_task_arrives(server: Server) -> None:
    """A fetch with asyncResponseTimeout answers as soon as an instance reaches the external task."""
    worker = Worker(server, "w1")
    got: list = []
    poller = threading.Thread(target=lambda: got.append(worker.fetch("charge-p", wait_ms=25_000)))
    began = time.monotonic()
    poller.start()
    [pid] = _deploy_and_start(server, "ext_poll", "charge-p")
    poller.join(timeout=60)
    assert not poller.is_alive()
    assert [t["processInstanceId"] for t in got[0]] == [pid]
    assert time.monotonic() - began < 25


def test_two_workers_never_lock_the_same_task(server: Server) -> None:
    """Eight workers fetching at once over twenty tasks: every task locked exactly once."""
    _deploy_and_start(server, "ext_race", "charge-x", count=20)
    locked: list[list[str]] = [[] for _ in range(8)]

    def work(i: int) -> None:
        worker = Worker(server, f"racer{i}")
        for _ in range(10):
            locked[i].extend(t["id"] for t in worker.fetch("charge-x", max_tasks=3, lock_ms=600_000))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    everything = [task_id for ids in locked for task_id in ids]
    assert len(everything) == len(set(everything)) == 20, (PG_URL is not None, locked)


def test_long_polls_cannot_take_every_request_thread(server: Server) -> None:
    """At most OAFLOW_MAX_LONG_POLLS (2) polls wait at once per worker; the others answer at once with what is
    there, so a burst of long polls leaves threads for everyone else (/healthz, task lists)."""
    results: list[tuple[float, int]] = []
    lock = threading.Lock()

    def poll() -> None:
        began = time.monotonic()
        resp = Worker(server, "lp").post("fetchAndLock", {
            "workerId": "lp", "maxTasks": 1, "asyncResponseTimeout": 20_000,
            "topics": [{"topicName": "nobody-publishes-this", "lockDuration": 1000}]})
        with lock:
            results.append((time.monotonic() - began, resp.status_code))

    threads = [threading.Thread(target=poll) for _ in range(6)]
    for t in threads:
        t.start()
    health = requests.get(f"{server.base.removesuffix('/engine-rest')}/healthz", timeout=60)
    for t in threads:
        t.join(60)
    assert health.status_code == 200
    assert [code for _, code in results] == [200] * 6
    quick = [took for took, _ in results if took < 10]  # the waiting ones take the full 20 s
    assert len(quick) >= 4, results


def test_one_account_takes_at_most_half_the_long_poll_slots() -> None:
    from api.camunda.external import PollSlots
    slots = PollSlots(2)
    assert slots.take("erp") and not slots.take("erp")  # erp's workers: one waits, the next answers at once
    assert slots.take("hr")  # another integrator still long-polls
    assert not slots.take("crm-sync")  # every slot taken
    slots.give_back("erp")
    assert slots.take("crm-sync") and not slots.take("erp")
    slots.give_back("hr")
    slots.give_back("crm-sync")
    assert slots.take("erp")  # all given back: nothing stale held
    four = PollSlots(4)
    assert four.take("erp") and four.take("erp") and not four.take("erp") and four.take("hr")
