"""The company calendar: public holidays and make-up working days (admins only)."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields, validate

from api.auth import login_required, require_roles
from api.extensions import db
from api.http import json_body, query_args
from api.schemas import PageArgs, Strict
from engine.runtime import begin_write
from oa import holidays

bp = Blueprint("holidays", __name__)

_kind = validate.OneOf(holidays.KINDS)
_name = validate.Length(min=1, max=holidays.NAME_MAX)


class HolidayCreate(Strict):
    date = fields.Date(required=True)
    kind = fields.String(required=True, validate=_kind)
    name = fields.String(required=True, validate=_name)


class HolidayUpdate(Strict):
    date = fields.Date()
    kind = fields.String(validate=_kind)
    name = fields.String(validate=_name)


class HolidayListArgs(PageArgs):
    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None)


@bp.get("/holidays")
@login_required
def list_holidays() -> dict:
    """Calendar exceptions in date order (?from=&to= limit the dates)."""
    require_roles("admin")
    args = query_args(HolidayListArgs)
    rows, total = holidays.list_page(db.session, args["date_from"], args["date_to"], args["page"], args["per_page"])
    return {"items": [holidays.as_dict(r) for r in rows], "total": total, "page": args["page"],
            "per_page": args["per_page"]}


@bp.post("/holidays")
@login_required
def create_holiday() -> tuple[dict, int]:
    """Add a holiday (`kind` holiday) or a make-up working day (`kind` workday); 409 if the date has one."""
    require_roles("admin")
    body = json_body(HolidayCreate)
    begin_write(db.session)
    row = holidays.create(db.session, body["date"], body["kind"], body["name"])
    db.session.commit()
    return holidays.as_dict(row), 201


@bp.get("/holidays/<int:holiday_id>")
@login_required
def get_holiday(holiday_id: int) -> dict:
    """One calendar exception."""
    require_roles("admin")
    return holidays.as_dict(holidays.get(db.session, holiday_id))


@bp.patch("/holidays/<int:holiday_id>")
@login_required
def update_holiday(holiday_id: int) -> dict:
    """Change a calendar exception's date, kind or name."""
    require_roles("admin")
    body = json_body(HolidayUpdate)
    begin_write(db.session)
    row = holidays.update(db.session, holiday_id, body)
    db.session.commit()
    return holidays.as_dict(row)


@bp.delete("/holidays/<int:holiday_id>")
@login_required
def delete_holiday(holiday_id: int) -> tuple[str, int]:
    """Remove a calendar exception (the day follows the working week again)."""
    require_roles("admin")
    begin_write(db.session)
    holidays.delete(db.session, holiday_id)
    db.session.commit()
    return "", 204
