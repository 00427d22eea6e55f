"""A corpus of hostile and broken inputs: each gets the expected 4xx problem+json (or a harmless 200)
and changes nothing (row counts of the tables it could touch are the same before and after)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from api.extensions import db
from engine.models import (
    Deployment,
    DeploymentFile,
    HistoryEvent,
    IdempotentStart,
    ProcessDefinition,
    ProcessInstance,
    Task,
)
from oa.models import ApiKey, User
from tests.bpmn_samples import user_task_process

WATCHED = (ProcessInstance, Task, HistoryEvent, IdempotentStart, Deployment, DeploymentFile, ProcessDefinition,
           User, ApiKey)
START = "/api/v1/process-definitions/leave_request/start"
LEAVE = {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-02", "days": 2, "reason": "x"}
SECRET = "test"  # the fixture app's secret key


@dataclass
class World:
    """Objects the cases aim at: alice's leave instance and bob's open approval task."""

    api: object
    instance_id: int
    task_id: str


@dataclass
class Case:
    """One hostile request and what must come back."""

    name: str
    send: Callable[[World], object]
    status: int
    names: str | None = None  # problem+json `errors` must name this field
    check: Callable[[dict], bool] | None = None


def _post_json(path: str, user: str | None, body: object, headers: dict | None = None) -> Callable:
    return lambda w: w.api.post(path, user, json=body, headers=headers or {})


def _raw(method: str, path: str, user: str | None, data: bytes | str,
         content_type: str = "application/json", headers: dict | None = None) -> Callable:
    def send(w: World):  # noqa: ANN202
        return w.api.client.open(path, method=method, data=data, content_type=content_type,
                                 headers=w.api.headers(user, headers))
    return send


def _get(path: str, user: str | None, query: dict | None = None, headers: dict | None = None) -> Callable:
    return lambda w: w.api.client.get(path, query_string=query or {}, headers=w.api.headers(user, headers))


def _upload(user: str, files: dict[str, bytes]) -> Callable:
    def send(w: World):  # noqa: ANN202
        data = {"files": [(io.BytesIO(content), name) for name, content in files.items()]}
        return w.api.client.post("/api/v1/deployments", data=data, headers=w.api.headers(user),
                                 content_type="multipart/form-data")
    return send


def _task(suffix: str, user: str, body: object) -> Callable:
    return lambda w: w.api.post(f"/api/v1/tasks/{w.task_id}/{suffix}", user, json=body)


def _instance(suffix: str, user: str, body: object | None = None, method: str = "POST") -> Callable:
    def send(w: World):  # noqa: ANN202
        path = f"/api/v1/process-instances/{w.instance_id}{suffix}"
        return w.api.client.open(path, method=method, json=body, headers=w.api.headers(user))
    return send


def _bearer(token: str, path: str = "/api/v1/tasks") -> Callable:
    return lambda w: w.api.client.get(path, headers={"Authorization": token})


class _OldSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 10 * 24 * 3600


def _expired_token() -> str:
    return URLSafeTimedSerializer(SECRET, salt="oaflow-access-token", signer=_OldSigner).dumps({"uid": 2, "tv": 1})


def _forged_token() -> str:
    return URLSafeTimedSerializer("guessed-secret", salt="oaflow-access-token").dumps({"uid": 1, "tv": 1})


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<bpmn:process id="xxe" isExecutable="true"><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process>
</bpmn:definitions>"""
BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                   for i in range(1, 10))
        + b']><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
          b'targetNamespace="x"><bpmn:process id="bomb" isExecutable="true">'
          b"<bpmn:documentation>&lol9;</bpmn:documentation></bpmn:process></bpmn:definitions>")
EXTERNAL_DTD = (b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd">'
                + user_task_process("ext_dtd")[len(b'<?xml version="1.0" encoding="UTF-8"?>'):])
PARAM_ENTITY = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x"> %p;]>'
                + user_task_process("param_ent")[len(b'<?xml version="1.0" encoding="UTF-8"?>'):])


def _nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"n": value}
    return value


CASES = [
    # ---- uploads
    Case("xxe-external-entity", _upload("grace", {"xxe.bpmn": XXE}), 422),
    Case("billion-laughs", _upload("grace", {"bomb.bpmn": BOMB}), 422),
    Case("external-dtd", _upload("grace", {"dtd.bpmn": EXTERNAL_DTD}), 422),
    Case("parameter-entity", _upload("grace", {"pe.bpmn": PARAM_ENTITY}), 422),
    Case("oversized-file", _upload("grace", {"big.bpmn": b"<a>" + b" " * (5 * 1024 * 1024 + 10) + b"</a>"}), 413),
    Case("binary-garbage-as-bpmn", _upload("grace", {"junk.bpmn": bytes(range(256)) * 40}), 422),
    Case("executable-extension", _upload("grace", {"evil.exe": b"MZ\x90\x00"}), 422),
    Case("form-that-is-not-json", _upload("grace", {"f.json": b"{'nope': }"}), 422),
    Case("upload-by-employee", _upload("alice", {"p.bpmn": user_task_process("sneaky")}), 403),
    Case("upload-as-json-body", _post_json("/api/v1/deployments", "grace", {"files": ["x"]}), 415),
    # ---- JSON bodies and forms
    Case("malformed-json", _raw("POST", START, "alice", b'{"variables": {'), 400),
    Case("json-array-body", _raw("POST", START, "alice", b"[1, 2, 3]"), 400),
    Case("json-nested-100k", _raw("POST", START, "alice", b'{"variables":' + b"[" * 100_000 + b"]" * 100_000
                                  + b"}"), 400),
    Case("variables-nested-30", _post_json(START, "alice", {"variables": {**LEAVE, "reason": _nested(30)}}), 422,
         "variables"),
    Case("nan-number", _raw("POST", START, "alice", b'{"variables": {"leave_type": "annual", "start_date": '
                            b'"2026-12-01", "end_date": "2026-12-02", "reason": NaN}}'), 422, "reason"),
    Case("infinity-number", _raw("POST", START, "alice", b'{"variables": {"leave_type": "annual", "start_date": '
                                 b'"2026-12-01", "end_date": "2026-12-02", "reason": -Infinity}}'),
         422, "reason"),
    Case("wrong-type-half", _post_json(START, "alice", {"variables": {**LEAVE, "end_half": 2}}), 422, "end_half"),
    Case("variables-not-object", _post_json(START, "alice", {"variables": "days=2"}), 422, "variables"),
    Case("unknown-top-level-field", _post_json(START, "alice", {"variables": LEAVE, "status": "completed"}), 422,
         "status"),
    Case("overwrite-process-variable", _post_json(START, "alice", {"variables": {**LEAVE, "approved": True}}), 422,
         "approved"),
    Case("overwrite-initiator", _post_json(START, "alice", {"variables": {**LEAVE, "initiator": "dave"}}), 422,
         "initiator"),
    Case("dunder-variable", _post_json(START, "alice", {"variables": {**LEAVE, "__class__": "x"}}), 422,
         "__class__"),
    Case("rtl-override-variable-name", _post_json(START, "alice", {"variables": {**LEAVE, "\u202eevil": 1}}), 422,
         "\u202eevil"),
    Case("business-key-wrong-type", _post_json(START, "alice", {"variables": LEAVE, "business_key": 42}), 422,
         "business_key"),
    Case("business-key-too-long", _post_json(START, "alice", {"variables": LEAVE, "business_key": "k" * 5000}),
         422, "business_key"),
    Case("idempotency-key-too-long", _post_json(START, "alice", {"variables": LEAVE},
                                                headers={"Idempotency-Key": "i" * 300}), 400),
    Case("text-plain-body", _raw("POST", START, "alice", b'{"variables": {}}', content_type="text/plain"), 415),
    Case("body-over-request-limit", _raw("POST", START, "alice", b'{"variables": {"reason": "'
                                         + b"x" * (16 * 1024 * 1024) + b'"}}'), 413),
    Case("complete-approved-as-string", _task("complete", "bob", {"variables": {"approved": "yes"}}), 422,
         "approved"),
    Case("complete-variables-list", _task("complete", "bob", {"variables": [{"approved": True}]}), 422,
         "variables"),
    Case("complete-extra-field", _task("complete", "bob", {"variables": {"approved": True}, "assignee": "bob"}),
         422, "assignee"),
    Case("comment-empty", _instance("/comments", "alice", {"text": ""}), 422, "text"),
    Case("comment-too-long", _instance("/comments", "alice", {"text": "c" * 5000}), 422, "text"),
    # ---- unicode, NUL bytes and SQL metacharacters
    Case("login-rtl-unicode-name", _post_json("/api/v1/auth/token", None,
                                              {"username": "\u202eecila\u05d0\U0001f600", "password": "demo"}), 401),
    Case("login-nul-byte", _post_json("/api/v1/auth/token", None, {"username": "al\x00ice", "password": "demo"}),
         422, "username"),
    Case("filter-nul-byte", _get("/api/v1/process-instances", "alice", {"business_key": "a\x00b"}), 422,
         "business_key"),
    Case("variable-key-nul-byte", _post_json(START, "alice", {"variables": {**LEAVE, "re\x00ason": "x"}}), 422,
         "variables/re\x00ason"),
    Case("filter-id-huge", _get("/api/v1/tasks", "bob", {"instance_id": str(10**30)}), 422, "instance_id"),
    Case("login-sql-injection", _post_json("/api/v1/auth/token", None,
                                           {"username": "alice' OR '1'='1' --", "password": "' OR 1=1 --"}), 401),
    Case("login-missing-password", _post_json("/api/v1/auth/token", None, {"username": "alice"}), 422, "password"),
    Case("business-key-nul-byte", _post_json(START, "alice", {"variables": LEAVE, "business_key": "a\x00b"}),
         422, "business_key"),
    Case("filter-sql-metachars", _get("/api/v1/process-instances", "alice",
                                      {"business_key": "' OR '1'='1"}), 200, check=lambda b: b["total"] == 0),
    Case("filter-like-wildcards", _get("/api/v1/tasks", "bob", {"key": "%' OR 1=1 --"}), 200,
         check=lambda b: b["total"] == 0),
    Case("filter-status-injection", _get("/api/v1/process-instances", "alice", {"status": "running' --"}), 422,
         "status"),
    Case("filter-id-injection", _get("/api/v1/tasks", "bob", {"instance_id": "1 OR 1=1"}), 422, "instance_id"),
    Case("per-page-huge", _get("/api/v1/tasks", "bob", {"per_page": "100000"}), 422, "per_page"),
    Case("page-negative", _get("/api/v1/process-instances", "bob", {"page": "-1"}), 422, "page"),
    Case("unknown-query-arg", _get("/api/v1/tasks", "bob", {"order_by": "id; DROP TABLE task"}), 422, "order_by"),
    Case("definition-key-sql", lambda w: w.api.post("/api/v1/process-definitions/x'%20OR%20'1'='1/start", "alice",
                                                      json={}), 404),
    Case("definition-key-unicode", lambda w: w.api.post("/api/v1/process-definitions/%D7%A9%D7%9C%D7%95%D7%9D/start",
                                                          "alice", json={}), 404),
    # ---- ids of other people's objects, and ids that are not ids
    Case("complete-someone-elses-task", _task("complete", "carol", {"variables": {"approved": True}}), 404),
    Case("claim-someone-elses-task", _task("claim", "carol", {}), 404),
    Case("approve-own-leave", _task("complete", "alice", {"variables": {"approved": True}}), 403),
    Case("read-someone-elses-instance", _instance("", "carol", method="GET"), 404),
    Case("cancel-someone-elses-instance", _instance("/cancel", "carol", {"reason": "x"}), 404),
    Case("cancel-as-approver", _instance("/cancel", "bob", {"reason": "x"}), 403),
    Case("retry-as-employee", _instance("/retry", "alice", {}), 403),
    Case("task-id-path-traversal", lambda w: w.api.get("/api/v1/tasks/..%2F..%2Fetc%2Fpasswd", "bob"), 404),
    Case("task-id-sql", lambda w: w.api.get("/api/v1/tasks/1'%20OR%20'1'='1", "bob"), 404),
    Case("instance-id-huge", lambda w: w.api.get("/api/v1/process-instances/99999999999999999999999", "admin"),
         404),
    Case("instance-id-negative", lambda w: w.api.get("/api/v1/process-instances/-1", "admin"), 404),
    # ---- credentials
    Case("expired-token", _bearer(f"Bearer {_expired_token()}"), 401),
    Case("forged-token", _bearer(f"Bearer {_forged_token()}"), 401),
    Case("alg-none-jwt", _bearer("Bearer eyJhbGciOiJub25lIn0.eyJ1aWQiOjF9."), 401),
    Case("fake-api-key", _bearer("Bearer oak_000000000000_guessed"), 401),
    Case("basic-auth", _bearer("Basic YWRtaW46ZGVtbw=="), 401),
    Case("token-with-nul", _bearer("Bearer abc\x00def"), 401),
]


def _counts(app) -> dict[str, int]:  # noqa: ANN001
    with app.app_context():
        out = {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in WATCHED}
        db.session.remove()
        return out


_TOKENS: dict[str, str] = {}  # every test's database is a copy of one template: tokens stay valid


@pytest.fixture
def world(api) -> World:  # noqa: ANN001
    """alice's leave request waiting for bob; everyone logged in up front (logins are not under test)."""
    api._tokens.update(_TOKENS)
    inst = api.start_leave("alice").get_json()
    task = api.tasks("bob", assignee="me")[0]
    for user in ("alice", "bob", "carol", "grace", "admin"):
        api.token(user)
    _TOKENS.update(api._tokens)
    return World(api, inst["id"], task["id"])


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(case: Case, world: World, app) -> None:  # noqa: ANN001
    before = _counts(app)
    resp = case.send(world)
    body = resp.get_json(silent=True)
    assert resp.status_code == case.status, (resp.status_code, body)
    if case.status >= 400:
        assert resp.mimetype == "application/problem+json", resp.data[:300]
        assert body["status"] == case.status and body["title"]
    if case.names is not None:
        fields = [e.get("field") for e in body.get("errors", [])]
        assert case.names in fields, body
    if case.check is not None:
        assert case.check(body), body
    assert _counts(app) == before
    # and the server still works for everybody afterwards
    assert world.api.get(f"/api/v1/tasks/{world.task_id}", "bob").status_code == 200
