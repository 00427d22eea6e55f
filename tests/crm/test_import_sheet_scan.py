"""A sheet of millions of empty cells is refused naming its limit before openpyxl reads it (quickly, in
bounded memory), and an imported cell may not hold NUL or another control character."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from crm.models import Customer
from tests.crm.test_import_limits import NS, _limit_of, _peak_rss_mb, _replace_part, _upload, _workbook
from tests.faults.conftest import count_rows

_HEAD = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>'.encode()
_TAIL = b"</sheetData></worksheet>"


def _sheet(chunks) -> bytes:  # noqa: ANN001
    def parts():  # noqa: ANN202
        yield _HEAD
        yield from chunks
        yield _TAIL
    return _replace_part(_workbook(["x"]), "xl/worksheets/sheet1.xml", parts())


def _empty_cells(n: int = 100_000, seed: int = 12) -> bytes:
    """`n` empty cells, a few spelled `<c />`: random enough that deflate stays under the 200:1 ratio cap
    (the block is longer than deflate's 32 KB window, so repeating it does not compress better)."""
    rng = random.Random(seed)
    return b"".join(b"<c />" if rng.random() < 0.05 else b"<c/>" for _ in range(n))


def empty_cell_row(cells: int = 3_900_000) -> bytes:
    """The attacker's file: one <row> of ~3.9M <c/> (a 15.8 MB part deflated to a ~300 KB upload)."""
    block = _empty_cells()
    return _sheet([b'<row r="1"><c t="inlineStr"><is><t>name</t></is></c>', *[block] * (cells // 100_000),
                   b"</row>"])


def empty_cell_rows(rows: int = 1000, per_row: int = 1024) -> bytes:
    """Rows each just under the per-row cap, over a million <c/> in all."""
    chunks = (b"<row>" + _empty_cells(per_row, seed=i) + b"</row>" for i in range(rows))
    return _sheet([b'<row><c t="inlineStr"><is><t>name</t></is></c></row>', *chunks])


def long_inline_cell() -> bytes:
    """A cell whose inline text is 20,000 characters."""
    return _sheet([b'<row><c t="inlineStr"><is><t>name</t></is></c></row><row><c t="inlineStr"><is><t>',
                   b"x" * 20_000, b"</t></is></c></row>"])


def deep_nesting() -> bytes:
    """Elements nested 100,000 deep inside a cell."""
    return _sheet([b"<row><c>", b"<is>" * 100_000, b"</is>" * 100_000, b"</c></row>"])


@pytest.mark.parametrize(("name", "build", "limit"), [
    ("row.xlsx", empty_cell_row, "columns"),
    ("rows.xlsx", empty_cell_rows, "cells"),
    ("cell.xlsx", long_inline_cell, "cell_chars"),
    ("deep.xlsx", deep_nesting, "xml_depth"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_sheet_of_empty_cells_is_refused_quickly_naming_the_limit(api, app, name: str, build,  # noqa: ANN001
                                                                     limit: str) -> None:
    data = build()
    assert len(data) < 1_000_000  # a small upload
    started = time.monotonic()
    resp = _upload(api, name, data)
    assert _limit_of(resp) == limit
    assert time.monotonic() - started < 10  # it took 25 s of CPU before
    assert count_rows(app, Customer) == 0


def test_reading_a_row_of_empty_cells_keeps_memory_bounded(tmp_path: Path) -> None:
    baseline_answer, baseline = _peak_rss_mb(tmp_path, "ok.xlsx", _workbook(["name"], ["Acme"]))
    assert baseline_answer == "accepted"
    answer, peak = _peak_rss_mb(tmp_path, "row.xlsx", empty_cell_row())
    assert answer == "columns"
    assert peak - baseline < 60, (peak, baseline)  # it took 1.2 GB before


def test_a_sheet_with_styled_empty_cells_within_the_caps_still_imports(api, app) -> None:  # noqa: ANN001
    row = b'<c r="%b" s="0"/>' % b"B2" + b"<c/>" * 500
    data = _sheet([b'<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>',
                   b'<row r="2"><c r="A2" t="inlineStr"><is><t>Styled Co</t></is></c>' + row + b"</row>"])
    resp = _upload(api, "styled.xlsx", data)
    assert resp.status_code == 201, resp.get_json()
    assert count_rows(app, Customer) == 1


@pytest.mark.parametrize(("cell", "code"), [("A\x00B", "U+0000"), ("A\x01B", "U+0001"), ("A\x1b[31mB", "U+001B"),
                                            ("A\x0cB", "U+000C")])
def test_a_control_character_in_a_csv_cell_is_refused_naming_row_and_column(api, app, cell: str,  # noqa: ANN001
                                                                            code: str) -> None:
    resp = _upload(api, "nul.csv", f"name,industry\nOk Co,x\n{cell},x\n".encode())
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    (error,) = resp.get_json()["errors"]
    assert (error["row"], error["field"], error["column"]) == (3, "name", 1)
    assert code in error["message"]
    assert count_rows(app, Customer) == 0


def test_a_control_character_in_the_header_is_refused(api, app) -> None:  # noqa: ANN001
    resp = _upload(api, "head.csv", b"name,ind\x00ustry\nOk Co,x\n")
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["row"] == 1 and resp.get_json()["errors"][0]["column"] == 2


def test_a_lone_surrogate_in_a_csv_is_refused(api, app) -> None:  # noqa: ANN001
    resp = _upload(api, "sur.csv", b"name\nA\xed\xa0\x80B\n")  # UTF-8 of U+D800
    assert resp.status_code == 422 and count_rows(app, Customer) == 0


def test_tabs_and_line_breaks_in_a_quoted_cell_are_kept(api, app) -> None:  # noqa: ANN001
    resp = _upload(api, "tab.csv", b'name,industry\n"Tab\tCo",x\n"Two\r\nLines Co",y\n')
    assert resp.status_code == 201, resp.get_json()
    assert count_rows(app, Customer) == 2


def test_a_control_character_reference_in_an_xlsx_is_refused(api, app) -> None:  # noqa: ANN001
    data = _sheet([b'<row><c t="inlineStr"><is><t>name</t></is></c></row>'
                   b'<row><c t="inlineStr"><is><t>A&#0;B</t></is></c></row>'])
    resp = _upload(api, "nul.xlsx", data)
    assert resp.status_code == 422 and count_rows(app, Customer) == 0
