"""Hostile import files (a shared-strings bomb, a sheet 16,384 columns wide, endless CSVs) are refused with a
4xx naming the limit, and reading them keeps a worker's memory bounded (measured in a subprocess)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from api.config import ROOT
from crm.models import Customer
from tests.crm.conftest import C
from tests.faults.conftest import count_rows

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
MB = 2**20


def _workbook(*rows: list) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _replace_part(xlsx: bytes, name: str, chunks) -> bytes:  # noqa: ANN001
    """The workbook with part `name` replaced by the streamed `chunks` (deflated, zip64 if it needs it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info.filename, src.read(info.filename))
        with dst.open(name, "w", force_zip64=True) as part:
            for chunk in chunks:
                part.write(chunk)
    return out.getvalue()


def shared_strings_bomb(megabytes: int = 512) -> bytes:
    """A ~1 MB XLSX whose sharedStrings.xml inflates to `megabytes` of one-letter strings."""
    base = _workbook(["name"], ["Acme"])
    si = b"<si><t>a</t></si>" * (MB // 17)

    def chunks():  # noqa: ANN202
        yield f'<?xml version="1.0" encoding="UTF-8"?><sst {NS}>'.encode()
        for _ in range(megabytes):
            yield si
        yield b"</sst>"
    return _replace_part(base, "xl/sharedStrings.xml", chunks())


def wide_sheet(columns: int = 16384) -> bytes:
    """A sheet whose header row is `columns` cells wide (column XFD is the last Excel has)."""
    return _workbook([f"c{i}" for i in range(columns)], ["Acme"])


def dimension_claim() -> bytes:
    """A narrow sheet (two cells) whose <dimension> claims A1:XFD1048576: read-only openpyxl pads to it."""
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><dimension ref="A1:XFD1048576"/><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'
             '<row r="2"><c r="A2" t="inlineStr"><is><t>Claimed Co</t></is></c></row>'
             '</sheetData></worksheet>').encode()
    return _replace_part(_workbook(["x"]), "xl/worksheets/sheet1.xml", [sheet])


CSV_LINE = b"name\n" + b"a," * MB + b"\n"
CSV_ROWS = b"name\n" + b"".join(f"Co {i}\n".encode() for i in range(5001))
CSV_COLUMNS = b",".join(f"c{i}".encode() for i in range(101)) + b"\nAcme\n"
CSV_FIELD = b'name\n"' + (b"x" * 100 + b"\n") * 20_000 + b'"\n'  # one 2 MB quoted field over short lines
CSV_CELL = b"name\n" + b"x" * 20_000 + b"\n"


def _upload(api, name: str, content: bytes):  # noqa: ANN001, ANN202
    return api.client.post(f"{C}/import", data={"file": (io.BytesIO(content), name)},
                           headers=api.headers("alice"), content_type="multipart/form-data")


def _limit_of(resp) -> str:  # noqa: ANN001
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == "application/problem+json"
    (error,) = resp.get_json()["errors"]
    assert error["field"] == "file"
    return error["limit"]


@pytest.mark.parametrize(("name", "build", "limit"), [
    ("bomb.xlsx", shared_strings_bomb, "part_bytes"),
    ("wide.xlsx", wide_sheet, "columns"),
    ("line.csv", lambda: CSV_LINE, "line_chars"),
    ("rows.csv", lambda: CSV_ROWS, "rows"),
    ("columns.csv", lambda: CSV_COLUMNS, "columns"),
    ("field.csv", lambda: CSV_FIELD, "csv"),
    ("cell.csv", lambda: CSV_CELL, "cell_chars"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_hostile_import_is_refused_naming_the_limit(api, app, name: str, build, limit: str) -> None:  # noqa: ANN001
    assert _limit_of(_upload(api, name, build())) == limit
    assert count_rows(app, Customer) == 0


def test_a_sheet_that_only_claims_to_be_huge_imports_its_real_rows(api, app) -> None:  # noqa: ANN001
    resp = _upload(api, "claim.xlsx", dimension_claim())
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["imported"] == 1


def test_a_part_whose_real_size_exceeds_the_cap_is_refused_whatever_it_declares(api) -> None:  # noqa: ANN001
    """The central directory says 1 KB; zipfile never inflates past what a header says, and the CRC then
    fails: refused as a damaged file, after at most the declared bytes."""
    data = bytearray(shared_strings_bomb(64))
    name = b"xl/sharedStrings.xml"
    entry = data.rfind(name) - 46  # the central directory entry: 46 fixed bytes, then the name
    assert data[entry:entry + 4] == b"PK\x01\x02"
    assert int.from_bytes(data[entry + 24:entry + 28], "little") > 60 * MB
    data[entry + 24:entry + 28] = (1024).to_bytes(4, "little")  # uncompressed size
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        assert archive.getinfo("xl/sharedStrings.xml").file_size == 1024
    resp = _upload(api, "liar.xlsx", bytes(data))
    assert 400 <= resp.status_code < 500 and resp.get_json()["errors"][0]["field"] == "file"


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, 99])
def test_a_part_compressed_as_no_xlsx_is_refused_before_reading(api, method: int) -> None:  # noqa: ANN001
    """bzip2 and lzma (or a method zipfile cannot read at all, 99): never inflated, a 422 naming the file."""
    book = io.BytesIO()
    Workbook().save(book)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), compress_type=zipfile.ZIP_DEFLATED)
    data = bytearray(out.getvalue())
    if method == 99:  # patch the method field of every header to one no library implements
        for sig, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
            at = data.find(sig)
            while at >= 0:
                data[at + offset:at + offset + 2] = (99).to_bytes(2, "little")
                at = data.find(sig, at + 4)
    else:
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(book.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
            for info in src.infolist():
                dst.writestr(info.filename, src.read(info), compress_type=method)
        data = bytearray(out.getvalue())
    resp = _upload(api, "odd.xlsx", bytes(data))
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["errors"][0] == {"field": "file",
                                            "message": "a part is compressed in a way XLSX files are not"}


def test_an_upload_over_the_file_cap_is_413(api) -> None:  # noqa: ANN001
    resp = _upload(api, "big.csv", b"name\n" + b"Acme\n" * (MB + 1000))
    assert resp.status_code == 413 and _limit_of(resp) == "file_bytes"


_CHILD = """
import resource, sys
from crm.table_reader import read_table
from store.errors import DomainError
name, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
try:
    read_table(name, data)
    print("accepted")
except DomainError as err:
    print(err.errors[0].get("limit", err.errors[0]["message"]))
"""


def _peak_rss_mb(tmp_path: Path, name: str, data: bytes) -> tuple[str, float]:
    """Read one file in a fresh interpreter: (its answer, that process's peak RSS in MB) via wait4."""
    path = tmp_path / name
    path.write_bytes(data)
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, name, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = proc.stdout.read().decode().strip()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, out
    return out, usage.ru_maxrss / 1024


def test_reading_hostile_files_keeps_memory_bounded(tmp_path: Path) -> None:
    baseline_answer, baseline = _peak_rss_mb(tmp_path, "ok.xlsx", _workbook(["name"], ["Acme"]))
    assert baseline_answer == "accepted"
    for name, data, limit in [("bomb.xlsx", shared_strings_bomb(), "part_bytes"),
                              ("wide.xlsx", wide_sheet(), "columns"),
                              ("claim.xlsx", dimension_claim(), "accepted"),
                              ("line.csv", CSV_LINE, "line_chars"),
                              ("rows.csv", CSV_ROWS, "rows")]:
        answer, peak = _peak_rss_mb(tmp_path, name, data)
        assert answer == limit, name
        # the file itself is a few MB; a reader that inflated the part would need hundreds
        assert peak - baseline < 60, (name, peak, baseline)
