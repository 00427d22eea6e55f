"""Tests for engine.xmlsafe: the hardened XML parse path."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.xmlsafe import MAX_XML_BYTES, XmlRejected, parse_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
PASSWD = Path("/etc/passwd").read_text(errors="replace") if Path("/etc/passwd").exists() else ""
PASSWD_LINES = [line for line in PASSWD.splitlines() if len(line) > 8]

GOOD = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"><!-- a comment -->
  <process id="p" name="Caf\xc3\xa9"/>
</definitions>"""


def _rejected(data: bytes, **kwargs) -> XmlRejected:
    with pytest.raises(XmlRejected) as info:
        parse_xml(data, "upload.bpmn", **kwargs)
    exc = info.value
    assert exc.problem.file == "upload.bpmn"
    assert exc.problem.message
    for line in PASSWD_LINES:
        assert line not in exc.problem.message
        assert line not in str(exc)
    return exc


def test_good_document_parses_and_keeps_comments():
    tree = parse_xml(GOOD, "ok.bpmn")
    assert tree.getroot().find(f"{{{BPMN}}}process").get("name") == "Café"
    assert "a comment" in str(tree.getroot()[0])


def test_latin1_declared_document_is_accepted():
    data = GOOD.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"').replace(b"\xc3\xa9", b"\xe9")
    tree = parse_xml(data, "latin.bpmn")
    assert tree.getroot().find(f"{{{BPMN}}}process").get("name") == "Café"


def test_utf16_with_bom_is_accepted():
    data = GOOD.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert parse_xml(data, "u16.bpmn").getroot().find(f"{{{BPMN}}}process").get("id") == "p"


@pytest.mark.parametrize("target", ["file:///etc/passwd", "http://127.0.0.1:9/x"])
def test_xxe_is_refused(target):
    data = f"""<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "{target}">]>
<definitions id="d"><documentation>&xxe;</documentation></definitions>""".encode()
    exc = _rejected(data)
    assert "DOCTYPE" in exc.problem.message
    assert exc.problem.line == 2
    assert not exc.too_large


def test_parameter_entity_external_dtd_is_refused():
    data = b"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY % dtd SYSTEM "http://127.0.0.1:9/evil.dtd"> %dtd;]>
<data>&send;</data>"""
    _rejected(data)


def test_external_dtd_is_refused():
    _rejected(b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "file:///etc/passwd"><d/>')


def test_billion_laughs_is_refused_cheaply():
    ents = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]
    data = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [' + "".join(ents) + "]>\n<lolz>&lol9;</lolz>").encode()
    start = time.process_time()  # CPU this process spent: what an attacker costs us, whatever the machine's load
    _rejected(data)
    assert time.process_time() - start < 0.5


def test_quadratic_blowup_is_refused_cheaply():
    entity = "A" * 50_000
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE kaboom [<!ENTITY a "{entity}">]>\n<kaboom>'
        + "&a;" * 50_000
        + "</kaboom>"
    ).encode()
    start = time.process_time()  # CPU this process spent: what an attacker costs us, whatever the machine's load
    _rejected(data)
    assert time.process_time() - start < 0.5


def test_doctype_after_comments_and_pis_is_found():
    data = b'<?xml version="1.0"?>\n<!-- hi -->\n<?pi x?>\n<!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>'
    assert _rejected(data).problem.line == 4


def test_too_large_is_flagged_before_parsing():
    data = b"<d>" + b"x" * (20 * 1024 * 1024) + b"</d>"
    exc = _rejected(data)
    assert exc.too_large
    assert str(MAX_XML_BYTES) in exc.problem.message


def test_custom_limit():
    assert _rejected(GOOD, max_bytes=10).too_large


def test_malformed_xml_reports_line():
    exc = _rejected(b'<?xml version="1.0"?>\n<definitions>\n  <process>\n</definitions>')
    assert "malformed" in exc.problem.message
    assert exc.problem.line in (3, 4)


def test_latin1_bytes_declared_utf8_are_refused_with_line():
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n<d>\n<p name="Caf\xe9"/></d>'
    exc = _rejected(data)
    assert "UTF-8" in exc.problem.message
    assert exc.problem.line == 3


def test_utf16_without_bom_is_refused():
    data = '<?xml version="1.0" encoding="UTF-16"?><d/>'.encode("utf-16-le")
    _rejected(data)


def test_utf16_declared_but_ascii_bytes_is_refused():
    _rejected(b'<?xml version="1.0" encoding="UTF-16"?><d/>')


def test_unsupported_encoding_is_refused():
    _rejected(b'<?xml version="1.0" encoding="EBCDIC-US"?><d/>')


@pytest.mark.parametrize("data", [b"", b"   ", b"not xml at all", b"<a><b></a>", b"\xff\xfe\x00"])
def test_garbage_never_escapes(data):
    _rejected(data)
