"""Reading an uploaded CSV or XLSX for import, with every size capped before and while it is parsed.

An upload is untrusted: a 1 MB XLSX can declare (or really hold) shared strings that inflate to
gigabytes, a sheet's dimension can claim 16,384 columns by a million rows, a CSV can be one endless
line. Each limit below is checked as the bytes are read, and the first one crossed refuses the
file with a 4xx naming it, before the worker spends real memory or CPU on it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from crm.sheet_scan import SheetBudget, SheetCaps, SheetDamaged, SheetFormula, SheetOverLimit, scan_sheet
from store.errors import InvalidData, TooLarge
from store.messages import Message

MAX_IMPORT_ROWS = 5000  # data rows (the header not counted)
MAX_SCANNED_ROWS = 50_000  # rows read at all, blank ones included (a sheet padded with empty rows)
MAX_FILE_BYTES = 5 * 2**20  # the upload itself
MAX_COLUMNS = 100
MAX_CELL_CHARS = 10_000
MAX_CELLS = 200_000  # non-empty cells
MAX_CSV_LINE_CHARS = 256 * 1024  # one physical line of a CSV
MAX_ZIP_MEMBERS = 300
MAX_PART_BYTES = 16 * 2**20  # one decompressed part (zip member) of an XLSX
MAX_SHARED_STRINGS_BYTES = 8 * 2**20  # openpyxl holds every shared string in memory at once
MAX_TOTAL_BYTES = 48 * 2**20  # all parts together, decompressed
MAX_RATIO = 200  # decompressed / compressed, for parts of more than RATIO_FLOOR bytes
RATIO_FLOOR = 2**20
_CHUNK = 64 * 1024
_FORBIDDEN_XML = (b"<!doctype", b"<!entity")
_SHEET_CAPS = SheetCaps(rows=MAX_SCANNED_ROWS, cell_chars=MAX_CELL_CHARS)
MAX_SHEET_ELEMENTS = 3_000_000  # XML elements in all sheet parts together (each costs openpyxl a parse)
# C0 controls other than tab, LF and CR, and lone surrogates: no field of oaflow holds them (PostgreSQL
# text cannot hold a NUL at all)
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def refuse(limit: str, message: str) -> InvalidData:
    """The 422 for a file over `limit` (the problem names the field `file` and the limit); `message` says
    where, as a `Message` where the words are ours (pages show it in the reader's language)."""
    return InvalidData(Message("the file is refused: {reason}", reason=message),
                       errors=[{"field": "file", "limit": limit, "message": message}])


def _unreadable(reason: Message) -> InvalidData:
    """The 422 for an XLSX that cannot be read; `reason` says why."""
    return InvalidData(Message("the XLSX cannot be read"), errors=[{"field": "file", "message": reason}])


def read_table(filename: str, data: bytes) -> list[dict[str, str]]:
    """The rows of an uploaded CSV or XLSX as dicts keyed by lower-cased header (4xx if unreadable or
    over a limit). Rows are streamed: reading stops at the first limit crossed."""
    if len(data) > MAX_FILE_BYTES:
        raise TooLarge(Message("an import file may be at most {n} MB", n=MAX_FILE_BYTES // 2**20),
                       errors=[{"field": "file", "limit": "file_bytes",
                                "message": Message("larger than {n} MB", n=MAX_FILE_BYTES // 2**20)}])
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return _to_dicts(_xlsx_rows(data))
    if name.endswith((".csv", ".txt")):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:  # Excel's "CSV" on Chinese Windows writes the ANSI code page: GBK (a subset of GB 18030)
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                raise InvalidData(Message("the CSV is neither UTF-8 nor GB 18030 (GBK) text"), errors=[
                    {"field": "file", "message": Message("save it as CSV UTF-8 or as XLSX")}]) from None
        return _to_dicts(_csv_rows(text))
    raise InvalidData(Message("upload a .csv or .xlsx file"),
                      errors=[{"field": "file", "message": Message("not .csv or .xlsx")}])


def _to_dicts(rows: Iterable[list[Any]]) -> list[dict[str, str]]:
    """Header + data rows as dicts, enforcing the row, column, cell and cell-length limits as rows arrive."""
    header: list[str] | None = None
    out: list[dict[str, str]] = []
    cells = 0
    for scanned, raw in enumerate(rows, start=1):
        if scanned > MAX_SCANNED_ROWS:
            raise refuse("rows", Message("more than {n} rows (blank ones included)", n=MAX_SCANNED_ROWS))
        values = ["" if v is None else str(v).strip() for v in raw]
        while values and not values[-1]:
            values.pop()
        if not values:
            continue
        if len(values) > MAX_COLUMNS:
            raise refuse("columns", Message("more than {n} columns (row {row})", n=MAX_COLUMNS, row=scanned))
        if any(len(v) > MAX_CELL_CHARS for v in values):
            raise refuse("cell_chars", Message("a cell longer than {n} characters (row {row})", n=MAX_CELL_CHARS,
                                                 row=scanned))
        cells += sum(1 for v in values if v)
        if cells > MAX_CELLS:
            raise refuse("cells", Message("more than {n} cells", n=MAX_CELLS))
        _check_characters(values, scanned, header)
        if header is None:
            header = [h.lower() for h in values]
            continue
        if len(out) >= MAX_IMPORT_ROWS:
            raise InvalidData(Message("at most {n} rows per import", n=MAX_IMPORT_ROWS),
                              errors=[{"field": "file", "limit": "rows",
                                       "message": Message("more than {n} rows", n=MAX_IMPORT_ROWS)}])
        out.append({h: (values[i] if i < len(values) else "") for i, h in enumerate(header) if h})
    if header is None:
        raise InvalidData(Message("the file is empty"), errors=[{"field": "file", "message": Message("no header row")}])
    return out


def _check_characters(values: list[str], row: int, header: list[str] | None) -> None:
    """422 naming the row and column of the first cell holding a control character or a lone surrogate."""
    for j, value in enumerate(values):
        found = _FORBIDDEN_CHARS.search(value)
        if found:
            column = header[j] if header and j < len(header) and header[j] else f"column {j + 1}"
            code = f"U+{ord(found.group()):04X}"
            message = Message("row {row}, {column}: contains a control character or lone surrogate ({code})",
                              row=row, column=column[:100], code=code)
            raise InvalidData(Message("the file is refused: {reason}", reason=message),
                              errors=[{"row": row, "column": j + 1, "field": column[:100], "message": message}])


# ------------------------------------------------------------------ CSV
def _bounded_lines(text: str) -> Iterator[str]:
    for line in io.StringIO(text, newline=""):
        if len(line) > MAX_CSV_LINE_CHARS:
            raise refuse("line_chars", Message("a line longer than {n} characters", n=MAX_CSV_LINE_CHARS))
        yield line


def _csv_rows(text: str) -> Iterator[list[str]]:
    """CSV rows, one physical line at a time (a quoted field spanning lines is capped by the csv module)."""
    reader = csv.reader(_bounded_lines(text))
    try:
        yield from reader
    except csv.Error as err:  # an over-long quoted field, a NUL byte, an unterminated quote
        raise refuse("csv", f"not a readable CSV (line {reader.line_num}): {err}") from None


# ------------------------------------------------------------------ XLSX
def _check_zip(data: bytes) -> zipfile.ZipFile:
    """The XLSX as a zip whose members are few, each within its declared and actual size and ratio caps."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _unreadable(Message("not a valid XLSX")) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise refuse("zip_members", Message("more than {n} parts in the XLSX", n=MAX_ZIP_MEMBERS))
    total = 0
    for info in members:
        _check_declared(info)
        total += _check_actual(archive, info)
        if total > MAX_TOTAL_BYTES:
            raise refuse("total_bytes", Message("the XLSX expands to more than {n} MB", n=MAX_TOTAL_BYTES // 2**20))
    return archive


def _part_cap(info: zipfile.ZipInfo) -> int:
    return MAX_SHARED_STRINGS_BYTES if info.filename.lower().endswith("sharedstrings.xml") else MAX_PART_BYTES


def _too_big(info: zipfile.ZipInfo) -> InvalidData:
    return refuse("part_bytes", f"part {info.filename[:100]} expands to more than {_part_cap(info) // 2**20} MB")


_XLSX_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what Excel and every XLSX writer use


def _check_declared(info: zipfile.ZipInfo) -> None:
    if info.compress_type not in _XLSX_COMPRESSION:  # bzip2, lzma or a method zipfile cannot read at all
        raise _unreadable(Message("a part is compressed in a way XLSX files are not"))
    if info.file_size > _part_cap(info):
        raise _too_big(info)
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
        raise refuse("compression_ratio", f"part {info.filename[:100]} is compressed more than {MAX_RATIO}:1")


def _check_actual(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Decompress one member in chunks (never more than the cap, whatever its header says); its real size.
    XML parts may not carry a DOCTYPE or entity declarations."""
    size = 0
    tail = b""
    is_xml = info.filename.endswith((".xml", ".rels"))
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                size += len(chunk)
                if size > _part_cap(info):
                    raise _too_big(info)
                if size > RATIO_FLOOR and size > MAX_RATIO * max(1, info.compress_size):
                    raise refuse("compression_ratio",
                                 f"part {info.filename[:100]} is compressed more than {MAX_RATIO}:1")
                if is_xml:
                    window = (tail + chunk).lower()
                    if any(marker in window for marker in _FORBIDDEN_XML):
                        raise refuse("xml", f"part {info.filename[:100]} declares a DOCTYPE or entities")
                    tail = window[-16:]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError):
        raise _unreadable(Message("a damaged part")) from None
    return size


def _xlsx_rows(data: bytes) -> Iterator[tuple[Any, ...]]:
    """The first sheet's rows, streamed (openpyxl read-only), never wider than MAX_COLUMNS + 1 cells and
    never past MAX_SCANNED_ROWS + 1 rows, whatever the sheet's dimension claims. Every sheet part is
    scanned (constant memory) before openpyxl touches it: loading a workbook read-only already parses
    each sheet to find its dimension."""
    from openpyxl.reader.excel import ExcelReader
    archive = _check_zip(data)
    archive.close()
    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_workbook()
        parts = [rel.target for _sheet, rel in reader.parser.find_sheets()
                 if rel.target in reader.valid_files and "chartsheet" not in rel.Type]
    except Exception:  # openpyxl raises many kinds for a broken file
        raise _unreadable(Message("not a valid XLSX")) from None
    try:
        _scan_sheets(reader.archive, parts)
        try:
            reader.read()
        except Exception:
            raise _unreadable(Message("not a valid XLSX")) from None
        wb = reader.wb
        if not wb.worksheets:
            raise InvalidData(Message("the XLSX has no sheet"),
                              errors=[{"field": "file", "message": Message("no sheet")}])
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # do not trust (or pad rows to) the sheet's own claim of its size
        try:
            yield from ws.iter_rows(max_col=MAX_COLUMNS + 1, max_row=MAX_SCANNED_ROWS + 1, values_only=True)
        except InvalidData:
            raise
        except Exception:  # a damaged sheet
            raise _unreadable(Message("a damaged sheet")) from None
    finally:
        reader.archive.close()


def _scan_sheets(archive: zipfile.ZipFile, parts: list[str]) -> None:
    """Stream each sheet part through the constant-memory scan (one element budget for them all), so a
    sheet of millions of empty cells is refused before openpyxl parses it."""
    budget = SheetBudget(MAX_SHEET_ELEMENTS)
    try:
        for i, name in enumerate(parts):
            with archive.open(name) as part:
                scan_sheet(part, _SHEET_CAPS, budget, formulas=i > 0)  # the first sheet is the one imported
    except SheetOverLimit as err:
        raise refuse(err.limit, err.message) from None
    except SheetFormula as err:
        message = Message("cell {cell}: formulas are not accepted (paste the values)", cell=err.cell[:20] or "?")
        raise InvalidData(Message("the file is refused: {reason}", reason=message),
                          errors=[{"field": "file", "cell": err.cell[:20], "message": message}]) from None
    except (SheetDamaged, zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError):
        raise _unreadable(Message("a damaged sheet")) from None
