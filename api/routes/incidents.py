"""PUT /process-instances/{id}/variables: an admin fixes the data of an instance in error before a retry."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields

from api.auth import current_actor, require_roles
from api.extensions import db
from api.http import json_body
from api.routes.instances import instance_dict
from api.schemas import Strict
from api.state import get_engine
from engine.incidents import set_incident_variables

bp = Blueprint("incidents", __name__)


class VariablesRequest(Strict):
    """Body of PUT .../variables: the variables to merge into the failed step's data."""

    variables = fields.Dict(keys=fields.String(), required=True)


@bp.put("/process-instances/<int:instance_id>/variables")
def put_variables(instance_id: int) -> dict:
    """Merge variables into the failed step of an instance in `error` (admin); then POST .../retry."""
    require_roles("admin")
    body = json_body(VariablesRequest)
    inst = set_incident_variables(db.session, get_engine().specs, instance_id, current_actor(), body["variables"])
    return instance_dict(inst)
