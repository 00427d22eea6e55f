"""Every client mistake is problem+json with the right status; none is a 500."""

from __future__ import annotations

import pytest

START = "/api/v1/process-definitions/leave_request/start"


def _problem(resp, status: int) -> dict:  # noqa: ANN001
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status and body["title"]
    return body


def test_malformed_json_is_400(api) -> None:  # noqa: ANN001
    for raw in (b"{not json", b"[1, 2", b"\xff\xfe", b"[" * 100_000):
        resp = api.client.post(START, data=raw, headers={**api.headers("alice"), "Content-Type": "application/json"})
        _problem(resp, 400)
    resp = api.client.post(START, data=b"[]", headers={**api.headers("alice"), "Content-Type": "application/json"})
    assert "JSON object" in _problem(resp, 400)["detail"]


def test_wrong_types_are_422_naming_the_field(api) -> None:  # noqa: ANN001
    body = _problem(api.post(START, "alice", json={"variables": "everything"}), 422)
    assert body["errors"][0]["field"] == "variables"
    body = _problem(api.post(START, "alice", json={"business_key": 12, "variables": {}}), 422)
    assert body["errors"][0]["field"] == "business_key"
    body = _problem(api.post(START, "alice", json={"variables": {}, "surprise": 1}), 422)
    assert body["errors"][0]["field"] == "surprise"
    body = _problem(api.get("/api/v1/tasks", "alice", query_string={"page": "zero"}), 422)
    assert body["errors"][0]["field"] == "page"
    body = _problem(api.get("/api/v1/tasks", "alice", query_string={"status": "done'; DROP TABLE task;--"}), 422)
    assert body["errors"][0]["field"] == "status"


def test_non_finite_numbers_are_refused(api) -> None:  # noqa: ANN001
    raw = (b'{"variables": {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-01",'
           b' "reason": NaN}}')
    resp = api.client.post(START, data=raw, headers={**api.headers("alice"), "Content-Type": "application/json"})
    assert _problem(resp, 422)["errors"][0]["field"] == "reason"


@pytest.mark.parametrize("method,path", [
    ("get", "/api/v1/process-definitions/no_such_process"),
    ("get", "/api/v1/process-definitions/no_such_process/xml"),
    ("get", "/api/v1/process-definitions/no_such_process/start-form"),
    ("post", "/api/v1/process-definitions/no_such_process/start"),
    ("get", "/api/v1/process-instances/999999"),
    ("get", "/api/v1/process-instances/999999/history"),
    ("post", "/api/v1/process-instances/999999/cancel"),
    ("get", "/api/v1/tasks/00000000-0000-0000-0000-000000000000"),
    ("post", "/api/v1/tasks/not-a-task/complete"),
    ("post", "/api/v1/tasks/not-a-task/claim"),
    ("get", "/api/v1/no-such-endpoint"),
])
def test_unknown_ids_and_keys_are_404(api, method: str, path: str) -> None:  # noqa: ANN001
    kwargs = {"json": {}} if method == "post" else {}
    _problem(getattr(api, method)(path, "alice", **kwargs), 404)


def test_missing_auth_is_401_everywhere(api) -> None:  # noqa: ANN001
    for path in ("/api/v1/tasks", "/api/v1/process-definitions", "/api/v1/process-instances"):
        _problem(api.client.get(path), 401)
    _problem(api.client.post(START, json={}), 401)


def test_wrong_method_is_405(api) -> None:  # noqa: ANN001
    _problem(api.client.delete("/api/v1/tasks"), 405)


def test_health_and_openapi(api) -> None:  # noqa: ANN001
    health = api.client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["migrations"]["up_to_date"] is True
    spec = api.client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/api/v1/process-definitions/{key}/start" in spec["paths"]
    assert api.client.get("/api/docs").status_code == 200
