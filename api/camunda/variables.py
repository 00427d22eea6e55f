"""Camunda typed variables (`{"value": ..., "type": "String|Integer|Long|Double|Boolean|Json|Date|Null"}`) to and
from the engine's plain JSON values."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from api.errors import ApiError

MAX_VARIABLES = 200
MAX_NAME = 255
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


def from_typed(name: str, typed: Any, field: str = "variables") -> Any:
    """The plain value of one Camunda typed variable (400 naming the variable if it does not fit its type)."""
    where = f"{field}.{name}"
    if not isinstance(typed, dict):
        raise _bad(where, "a variable is an object {value, type}")
    value, kind = typed.get("value"), typed.get("type")
    if kind is None:
        return value
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
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise _bad(where, "the value of a Json variable is a JSON text") from None
        return value
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


def to_typed(value: Any) -> dict:
    """One plain value as a Camunda typed variable."""
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


def variables_out(values: dict) -> dict:
    """Plain engine values as a Camunda variables map."""
    return {name: to_typed(v) for name, v in values.items() if not name.startswith("_")}
