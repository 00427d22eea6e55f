"""Tables in and out: CSV and XLSX export of any list, and reading an uploaded CSV/XLSX for import."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from store.errors import InvalidData

MAX_IMPORT_ROWS = 5000
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


def read_table(filename: str, data: bytes) -> list[dict[str, str]]:
    """The rows of an uploaded CSV or XLSX as dicts keyed by lower-cased header (422 if unreadable)."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        rows = _read_xlsx(data)
    elif name.endswith(".csv") or name.endswith(".txt"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidData("the CSV is not UTF-8", errors=[{"field": "file", "message": "not UTF-8"}]) from None
        rows = list(csv.reader(io.StringIO(text)))
    else:
        raise InvalidData("upload a .csv or .xlsx file", errors=[{"field": "file", "message": "not .csv or .xlsx"}])
    rows = [r for r in rows if any(str(c or "").strip() for c in r)]
    if not rows:
        raise InvalidData("the file is empty", errors=[{"field": "file", "message": "no header row"}])
    header = [str(h or "").strip().lower() for h in rows[0]]
    if len(rows) - 1 > MAX_IMPORT_ROWS:
        raise InvalidData(f"at most {MAX_IMPORT_ROWS} rows per import",
                          errors=[{"field": "file", "message": f"more than {MAX_IMPORT_ROWS} rows"}])
    out = []
    for raw in rows[1:]:
        out.append({h: ("" if i >= len(raw) or raw[i] is None else str(raw[i]).strip())
                    for i, h in enumerate(header) if h})
    return out


def _read_xlsx(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken file
        raise InvalidData("the XLSX cannot be read", errors=[{"field": "file", "message": "not a valid XLSX"}]) \
            from None
    ws = wb.worksheets[0]
    rows = []
    for i, row in enumerate(ws.iter_rows(values_only=True)):
        if i > MAX_IMPORT_ROWS + 1:
            break
        rows.append(list(row))
    wb.close()
    return rows
