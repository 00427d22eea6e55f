"""marshmallow schemas: request bodies (unknown fields refused) and the resources the API returns."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate


class Strict(Schema):
    """Base of every request schema: unknown fields are refused (422 naming them)."""

    class Meta:
        unknown = RAISE


class TokenRequest(Strict):
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class StartRequest(Strict):
    business_key = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    # an integrator's key with the act-as permission starts the flow for this employee
    started_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100))


class CompleteRequest(Strict):
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


class CancelRequest(Strict):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


class CommentRequest(Strict):
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class MessageRequest(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    business_key = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    correlation = fields.Dict(load_default=None, allow_none=True)
    variables = fields.Dict(keys=fields.String(), load_default=dict)


class PageArgs(Schema):
    class Meta:
        unknown = RAISE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class InstanceListArgs(PageArgs):
    key = fields.String(validate=validate.Length(max=255))
    status = fields.String(validate=validate.OneOf(["running", "completed", "cancelled", "error"]))
    business_key = fields.String(validate=validate.Length(max=255))
    started_by = fields.String(validate=validate.Length(max=100))


class TaskListArgs(PageArgs):
    assignee = fields.String(validate=validate.Length(max=100))
    candidate = fields.String(validate=validate.Length(max=100))
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "completed", "cancelled", "all"]))
    key = fields.String(validate=validate.Length(max=255))
    instance_id = fields.Integer(validate=validate.Range(min=1))


class DefinitionArgs(Schema):
    class Meta:
        unknown = RAISE

    version = fields.Integer(validate=validate.Range(min=1))


class DefinitionOut(Schema):
    id = fields.Integer()
    key = fields.String()
    version = fields.Integer()
    name = fields.String(allow_none=True)
    deployment_id = fields.Integer()
    created_at = fields.DateTime()


class TaskOut(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    element_id = fields.String()
    instance_id = fields.Integer()
    process_key = fields.String()
    status = fields.String()
    assignee = fields.String(allow_none=True)
    candidate_users = fields.List(fields.String())
    candidate_groups = fields.List(fields.String())
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)


class InstanceOut(Schema):
    id = fields.Integer()
    key = fields.String(attribute="process_key")
    version = fields.Function(lambda i: i.definition.version)
    status = fields.String()
    business_key = fields.String(allow_none=True)
    started_by = fields.String(allow_none=True)
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    variables = fields.Dict()
    active_element_ids = fields.List(fields.String())
    error = fields.Method("get_error")

    def get_error(self, inst: object) -> dict | None:
        message = getattr(inst, "error_message", None)
        return {"message": message, "element_id": inst.error_element_id} if message else None


class HistoryOut(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    type = fields.String()
    user = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    data = fields.Raw(allow_none=True)
