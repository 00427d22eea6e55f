"""A constant-memory pass over an XLSX worksheet part, counting what a reader would have to hold.

openpyxl builds each `<row>` whole before `iter_rows(max_col=...)` trims it, and empty `<c/>` cells count
toward no limit of its own: one row of millions of empty cells costs gigabytes. This pass streams the
part through expat (no tree is built, no DTD or entity is honoured) and stops at the first cap crossed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO
from xml.parsers import expat

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class SheetCaps:
    """The most a worksheet part may hold before it is read."""

    row_cells: int = 1024  # <c> elements in one row, empty ones included
    cells: int = 1_000_000  # <c> elements in the sheet
    rows: int = 50_000  # <row> elements
    cell_chars: int = 10_000  # characters of text inside one <c> (value, inline string, formula)
    depth: int = 32  # element nesting


class SheetBudget:
    """XML elements left to read, shared by every sheet part of one workbook."""

    def __init__(self, elements: int) -> None:
        self.cap = self.left = elements


class SheetOverLimit(Exception):  # noqa: N818 - a refusal, not a programming error
    """A worksheet crossed a cap: `limit` names it, `message` says where."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit, self.message = limit, message


class SheetFormula(Exception):  # noqa: N818 - a refusal, not a programming error
    """A cell of the sheet holds a formula (imports take typed values only); `cell` is its reference (B3)."""

    def __init__(self, cell: str) -> None:
        super().__init__(cell)
        self.cell = cell


class SheetDamaged(Exception):
    """The worksheet is not well-formed XML, or declares a DOCTYPE or entities."""


class _Counter:
    """expat handlers counting rows, cells and text, raising SheetOverLimit at the first cap crossed."""

    def __init__(self, caps: SheetCaps, budget: SheetBudget, *, formulas: bool = True) -> None:
        self.caps, self.budget = caps, budget
        self.depth = self.rows = self.cells = self.row_cells = 0
        self.in_cell = False
        self.cell_chars = 0
        self.formulas, self.cell_ref = formulas, ""

    def start(self, name: str, attrs: object) -> None:
        local = name.rpartition(" ")[2]
        if local == "f" and self.in_cell and not self.formulas:
            raise SheetFormula(self.cell_ref)
        self.depth += 1
        self.budget.left -= 1
        caps = self.caps
        if self.depth > caps.depth:
            raise SheetOverLimit("xml_depth", f"elements nested more than {caps.depth} deep")
        if self.budget.left < 0:
            raise SheetOverLimit("xml_elements", f"more than {self.budget.cap} XML elements in the sheets")
        if local == "row":
            self.rows += 1
            self.row_cells = 0
            if self.rows > caps.rows:
                raise SheetOverLimit("rows", f"more than {caps.rows} rows (blank ones included)")
        elif local == "c":
            self.cells += 1
            self.row_cells += 1
            self.in_cell, self.cell_chars = True, 0
            self.cell_ref = str(attrs.get("r", "")) if isinstance(attrs, dict) else ""
            if self.row_cells > caps.row_cells:
                raise SheetOverLimit("columns", f"more than {caps.row_cells} cells in row {self.rows} "
                                                "(empty ones included)")
            if self.cells > caps.cells:
                raise SheetOverLimit("cells", f"more than {caps.cells} cells (empty ones included)")

    def end(self, name: str) -> None:
        self.depth -= 1
        if name.rpartition(" ")[2] == "c":
            self.in_cell = False

    def text(self, data: str) -> None:
        if self.in_cell:
            self.cell_chars += len(data)
            if self.cell_chars > self.caps.cell_chars:
                raise SheetOverLimit("cell_chars", f"a cell longer than {self.caps.cell_chars} characters "
                                                   f"(row {self.rows})")


def _no_dtd(*_args: object) -> None:
    raise SheetDamaged("the sheet declares a DOCTYPE or entities")


def scan_sheet(stream: IO[bytes], caps: SheetCaps, budget: SheetBudget, *, formulas: bool = True) -> None:
    """Read a worksheet part to its end in constant memory: SheetOverLimit at the first cap crossed
    (`budget` counts elements across parts), SheetDamaged if it is not well-formed or declares a DOCTYPE
    or entities, SheetFormula at the first formula cell unless `formulas`."""
    counter = _Counter(caps, budget, formulas=formulas)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = counter.start
    parser.EndElementHandler = counter.end
    parser.CharacterDataHandler = counter.text
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    parser.ExternalEntityRefHandler = _no_dtd
    try:
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as err:
        raise SheetDamaged(f"the sheet is not well-formed XML: {err}") from None
