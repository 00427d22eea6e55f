"""The product catalogue: code, name, unit, category, list price, active; CRUD (audited) and all-or-nothing
import of CSV/XLSX rows (read through crm.table_reader, with its caps). One validator (`field_errors`) checks
the fields of the API, the web form and every imported row alike."""

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


MAX_LIST_PRICE = Decimal(10**9)


def _price_error(value: Any) -> str | None:
    if isinstance(value, bool):
        return "not an amount"
    try:
        price = money(value, "list_price")
    except InvalidData:
        return f"not an amount from 0 to {MAX_LIST_PRICE}"
    return f"not an amount from 0 to {MAX_LIST_PRICE}" if price > MAX_LIST_PRICE else None


def field_errors(data: dict[str, Any], *, partial: bool = False) -> list[dict[str, str]]:
    """What is wrong with product fields (code, name, unit, category, list_price, active): required ones (unless
    `partial`), lengths, the list price (0 to 10^9, cents) and `active` (a boolean, or true/false text)."""
    errors = []
    for f in ("code", "name", "list_price"):
        if not partial and (data.get(f) is None or str(data.get(f)).strip() == ""):
            errors.append({"field": f, "message": "required"})
    for f, cap in LIMITS.items():
        value = data.get(f)
        if value is not None and not isinstance(value, str):
            errors.append({"field": f, "message": "not text"})
        elif value is not None and len(value.strip()) > cap:
            errors.append({"field": f, "message": f"longer than {cap} characters"})
        elif partial and f in ("code", "name") and value is not None and not value.strip():
            errors.append({"field": f, "message": "required"})
    if data.get("list_price") not in (None, ""):
        message = _price_error(data["list_price"])
        if message:
            errors.append({"field": "list_price", "message": message})
    active = data.get("active")
    if active is not None and not isinstance(active, bool) and str(active).strip().lower() not in TRUE + FALSE:
        errors.append({"field": "active", "message": "true or false"})
    return errors


def _check(data: dict[str, Any], *, partial: bool = False) -> None:
    errors = field_errors(data, partial=partial)
    if errors:
        raise InvalidData(f"{errors[0]['field']}: {errors[0]['message']}", errors=errors)


def _code_taken(session: Session, code: str, exclude: int | None = None) -> bool:
    query = select(Product.id).where(func.lower(Product.code) == code.lower())
    if exclude is not None:
        query = query.where(Product.id != exclude)
    return session.scalar(query.limit(1)) is not None


def create_product(session: Session, user: str, data: dict[str, Any]) -> Product:
    """Add a product (422 naming the field at fault, 409 naming `code` if another product has it,
    case-insensitively)."""
    _check(data)
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
    _check(data, partial=True)
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
    values = {k: v for k, v in row.items() if k in FIELDS and v not in (None, "")}
    errors = [{"row": n, **e} for e in field_errors(values)]
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
