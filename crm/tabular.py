"""Tables in and out: CSV and XLSX export of any list; reading an upload for import is crm.table_reader."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from crm.table_reader import read_table as read_table  # reading uploads, with every size capped

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A value safe to put in a spreadsheet (no formula injection in text)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if isinstance(value, list | dict):
        return str(value)
    return value


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheet programs read it as UTF-8) of `rows` under `columns`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _cell(row.get(c)) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(columns: Sequence[str], rows: Iterable[dict[str, Any]], title: str = "export") -> bytes:
    """An XLSX workbook with one sheet of `rows` under `columns`."""
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31] or "export")
    ws.append(list(columns))
    for row in rows:
        ws.append([_cell(row.get(c)) for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
