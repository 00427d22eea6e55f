"""Camunda typed variables (`{"value": ..., "type": "String|Integer|Long|Double|Boolean|Json|Date|Null"}`) to and
from the engine's plain JSON values.

The engine keeps plain JSON, which cannot tell a Long 5 from an Integer 5 or a Date from a string: the declared
type of such a variable is kept beside it (engine.models.VariableType, :func:`remember_types`) and used when the
variable goes out again while its value still fits that type."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select

from api.camunda.shapes import camunda_date
from api.errors import ApiError
from api.extensions import db
from engine.models import VariableType

MAX_VARIABLES = 200
MAX_NAME = 255
MAX_JSON_DEPTH = 10  # a Json value's nesting (the variables map adds one level: forms.validation.MAX_DEPTH is 12)
MAX_JSON_CHARS = 256 * 1024
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


def _bad(field: str, message: str) -> ApiError:
    return ApiError(400, "InvalidRequestException", f"{field}: {message}", [{"field": field, "message": message}])


def _int(value: Any, field: str, bounds: tuple[int, int], kind: str) -> int:
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise _bad(field, f"cannot convert value '{value[:50]}' of type '{kind}'") from None
    if isinstance(value, bool) or not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
        raise _bad(field, f"cannot convert value of type '{kind}'")
    return value


def _date(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) > 40:
        raise _bad(field, "a Date is a string like 2013-06-30T21:33:31.000+0200")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.strptime(value, DATE_FORMAT)
        except ValueError:
            raise _bad(field, f"cannot convert value '{value}' of type 'Date'") from None
    return parsed.isoformat()


def json_depth(value: Any, limit: int) -> int:
    """The nesting depth of a JSON value, counted without recursion and no further than `limit` + 1."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list) and level <= limit:
            deepest = max(deepest, level + 1)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _json(value: Any, where: str) -> Any:
    """A Json variable's value, parsed from its text when it is one, within the depth and size caps."""
    too_deep = f"a Json value may nest at most {MAX_JSON_DEPTH} levels"
    if isinstance(value, str):
        if len(value) > MAX_JSON_CHARS:
            raise _bad(where, f"a Json value is at most {MAX_JSON_CHARS} characters")
        try:
            value = json.loads(value)
        except RecursionError:
            raise _bad(where, too_deep) from None
        except ValueError:
            raise _bad(where, "the value of a Json variable is a JSON text") from None
    if json_depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise _bad(where, too_deep)
    if len(json.dumps(value, ensure_ascii=False, default=str)) > MAX_JSON_CHARS:
        raise _bad(where, f"a Json value is at most {MAX_JSON_CHARS} characters")
    return value


def from_typed(name: str, typed: Any, field: str = "variables") -> Any:
    """The plain value of one Camunda typed variable (400 naming the variable if it does not fit its type)."""
    where = f"{field}.{name}"
    if not isinstance(typed, dict):
        raise _bad(where, "a variable is an object {value, type}")
    value, kind = typed.get("value"), typed.get("type")
    if kind is None:
        return _json(value, where) if isinstance(value, dict | list) else value
    if not isinstance(kind, str):
        raise _bad(f"{where}.type", "must be a string")
    kind = kind[:1].upper() + kind[1:]
    if kind == "Null" or value is None:
        return None
    if kind == "String":
        if not isinstance(value, str):
            raise _bad(where, "cannot convert value to type 'String'")
        return value
    if kind in ("Integer", "Short"):
        return _int(value, where, _INT32, kind)
    if kind == "Long":
        return _int(value, where, _INT64, kind)
    if kind == "Double":
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise _bad(where, "cannot convert value to type 'Double'") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(where, "cannot convert value to type 'Double'")
        return float(value)
    if kind == "Boolean":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise _bad(where, "cannot convert value to type 'Boolean'")
        return value
    if kind == "Json":
        return _json(value, where)
    if kind == "Date":
        return _date(value, where)
    raise _bad(f"{where}.type", f"unsupported value type '{kind}'")


def variables_in(raw: Any, field: str = "variables") -> dict:
    """A Camunda variables map as plain engine values (400 for a bad shape, too many or too long names)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad(field, "must be an object of name -> {value, type}")
    if len(raw) > MAX_VARIABLES:
        raise _bad(field, f"at most {MAX_VARIABLES} variables")
    out = {}
    for name, typed in raw.items():
        if not name or len(name) > MAX_NAME:
            raise _bad(field, f"a variable name is 1 to {MAX_NAME} characters")
        out[name] = from_typed(name, typed, field)
    return out


KEPT_TYPES = ("Long", "Short", "Date")  # the declared types plain JSON loses


def declared_types(raw: Any) -> dict[str, str | None]:
    """Name -> the declared type to keep (Long, Short, Date) or None (forget it), of a Camunda variables map
    that :func:`variables_in` accepted."""
    if not isinstance(raw, dict):
        return {}
    out: dict[str, str | None] = {}
    for name, typed in raw.items():
        kind = typed.get("type") if isinstance(typed, dict) else None
        kind = kind[:1].upper() + kind[1:] if isinstance(kind, str) else None
        out[name] = kind if kind in KEPT_TYPES and typed.get("value") is not None else None
    return out


def remember_types(instance_id: int | None, raw: Any) -> None:
    """Keep the declared types of the variables in `raw` for the instance (committed; after the command)."""
    types = declared_types(raw)
    if instance_id is None or not types:
        return
    table = VariableType.__table__
    db.session.execute(delete(table).where(table.c.instance_id == instance_id, table.c.name.in_(sorted(types))))
    kept = [{"instance_id": instance_id, "name": n, "type": t} for n, t in types.items() if t is not None]
    if kept:
        db.session.execute(insert(table), kept)
    db.session.commit()


def types_of(instance_id: int | None) -> dict[str, str]:
    """The kept declared types of an instance's variables."""
    if instance_id is None:
        return {}
    return dict(db.session.execute(select(VariableType.name, VariableType.type)
                                   .where(VariableType.instance_id == instance_id)).all())


def _as_declared(value: Any, declared: str | None) -> dict | None:
    """`value` typed as `declared` if it still fits (a script may have changed it since), else None."""
    if declared in ("Long", "Short") and isinstance(value, int) and not isinstance(value, bool):
        bounds = _INT64 if declared == "Long" else (-(2**15), 2**15 - 1)
        if bounds[0] <= value <= bounds[1]:
            return {"value": value, "type": declared, "valueInfo": {}}
    if declared == "Date" and isinstance(value, str) and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return {"value": camunda_date(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)), "type": "Date",
                "valueInfo": {}}
    return None


def to_typed(value: Any, declared: str | None = None) -> dict:
    """One plain value as a Camunda typed variable (as `declared` when it was declared so and still fits)."""
    kept = _as_declared(value, declared) if declared else None
    if kept is not None:
        return kept
    if value is None:
        return {"value": None, "type": "Null", "valueInfo": {}}
    if isinstance(value, bool):
        return {"value": value, "type": "Boolean", "valueInfo": {}}
    if isinstance(value, int):
        kind = "Integer" if _INT32[0] <= value <= _INT32[1] else "Long"
        return {"value": value, "type": kind, "valueInfo": {}}
    if isinstance(value, float):
        return {"value": value, "type": "Double", "valueInfo": {}}
    if isinstance(value, str):
        return {"value": value, "type": "String", "valueInfo": {}}
    return {"value": json.dumps(value, ensure_ascii=False), "type": "Json", "valueInfo": {}}


def variables_out(values: dict, types: Mapping[str, str] | None = None) -> dict:
    """Plain engine values as a Camunda variables map (`types`: the kept declared types, see types_of)."""
    types = types or {}
    return {name: to_typed(v, types.get(name)) for name, v in values.items() if not name.startswith("_")}
