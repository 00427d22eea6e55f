"""Product pages: the catalogue with search and a CSV/XLSX export (everyone in sales), and create/edit for
administrators (403 for anyone else). Thin views over crm.products, as POST/PATCH /api/v1/products."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, fields, validate

from api.extensions import db
from api.http import query_args
from api.routes._crm_common import MAX_EXPORT_ROWS, table_response
from api.routes.products import COLUMNS, MAX_PRICE
from api.web.blueprint import bp
from api.web.common.error_text import error_text
from api.web.common.forms import load_form
from api.web.common.session import user
from crm import products as products_svc
from crm.models import Product
from store.errors import DomainError, Forbidden

PER_PAGE = 50


class ProductSearch(Schema):
    """Query arguments of the product list."""

    class Meta:
        unknown = RAISE

    q = fields.String(validate=validate.Length(max=200))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


class ExportArgs(ProductSearch):
    """Query arguments of the export."""

    format = fields.String(required=True, validate=validate.OneOf(("csv", "xlsx")))


class ProductForm(Schema):
    """The product form (administrators)."""

    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Length(min=1, max=50))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    unit = fields.String(validate=validate.Length(min=1, max=20))
    category = fields.String(validate=validate.Length(max=100))
    list_price = fields.Decimal(required=True, validate=validate.Range(min=0, max=MAX_PRICE))
    active = fields.Boolean()


def is_admin() -> bool:
    """Whether the logged-in user may change the catalogue."""
    return bool(user().has_role("admin"))


def _query(text: str | None) -> Any:
    return products_svc.list_query({"q": (text or "").strip() or None})


@bp.get("/products")
def products() -> str:
    """The catalogue, searched by code or name."""
    args = query_args(ProductSearch)
    query = _query(args.get("q"))
    rows = db.session.scalars(query.limit(PER_PAGE + 1).offset((args["page"] - 1) * PER_PAGE)).all()
    return render_template("crm/products.html", rows=rows[:PER_PAGE], more=len(rows) > PER_PAGE, args=args,
                           page=args["page"], can_edit=is_admin())


@bp.get("/products/export")
def export_products() -> Any:
    """The (searched) catalogue as CSV or XLSX, the same columns as GET /api/v1/products?format=."""
    args = query_args(ExportArgs)
    rows = [products_svc.product_dict(p) for p in db.session.scalars(_query(args.get("q")).limit(MAX_EXPORT_ROWS))]
    return table_response("products", COLUMNS, rows, args["format"])


def _form(product: Product | None, values: dict, errors: dict, status: int = 200) -> tuple[str, int]:
    return render_template("crm/product_form.html", p=product, values=values, errors=errors), status


def _values(p: Product) -> dict[str, str]:
    return {"code": p.code, "name": p.name, "unit": p.unit, "category": p.category or "",
            "list_price": str(p.list_price), "active": "true" if p.active else "false"}


def _require_admin() -> None:
    """403 as the site's HTML error page (not problem+json) for anyone but an administrator."""
    if not is_admin():
        raise Forbidden(_("Only administrators add or change products."))


@bp.get("/products/new")
def new_product() -> tuple[str, int]:
    """The form to add a product (administrators)."""
    _require_admin()
    return _form(None, {"unit": "pcs", "active": "true"}, {})


@bp.get("/products/<int:product_id>/edit")
def edit_product(product_id: int) -> tuple[str, int]:
    """The form to change a product (administrators)."""
    _require_admin()
    product = products_svc.get_product(db.session, product_id)
    return _form(product, _values(product), {})


@bp.post("/products/new")
@bp.post("/products/<int:product_id>/edit")
def save_product(product_id: int | None = None) -> Any:
    """Create or change a product; a taken code or a bad field is shown on the form."""
    _require_admin()
    product = products_svc.get_product(db.session, product_id) if product_id else None
    data, errors, raw = load_form(ProductForm())
    if errors:
        return _form(product, raw, errors, 422)
    try:
        if product is None:
            products_svc.create_product(db.session, user().username, data)
        else:
            products_svc.update_product(db.session, user().username, product.id, data)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        out = {str(e.get("field") or "_"): error_text(e.get("message") or err.detail)
               for e in err.errors or [] if isinstance(e, dict)} or {"_": error_text(err.detail)}
        return _form(product, raw, out, err.status if err.status < 500 else 422)
    flash(_("Product saved."), "ok")
    return redirect(url_for("web.products"))
