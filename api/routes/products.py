"""The product catalogue: list/export for every user, create, change and import for administrators."""

from __future__ import annotations

from flask import Blueprint, request
from marshmallow import fields, validate

from api.auth import current_user, login_required, require_roles
from api.extensions import db
from api.http import json_body, query_args
from api.routes._crm_common import ListArgs, done, list_response
from api.schemas import Strict
from crm import products as svc
from crm.importer import any_rows
from crm.tabular import read_table
from engine.runtime import begin_write
from store.errors import InvalidData

bp = Blueprint("products", __name__)
COLUMNS = ("id", "code", "name", "unit", "category", "list_price", "active", "created_at")
MAX_PRICE = svc.MAX_LIST_PRICE  # the one cap of crm.products (API, web form and imports)


class ProductIn(Strict):
    code = fields.String(required=True, validate=validate.Length(min=1, max=50))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    unit = fields.String(validate=validate.Length(min=1, max=20))
    category = fields.String(allow_none=True, validate=validate.Length(max=100))
    list_price = fields.Decimal(required=True, validate=validate.Range(min=0, max=MAX_PRICE))
    active = fields.Boolean()


class ProductPatch(ProductIn):
    code = fields.String(validate=validate.Length(min=1, max=50))
    name = fields.String(validate=validate.Length(min=1, max=200))
    list_price = fields.Decimal(validate=validate.Range(min=0, max=MAX_PRICE))


class ProductListArgs(ListArgs):
    category = fields.String(validate=validate.Length(max=100))
    active = fields.Boolean()
    q = fields.String(validate=validate.Length(max=200))


@bp.get("/products")
@login_required
def list_products():  # noqa: ANN201
    """The catalogue (`?active=true`, `?category=`, `?q=`), as JSON pages or `?format=csv|xlsx`."""
    args = query_args(ProductListArgs)
    return list_response("products", svc.list_query(args), args, svc.product_dict, COLUMNS)


@bp.post("/products")
@login_required
def create():  # noqa: ANN201
    """Add a product (administrators); 409 naming `code` if it exists."""
    require_roles("admin")
    body = json_body(ProductIn)
    begin_write(db.session)  # SQLite: take the write lock up front (a read cannot be upgraded)
    return done(svc.product_dict(svc.create_product(db.session, current_user().username, body)), 201)


create.openapi_body = ProductIn


@bp.get("/products/<int:product_id>")
@login_required
def get_one(product_id: int) -> dict:
    """One product."""
    return svc.product_dict(svc.get_product(db.session, product_id))


@bp.patch("/products/<int:product_id>")
@login_required
def update(product_id: int):  # noqa: ANN201
    """Change a product (administrators; audited)."""
    require_roles("admin")
    body = json_body(ProductPatch)
    begin_write(db.session)  # SQLite: take the write lock up front (a read cannot be upgraded)
    return done(svc.product_dict(svc.update_product(db.session, current_user().username, product_id, body)))


update.openapi_body = ProductPatch


@bp.post("/products/import")
@login_required
def import_file():  # noqa: ANN201
    """Import products from a CSV/XLSX part named `file` (administrators); all rows or none."""
    require_roles("admin")
    upload = request.files.get("file")
    if upload is None:
        raise InvalidData("send the file as a multipart part named 'file'",
                          errors=[{"field": "file", "message": "missing"}])
    rows = read_table(upload.filename or "", upload.read())
    any_rows(rows)
    begin_write(db.session)
    created = svc.import_products(db.session, current_user().username, rows)
    return done({"imported": len(created), "ids": [p.id for p in created]}, 201)
