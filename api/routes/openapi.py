"""OpenAPI 3 description of the v1 API (generated with apispec from the routes and schemas) and its docs."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app
from markupsafe import escape
from marshmallow import Schema

from api import schemas

URL_PREFIX = ""
bp = Blueprint("openapi", __name__)

_BODIES = {
    ("post", "/api/v1/auth/token"): "TokenRequest",
    ("post", "/api/v1/process-definitions/{key}/start"): "StartRequest",
    ("post", "/api/v1/tasks/{task_id}/complete"): "CompleteRequest",
    ("post", "/api/v1/process-instances/{instance_id}/cancel"): "CancelRequest",
    ("post", "/api/v1/process-instances/{instance_id}/comments"): "CommentRequest",
    ("post", "/api/v1/tasks/{task_id}/comments"): "CommentRequest",
    ("post", "/api/v1/messages"): "MessageRequest",
}


# write operations that take no body at all (an action named by the path): documented as such
BODYLESS: frozenset[tuple[str, str]] = frozenset(("post", f"/api/v1/{path}") for path in (
    "announcements/{announcement_id}/read", "attendance/clock-in", "attendance/clock-out",
    "customers/{customer_id}/claim", "departments/{dept_id}/deactivate", "notifications/read-all",
    "notifications/{notification_id}/read", "process-instances/{instance_id}/retry", "tasks/{task_id}/claim",
    "tasks/{task_id}/unclaim", "tasks/{task_id}/urge", "users/{name}/unlock", "users/{user_id}/deactivate"))
_JSON_BODY = re.compile(r"\bjson_body\((\w+)\)")
_CALL = re.compile(r"\b([A-Za-z_]\w*)\(")
_MULTIPART = re.compile(r"\brequest\.(files|form)\b")


def _source(func: Callable[..., Any]) -> str:
    try:
        return inspect.getsource(inspect.unwrap(func))
    except (OSError, TypeError):
        return ""


def _body_of(view: Callable[..., Any], depth: int = 2) -> tuple[str, Any] | None:
    """How a view reads its body, found in its source (and the helpers of its module it calls):
    ("json", schema class) for `json_body(Schema)`, ("multipart", None) for request.files/form."""
    func = inspect.unwrap(view)
    src = _source(func)
    found = _JSON_BODY.search(src)
    if found and isinstance(func.__globals__.get(found.group(1)), type):
        return "json", func.__globals__[found.group(1)]
    if _MULTIPART.search(src):
        return "multipart", None
    if depth > 0:
        for name in dict.fromkeys(_CALL.findall(src.split(":", 1)[-1])):
            helper = func.__globals__.get(name)
            if inspect.isfunction(helper) and helper.__module__ == func.__module__ and helper is not func:
                body = _body_of(helper, depth - 1)
                if body:
                    return body
    return None


def _schema_ref(spec: APISpec, names: dict[type, str], cls: type[Schema]) -> str:
    """The component name of schema class `cls`, registering it on first use (module-qualified on a clash)."""
    if cls not in names:
        name = cls.__name__.removesuffix("Schema") or cls.__name__
        if name in names.values():
            name = f"{cls.__module__.rsplit('.', 1)[-1]}.{name}"
        names[cls] = name
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=cls)
    return names[cls]


def build_spec() -> dict:
    """The OpenAPI document for every /api/v1 route of the running app."""
    spec = APISpec(title="oaflow", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name in ("TokenRequest", "StartRequest", "CompleteRequest", "CancelRequest", "CommentRequest",
                 "MessageRequest", "DefinitionOut", "TaskOut", "InstanceOut", "HistoryOut"):
        spec.components.schema(name, schema=getattr(schemas, name))
    names: dict[type, str] = {getattr(schemas, n): n for n in (
        "TokenRequest", "StartRequest", "CompleteRequest", "CancelRequest", "CommentRequest", "MessageRequest",
        "DefinitionOut", "TaskOut", "InstanceOut", "HistoryOut")}
    paths: dict[str, dict] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        view = current_app.view_functions[rule.endpoint]
        doc = (view.__doc__ or "").strip().splitlines()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op: dict = {
                "summary": doc[0] if doc else rule.endpoint,
                "parameters": [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                               for p in rule.arguments],
                "responses": {"default": {"description": "problem+json on error",
                                          "content": {"application/problem+json": {}}}},
            }
            if path != "/api/v1/auth/token":
                op["security"] = [{"bearer": []}]
            body = _BODIES.get((method.lower(), path))
            declared = getattr(view, "openapi_body", None)  # a route's own request schema (marshmallow class)
            if declared is not None and not body:
                body = declared.__name__
                if body not in spec.components.schemas:
                    spec.components.schema(body, schema=declared)
            if body:
                op["requestBody"] = {"content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{body}"}}}}
            elif path.startswith("/api/v1/deployments"):
                op["requestBody"] = {"content": {"multipart/form-data": {"schema": {
                    "type": "object", "properties": {"files": {"type": "array", "items": {
                        "type": "string", "format": "binary"}}}}}}}
            elif method in ("POST", "PUT", "PATCH"):
                _describe_body(spec, names, op, view, (method.lower(), path))
            paths.setdefault(path, {})[method.lower()] = op
    for path, ops in sorted(paths.items()):
        spec.path(path=path, operations=ops)
    return spec.to_dict()


def _describe_body(spec: APISpec, names: dict[type, str], op: dict, view: Callable[..., Any],
                   key: tuple[str, str]) -> None:
    """Add the requestBody of a write operation from how its view reads the body (or mark it body-less)."""
    body = _body_of(view)
    if body is None:
        if key in BODYLESS:
            op["x-oaflow-bodyless"] = True
            op["description"] = "Takes no request body: the path names the action."
        return
    kind, cls = body
    if kind == "json":
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{_schema_ref(spec, names, cls)}"}}}}
    else:
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}}


@bp.get("/api/v1/openapi.json")
def openapi_json() -> dict:
    """The OpenAPI document."""
    return build_spec()


@bp.get("/api/docs")
def docs() -> Response:
    """A small HTML index of the API's operations, generated from the OpenAPI document."""
    spec = build_spec()
    rows = "".join(
        f"<tr><td><code>{escape(m.upper())}</code></td><td><code>{escape(p)}</code></td>"
        f"<td>{escape(op.get('summary', ''))}</td></tr>"
        for p, ops in spec["paths"].items() for m, op in ops.items())
    html = ("<!doctype html><meta charset=utf-8><title>oaflow API</title>"
            "<link rel=stylesheet href='/static/web/apidocs.css'>"  # no inline style: the CSP allows 'self' only
            "<h1>oaflow API v1</h1><p>Machine-readable: <a href='/api/v1/openapi.json'>openapi.json</a>. "
            "Errors are application/problem+json.</p><table>" + rows + "</table>")
    return Response(html, mimetype="text/html")
