"""The OpenAPI document describes the request body of every write operation (or marks it body-less)."""

from __future__ import annotations


def test_every_write_operation_describes_its_body(api) -> None:  # noqa: ANN001
    spec = api.client.get("/api/v1/openapi.json").get_json()
    components = spec["components"]["schemas"]
    missing, bodyless = [], []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method not in ("post", "put", "patch"):
                continue
            if op.get("x-oaflow-bodyless"):
                bodyless.append(path)
                continue
            body = op.get("requestBody")
            if not body:
                missing.append(f"{method.upper()} {path}")
                continue
            for media in body["content"].values():
                ref = media["schema"].get("$ref")
                if ref:
                    assert ref.rsplit("/", 1)[-1] in components, (path, ref)
    assert not missing, f"write operations without a requestBody: {missing}"
    assert "/api/v1/tasks/{task_id}/claim" in bodyless
    keys = spec["paths"]["/api/v1/api-keys"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    described = components[keys["$ref"].rsplit("/", 1)[-1]]
    assert {"name", "scopes", "expires"} <= set(described["properties"])
    assert "requestBody" in spec["paths"]["/api/v1/customers"]["post"]


def test_bodyless_actions_work_without_a_body(api) -> None:  # noqa: ANN001
    # a marked action really takes none: an empty POST succeeds
    assert api.post("/api/v1/notifications/read-all", "alice").status_code == 200


def test_engine_rest_has_its_own_openapi_document_with_every_write_body(api) -> None:  # noqa: ANN001
    resp = api.client.get("/engine-rest/openapi.json")  # public, as /api/v1/openapi.json
    assert resp.status_code == 200
    spec = resp.get_json()
    assert spec["servers"] == [{"url": "/engine-rest"}] and "TypedValue" in spec["components"]["schemas"]
    missing = [f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m, op in ops.items()
               if m in ("post", "put", "patch") and not op.get("requestBody") and not op.get("x-oaflow-bodyless")]
    assert not missing, f"engine-rest write operations without a requestBody: {missing}"
    for path in ("/history/process-instance/{instance_id}", "/task/count", "/external-task/{task_id}",
                 "/process-definition/count", "/history/process-instance/count"):
        assert "get" in spec["paths"][path], path
    start = spec["paths"]["/process-definition/key/{key}/start"]["post"]["requestBody"]
    assert {"businessKey", "variables"} <= set(start["content"]["application/json"]["schema"]["properties"])
    fetch = spec["paths"]["/external-task/fetchAndLock"]["post"]["requestBody"]["content"]["application/json"]
    assert fetch["schema"]["required"] == ["workerId", "topics"]
