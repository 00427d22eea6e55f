"""Process definitions: list, read, XML, start form, and start an instance."""

from __future__ import annotations

from flask import Blueprint, Response, request
from sqlalchemy import select

from api.auth import actor_of, current_actor, current_principal, login_required
from api.errors import ApiError
from api.extensions import db
from api.http import json_body, query_args, schema
from api.routes.instances import instance_dict
from api.schemas import DefinitionArgs, DefinitionOut, StartRequest
from api.state import get_engine
from crm.orders import business_key_for
from engine import definitions, idempotency
from engine.errors import NotFound
from engine.models import DeploymentFile
from engine.parsing import ElementMeta
from engine.runtime import Actor
from oa.models import User

bp = Blueprint("definitions", __name__)


def _definition_dict(d: object) -> dict:
    out = schema(DefinitionOut).dump(d)
    metas = [ElementMeta.from_dict(m) for m in d.elements.values()]
    out["start_form"] = next((m.form for m in metas if m.kind == "startEvent" and m.form), None)
    out["message_starts"] = d.message_starts
    return out


@bp.get("/process-definitions")
@login_required
def list_definitions() -> dict:
    """The latest version of each process key."""
    items = [_definition_dict(d) for d in definitions.latest_definitions(db.session)]
    return {"items": items, "total": len(items), "page": 1, "per_page": len(items)}


@bp.get("/process-definitions/<key>")
@login_required
def get_definition(key: str) -> dict:
    """The latest version of `key`, or ?version=N."""
    args = query_args(DefinitionArgs)
    return _definition_dict(definitions.get_definition(db.session, key, args.get("version")))


@bp.get("/process-definitions/<key>/xml")
@login_required
def definition_xml(key: str) -> Response:
    """The BPMN XML the definition was deployed from."""
    args = query_args(DefinitionArgs)
    d = definitions.get_definition(db.session, key, args.get("version"))
    content = db.session.scalar(select(DeploymentFile.content).where(
        DeploymentFile.deployment_id == d.deployment_id, DeploymentFile.name == d.bpmn_file))
    if content is None:
        raise NotFound(f"the BPMN file of {key} is missing")
    # a designer's file may carry XHTML: nothing in it may run or navigate if a browser ever renders this
    return Response(content, mimetype="application/xml",
                    headers={"Content-Security-Policy": "default-src 'none'; sandbox"})


@bp.get("/process-definitions/<key>/start-form")
@login_required
def start_form(key: str) -> dict:
    """The JSON Schema (and UI schema) a start must satisfy; empty schema if the process has no form."""
    args = query_args(DefinitionArgs)
    d = definitions.get_definition(db.session, key, args.get("version"))
    for raw in d.elements.values():
        meta = ElementMeta.from_dict(raw)
        if meta.kind == "startEvent" and meta.form:
            return {"key": d.key, "version": d.version, "form": meta.form,
                    "schema": d.forms.get(meta.form), "ui_schema": d.forms.get(meta.ui_form or "")}
    return {"key": d.key, "version": d.version, "form": None, "schema": None, "ui_schema": None}


@bp.post("/process-definitions/<key>/start")
@login_required
def start(key: str) -> tuple[dict, int]:
    """Start the latest version of `key`; an Idempotency-Key header makes retries safe (the same key with
    a different process or body is a 422)."""
    body = json_body(StartRequest)
    idem = request.headers.get("Idempotency-Key")
    if idem is not None and not (1 <= len(idem) <= 255):
        raise ApiError(400, "Malformed request", "Idempotency-Key must be 1 to 255 characters",
                       errors=[{"field": idempotency.HEADER, "message": "1 to 255 characters"}])
    fingerprint = idempotency.request_hash(f"start:{key}", body) if idem is not None else None
    actor, acting = current_actor(), None
    if body["started_by"] is not None and body["started_by"] != actor.username:
        actor, acting = _applicant(body["started_by"]), actor.username
    business_key = business_key_for(key, body["variables"] or {}, body["business_key"])
    inst, created = get_engine().start(db.session, key, actor, body["variables"],
                                       business_key, idem, request_hash=fingerprint, acting_user=acting)
    return instance_dict(inst), 201 if created else 200


def _applicant(username: str) -> Actor:
    """The employee an act-as API key starts a flow for: 403 without the permission, 422 if unknown."""
    if not current_principal().act_as:
        raise ApiError(403, "Forbidden", "only an API key with the act-as permission may name started_by")
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise ApiError(422, "Validation failed", f"no active user '{username}'",
                       [{"field": "started_by", "message": "unknown user"}])
    return actor_of(user)
