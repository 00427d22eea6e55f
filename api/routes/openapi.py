"""OpenAPI 3 description of the v1 API (generated with apispec from the routes and schemas) and its docs."""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app
from markupsafe import escape

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


def build_spec() -> dict:
    """The OpenAPI document for every /api/v1 route of the running app."""
    spec = APISpec(title="oaflow", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name in ("TokenRequest", "StartRequest", "CompleteRequest", "CancelRequest", "CommentRequest",
                 "MessageRequest", "DefinitionOut", "TaskOut", "InstanceOut", "HistoryOut"):
        spec.components.schema(name, schema=getattr(schemas, name))
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
            paths.setdefault(path, {})[method.lower()] = op
    for path, ops in sorted(paths.items()):
        spec.path(path=path, operations=ops)
    return spec.to_dict()


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
