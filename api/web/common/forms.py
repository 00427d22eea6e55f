"""Submitted HTML forms through a marshmallow schema: blank inputs count as missing, every problem is kept as
{field: message} so the page can show it beside the input (never a 500)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError

from api.errors import marshmallow_errors
from api.http import out_of_range
from api.web.common.schema_forms import errors_by_field

SKIP = {"csrf_token"}


def load_form(schema: Schema, skip: set[str] | None = None) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """(loaded data, errors by field, the raw values to show again) for the submitted form."""
    skip = SKIP | (skip or set())
    raw = {k: v for k, v in request.form.items() if k not in skip}
    errors: dict[str, str] = {}
    for key, value in raw.items():
        if "\x00" in value:
            errors[key] = _("must not contain NUL characters")
    data = {k: v.strip() for k, v in raw.items() if v.strip() and k not in errors}
    loaded: dict[str, Any] = {}
    try:
        loaded = schema.load(data)
    except ValidationError as err:
        for key, message in errors_by_field(marshmallow_errors(err.messages)).items():
            errors.setdefault(key, message)
    for problem in out_of_range(schema, loaded):  # the API's bounds (dates 1900-2999), beside the input
        errors.setdefault(problem["field"], problem["message"])
    return loaded, errors, raw
