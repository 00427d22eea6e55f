"""OpenAPI 3 description of /engine-rest (served at /engine-rest/openapi.json, without credentials like
/api/v1/openapi.json): every route of the Camunda subset, with the request body of each write operation in
Camunda's field names (the views read their bodies by hand, so the bodies are described here)."""

from __future__ import annotations

import re

from flask import Blueprint, current_app

PREFIX = URL_PREFIX = "/engine-rest"
bp = Blueprint("camunda_openapi", __name__)  # not a camunda_blueprint: the document needs no credentials

_TYPED = {"type": "object", "description": "a Camunda typed value",
          "properties": {"value": {}, "type": {"type": "string", "enum": [
              "String", "Integer", "Short", "Long", "Double", "Boolean", "Json", "Date", "Null"]},
              "valueInfo": {"type": "object"}}}
_VARIABLES = {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/TypedValue"},
              "maxProperties": 200}
_WORKER = {"workerId": {"type": "string", "maxLength": 255}}


def _obj(properties: dict, required: tuple[str, ...] = ()) -> dict:
    out: dict = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    return out


_VARS = {"$ref": "#/components/schemas/Variables"}
BODIES: dict[tuple[str, str], dict] = {
    ("post", "/process-definition/key/{key}/start"): _obj({
        "businessKey": {"type": "string", "maxLength": 255}, "variables": _VARS,
        "withVariablesInReturn": {"type": "boolean"}}),
    ("post", "/message"): _obj({
        "messageName": {"type": "string", "maxLength": 255}, "businessKey": {"type": "string", "maxLength": 255},
        "processVariables": _VARS, "resultEnabled": {"type": "boolean"},
        "variablesInResultEnabled": {"type": "boolean"}}, ("messageName",)),
    ("post", "/task/{task_id}/claim"): _obj({"userId": {"type": "string"}}, ("userId",)),
    ("post", "/task/{task_id}/complete"): _obj({"variables": _VARS, "withVariablesInReturn": {"type": "boolean"}}),
    ("post", "/external-task/fetchAndLock"): _obj({
        **_WORKER, "maxTasks": {"type": "integer", "minimum": 0, "maximum": 100}, "usePriority": {"type": "boolean"},
        "asyncResponseTimeout": {"type": "integer", "minimum": 0, "maximum": 30000},
        "topics": {"type": "array", "minItems": 1, "maxItems": 50, "items": _obj({
            "topicName": {"type": "string", "maxLength": 255}, "lockDuration": {"type": "integer", "minimum": 1},
            "variables": {"type": "array", "items": {"type": "string"}, "maxItems": 200}},
            ("topicName", "lockDuration"))}}, ("workerId", "topics")),
    ("post", "/external-task/{task_id}/complete"): _obj({**_WORKER, "variables": _VARS}, ("workerId",)),
    ("post", "/external-task/{task_id}/failure"): _obj({
        **_WORKER, "errorMessage": {"type": "string", "maxLength": 10000},
        "errorDetails": {"type": "string", "maxLength": 100000},
        "retries": {"type": "integer", "minimum": 0, "maximum": 1000},
        "retryTimeout": {"type": "integer", "minimum": 0}}, ("workerId",)),
    ("post", "/external-task/{task_id}/bpmnError"): _obj({
        **_WORKER, "errorCode": {"type": "string", "maxLength": 255},
        "errorMessage": {"type": "string", "maxLength": 10000}, "variables": _VARS}, ("workerId", "errorCode")),
    ("post", "/external-task/{task_id}/extendLock"): _obj({**_WORKER, "newDuration": {"type": "integer",
                                                                                        "minimum": 1}},
                                                          ("workerId", "newDuration")),
    ("put", "/external-task/{task_id}/retries"): _obj({"retries": {"type": "integer", "minimum": 0,
                                                                    "maximum": 1000}}, ("retries",)),
    ("post", "/deployment/create"): {"type": "object", "properties": {
        "deployment-name": {"type": "string"}, "deployment-source": {"type": "string"},
        "enable-duplicate-filtering": {"type": "string"},
        "data": {"type": "string", "format": "binary", "description": "any part name: .bpmn, .dmn, .json files"}}},
}
#: write operations without a body (the path names the action)
BODYLESS = frozenset({("post", "/task/{task_id}/unclaim"), ("post", "/external-task/{task_id}/unlock")})
_ERROR = {"description": "Camunda error {type, message}", "content": {"application/json": {"schema": _obj({
    "type": {"type": "string"}, "message": {"type": "string"}})}}}


def build_spec() -> dict:
    """The OpenAPI document of every /engine-rest route of the running app."""
    paths: dict[str, dict] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/") or rule.rule == f"{PREFIX}/openapi.json":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", r"{\1}", rule.rule)[len(PREFIX):]
        doc = (current_app.view_functions[rule.endpoint].__doc__ or "").strip().splitlines()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            key = (method.lower(), path)
            op: dict = {"summary": doc[0] if doc else rule.endpoint,
                        "parameters": [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                                       for p in sorted(rule.arguments)],
                        "responses": {"200": {"description": "OK"}, "204": {"description": "No content"},
                                      "default": _ERROR}}
            if key in BODIES:
                media = "multipart/form-data" if path == "/deployment/create" else "application/json"
                op["requestBody"] = {"required": True, "content": {media: {"schema": BODIES[key]}}}
            elif key in BODYLESS:
                op["x-oaflow-bodyless"] = True
                op["description"] = "Takes no request body: the path names the action."
            paths.setdefault(path, {})[method.lower()] = op
    return {"openapi": "3.0.3", "info": {"title": "oaflow engine-rest (Camunda 7 REST subset)", "version": "7"},
            "servers": [{"url": PREFIX}], "security": [{"basic": []}, {"bearer": []}],
            "components": {"securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                                               "bearer": {"type": "http", "scheme": "bearer"}},
                           "schemas": {"TypedValue": _TYPED, "Variables": _VARIABLES}},
            "paths": dict(sorted(paths.items()))}


@bp.get("/openapi.json")
def openapi_json() -> dict:
    """The OpenAPI document of the Camunda 7 REST subset under /engine-rest."""
    return build_spec()
