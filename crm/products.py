"""The product catalogue: code, name, unit, category, list price, active; CRUD (audited) and all-or-nothing
import of CSV/XLSX rows (read through crm.table_reader, with its caps)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from crm import audit
from crm.common import iso, money, num
from crm.models import Product
from store.base import utcnow
from store.errors import Conflict, InvalidData, NotFound

FIELDS = ("code", "name", "unit", "category", "list_price", "active")
LIMITS = {"code": 50, "name": 200, "unit": 20, "category": 100}
TRUE, FALSE = ("1", "true", "yes", "y", "是"), ("0", "false", "no", "n", "否")


def product_dict(p: Product) -> dict[str, Any]:
    """JSON shape of a product."""
    return {"id": p.id, "code": p.code, "name": p.name, "unit": p.unit, "category": p.category,
            "list_price": num(p.list_price), "active": p.active, "created_at": iso(p.created_at)}


def get_product(session: Session, product_id: int, *, field: str | None = None) -> Product:
    """The product (NotFound, or 422 naming `field` when it comes from a request body)."""
    product = session.get(Product, product_id) if isinstance(product_id, int) else None
    if product is None:
        if field:
            raise InvalidData(f"no product {product_id}", errors=[{"field": field, "message": "unknown product"}])
        raise NotFound(f"no product {product_id}")
    return product


def _code_taken(session: Session, code: str, exclude: int | None = None) -> bool:
    query = select(Product.id).where(func.lower(Product.code) == code.lower())
    if exclude is not None:
        query = query.where(Product.id != exclude)
    return session.scalar(query.limit(1)) is not None


def create_product(session: Session, user: str, data: dict[str, Any]) -> Product:
    """Add a product (409 naming `code` if another product has it, case-insensitively)."""
    code = data["code"].strip()
    if _code_taken(session, code):
        raise Conflict(f"product code {code} exists", errors=[{"field": "code", "message": "already exists"}])
    product = Product(code=code, name=data["name"].strip(), unit=(data.get("unit") or "pcs").strip(),
                      category=data.get("category"), list_price=money(data["list_price"], "list_price"),
                      active=data.get("active", True), created_at=utcnow())
    session.add(product)
    session.flush()
    audit.record(session, "product", product.id, user, "create",
                 {"code": (None, product.code), "list_price": (None, product.list_price)})
    return product


def update_product(session: Session, user: str, product_id: int, data: dict[str, Any]) -> Product:
    """Change a product (audited); the code stays unique."""
    product = get_product(session, product_id)
    if "code" in data:
        data["code"] = data["code"].strip()
        if _code_taken(session, data["code"], product.id):
            raise Conflict(f"product code {data['code']} exists",
                           errors=[{"field": "code", "message": "already exists"}])
    if "list_price" in data:
        data["list_price"] = money(data["list_price"], "list_price")
    changes = audit.apply_changes(product, {k: v for k, v in data.items() if k in FIELDS})
    if changes:
        audit.record(session, "product", product.id, user, "update", changes)
    session.flush()
    return product


def list_query(filters: dict[str, Any]) -> Select:
    """Products, filtered by category, active and a text `q` on code or name."""
    query = select(Product)
    if filters.get("category") is not None:
        query = query.where(Product.category == filters["category"])
    if filters.get("active") is not None:
        query = query.where(Product.active.is_(filters["active"]))
    if filters.get("q"):
        like = f"%{filters['q'].lower()}%"
        query = query.where(or_(func.lower(Product.code).like(like), func.lower(Product.name).like(like)))
    return query.order_by(Product.code, Product.id)


def _row_errors(row: dict[str, str], n: int, seen: dict[str, int]) -> list[dict]:
    errors = []
    for f in ("code", "name", "list_price"):
        if not row.get(f):
            errors.append({"row": n, "field": f, "message": "required"})
    for f, cap in LIMITS.items():
        if len(row.get(f, "")) > cap:
            errors.append({"row": n, "field": f, "message": f"longer than {cap} characters"})
    if row.get("list_price"):
        try:
            money(row["list_price"], "list_price")
        except InvalidData:
            errors.append({"row": n, "field": "list_price", "message": "not an amount below 10^12"})
    if row.get("active") and row["active"].strip().lower() not in TRUE + FALSE:
        errors.append({"row": n, "field": "active", "message": "true or false"})
    key = row.get("code", "").strip().lower()
    if key and key in seen:
        errors.append({"row": n, "field": "code", "message": f"repeats row {seen[key]}"})
    if key:
        seen.setdefault(key, n)
    return errors


def import_products(session: Session, user: str, rows: list[dict[str, str]]) -> list[Product]:
    """Create a product per row (columns code, name, unit, category, list_price, active), or none at all; row
    numbers in the report count the header as row 1."""
    errors: list[dict] = []
    seen: dict[str, int] = {}
    for n, row in enumerate(rows, start=2):
        errors += _row_errors(row, n, seen)
        code = row.get("code", "").strip()
        if code and len(code) <= LIMITS["code"] and _code_taken(session, code):
            errors.append({"row": n, "field": "code", "message": "already exists"})
    if errors:
        raise InvalidData(f"{len({e['row'] for e in errors})} of {len(rows)} rows have problems; nothing was "
                          "imported", errors=errors[:1000])
    return [create_product(session, user, {
        "code": row["code"], "name": row["name"], "unit": row.get("unit") or None,
        "category": row.get("category") or None, "list_price": Decimal(row["list_price"].strip()),
        "active": (row.get("active") or "true").strip().lower() in TRUE}) for row in rows]
