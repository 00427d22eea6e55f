"""The one hardened parse path for uploaded BPMN/DMN XML.

Every BPMN or DMN document oaflow reads goes through :func:`parse_xml`. Uploaded XML is untrusted, so:

* the size is checked before any parsing (``XmlRejected.too_large`` -> HTTP 413);
* the encoding is decided up front, following the XML spec: a byte order mark wins, then the
  ``encoding`` of the XML declaration, then UTF-8. Only UTF-8, UTF-16 (with a byte order mark),
  US-ASCII, ISO-8859-1/-15 and windows-1252 are accepted, and the bytes must decode cleanly in the
  chosen encoding (latin-1 bytes in a document declared UTF-8 are refused with the line of the bad
  byte; UTF-16 without a byte order mark is refused);
* any document type declaration is refused *before* libxml2 sees the document, by scanning the
  prolog; entities therefore never get declared, let alone expanded (no XXE, no billion laughs,
  no quadratic blow-up). The lxml parser is hardened as well (no entity resolution, no DTD
  loading, no network, no huge trees) and the parsed tree is checked again for a DTD;
* every failure is an :class:`XmlRejected` carrying a :class:`~engine.problems.Problem` with the
  line; messages never echo external content.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from engine.problems import Problem

MAX_XML_BYTES = 5 * 1024 * 1024

# Encodings accepted in an XML declaration (codec names as normalised by codecs.lookup).
_ACCEPTED_ENCODINGS = {
    "utf-8",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "ascii",
    "iso8859-1",
    "iso8859-15",
    "cp1252",
}

_DECL_RE = re.compile(r"""^<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_PROLOG_SKIP_RE = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)


class XmlRejected(Exception):
    """The document was refused. `problem` says why and where; `too_large` maps to HTTP 413."""

    def __init__(self, problem: Problem, too_large: bool = False) -> None:
        super().__init__(problem.message)
        self.problem = problem
        self.too_large = too_large


def _reject(filename: str, message: str, line: int | None = None, too_large: bool = False) -> XmlRejected:
    return XmlRejected(Problem(file=filename, message=message, line=line), too_large=too_large)


def _line_of(data: bytes, offset: int, unit: bytes = b"\n") -> int:
    return data.count(unit, 0, offset) + 1


def _codec_name(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


def _decode(data: bytes, filename: str) -> str:
    """Decide the document's encoding and decode it strictly; raise XmlRejected if that fails."""
    if data.startswith(codecs.BOM_UTF8):
        bom_encoding, body = "utf-8", data[3:]
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise _reject(filename, "UTF-32 encoded XML is not supported; save the file as UTF-8", 1)
    elif data.startswith(codecs.BOM_UTF16_LE):
        bom_encoding, body = "utf-16-le", data[2:]
    elif data.startswith(codecs.BOM_UTF16_BE):
        bom_encoding, body = "utf-16-be", data[2:]
    else:
        bom_encoding, body = None, data
        if b"\x00" in data[:4]:
            raise _reject(
                filename,
                "the file looks like UTF-16 or UTF-32 without a byte order mark; save it as UTF-8",
                1,
            )

    if bom_encoding is None:
        # ASCII-compatible: the declaration (if any) is readable as ASCII.
        head = body[:256].decode("ascii", errors="replace")
        match = _DECL_RE.match(head)
        declared = match.group(1) if match else None
        if declared is None:
            encoding = "utf-8"
        else:
            try:
                encoding = codecs.lookup(declared).name
            except LookupError:
                raise _reject(filename, f"unknown encoding {declared!r} in the XML declaration", 1) from None
            if encoding not in _ACCEPTED_ENCODINGS:
                raise _reject(filename, f"encoding {declared!r} is not supported; save the file as UTF-8", 1)
            if encoding.startswith("utf-16"):
                raise _reject(
                    filename,
                    f"the XML declaration says {declared!r} but the file has no UTF-16 byte order mark",
                    1,
                )
    else:
        encoding = bom_encoding
        head = body[:512].decode(encoding, errors="replace")
        match = _DECL_RE.match(head)
        if match and not _codec_name(match.group(1)).startswith(bom_encoding[:6]):
            raise _reject(
                filename,
                f"the XML declaration says {match.group(1)!r} "
                f"but the byte order mark says {bom_encoding.upper()}",
                1,
            )

    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding.startswith("utf-16"):
            line = body[: exc.start].decode(encoding, errors="replace").count("\n") + 1
        else:
            line = _line_of(body, exc.start)
        raise _reject(
            filename,
            f"the file is not valid {encoding.upper()} (bad byte at offset {exc.start}); "
            "save it as UTF-8 or declare its real encoding",
            line,
        ) from None


def _refuse_doctype(text: str, filename: str) -> None:
    """Refuse any document type declaration in the prolog, before anything is parsed."""
    pos = 0
    n = len(text)
    while pos < n:
        match = _PROLOG_SKIP_RE.match(text, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
    if text.startswith("<!DOCTYPE", pos) or text.startswith("<!doctype", pos):
        raise _reject(
            filename,
            "document type declarations (DOCTYPE, DTDs, entities) are not allowed in uploaded XML",
            text.count("\n", 0, pos) + 1,
        )


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_xml(data: bytes, filename: str, max_bytes: int = MAX_XML_BYTES) -> etree._ElementTree:
    """Parse untrusted XML bytes into an lxml tree, or raise :class:`XmlRejected` with a Problem."""
    if not isinstance(data, (bytes, bytearray)):
        raise _reject(filename, "XML content must be bytes")
    if len(data) > max_bytes:
        raise _reject(
            filename, f"the file is {len(data)} bytes; the limit is {max_bytes} bytes", too_large=True
        )
    if not data.strip():
        raise _reject(filename, "the file is empty", 1)
    data = bytes(data)
    text = _decode(data, filename)
    _refuse_doctype(text, filename)

    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        message = exc.msg or "malformed XML"
        raise _reject(filename, f"malformed XML: {message}", exc.lineno or None) from None
    except (etree.LxmlError, ValueError) as exc:  # pragma: no cover - defensive
        raise _reject(filename, f"the XML could not be read: {type(exc).__name__}") from None
    if root is None:
        raise _reject(filename, "the file holds no XML element", 1)
    tree = root.getroottree()
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _reject(filename, "document type declarations (DOCTYPE, DTDs, entities) are not allowed")
    for node in root.iter(etree.Entity):  # pragma: no cover - impossible without a DTD, kept as a guard
        raise _reject(filename, "entity references are not allowed", node.sourceline)
    return tree
