"""The worker protocol: length-prefixed JSON frames over pipes, and the JSON checks of values that
cross it. The parent never unpickles anything: the worker ran hostile code."""

from __future__ import annotations

import json
import os
import reprlib
import struct
from datetime import date, timedelta
from typing import Any

from .limits import MAX_FRAME_BYTES

MAX_MESSAGE_CHARS = 2_000
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 200
_SHORT_REPR.maxlong = 60


def safe_text(value: Any) -> str:
    """Bounded text of an error argument (or error) that hostile code built: a string is cut,
    anything else is shown with reprlib's limits (never the full repr of a huge nested value)."""
    if isinstance(value, BaseException):
        parts = [safe_text(a) for a in value.args[:3]]
        text = parts[0] if len(parts) == 1 else ", ".join(parts)
    elif isinstance(value, str):
        text = value
    else:
        try:
            text = _SHORT_REPR.repr(value)
        except Exception:  # noqa: BLE001 - a hostile object's repr may fail in any way
            text = f"<{type(value).__name__}>"
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "..."



def json_problem(value: Any, path: str, depth: int = 0) -> str | None:
    """None if ``value`` survives a JSON round trip unchanged (tuples aside), else what is wrong."""
    if depth > 100:
        return f"{path} is nested too deeply"
    if value is None or isinstance(value, bool | int | float | str):
        return None
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            problem = json_problem(item, f"{path}[{i}]", depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} has a key of type {type(key).__name__} ({key!r}); keys must be strings"
            problem = json_problem(item, f"{path}[{key!r}]", depth + 1)
            if problem:
                return problem
        return None
    hint = " (store dates as text, e.g. with .isoformat())" if isinstance(value, date | timedelta) else ""
    return f"{path} is a {type(value).__name__}, which cannot be stored as JSON{hint}"


def encode_frame(message: Any) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    return struct.pack(">I", len(body)) + body


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> Any:
    """Blocking read of one frame (worker side). None at end of input."""
    head = _read_exact(fd, 4)
    if head is None:
        return None
    (size,) = struct.unpack(">I", head)
    if size > MAX_FRAME_BYTES:
        raise ValueError("frame too large")
    body = _read_exact(fd, size)
    return None if body is None else json.loads(body)


def write_frame(fd: int, message: Any) -> None:
    """Blocking write of one frame."""
    _write_all(fd, encode_frame(message))


def _write_all(fd: int, data: bytes) -> None:
    while data:
        written = os.write(fd, data)
        data = data[written:]

