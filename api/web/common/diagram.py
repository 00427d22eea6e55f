"""The diagram XML a page draws, in the reader's language: a deployed definition's BPMN file with the names of
its drawn elements translated through the flow's own translations (engine.diagram_i18n). English readers get
the stored file unchanged. Callers check who may read the instance or definition first."""

from __future__ import annotations

from flask import Response

from api.extensions import db
from api.web.common import queries as q
from api.web.labels import label, reader_language
from engine.diagram_i18n import translate_names
from engine.models import ProcessDefinition
from engine.xmlsafe import XmlRejected
from store.errors import NotFound


def diagram_response(definition: ProcessDefinition) -> Response:
    """The definition's BPMN XML for the reader (names translated when the reader does not read English)."""
    xml = q.definition_xml(db.session, definition)
    if xml is None:
        raise NotFound(f"the BPMN file of {definition.key} is missing")
    lang = reader_language()
    if lang:
        try:
            xml = translate_names(xml, lambda name: label(name, definition), definition.bpmn_file or "diagram.bpmn")
        except XmlRejected:  # a stored file that no longer parses: drawn (or refused) by the viewer as it is
            pass
    resp = Response(xml, mimetype="application/xml")
    resp.headers["Content-Language"] = lang or "en"
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Vary"] = "Cookie, Accept-Language"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    # the viewer fetches this; a browser sent here by a link must not render it: a designer's file may carry
    # XHTML (a meta refresh, a fake log-in form) that Chromium draws inside XML. Downloaded, and sandboxed with
    # nothing allowed should anything still render it.
    resp.headers["Content-Disposition"] = f'attachment; filename="{_file_name(definition)}"'
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


def _file_name(definition: ProcessDefinition) -> str:
    """`<key>-v<version>.bpmn` with only safe characters (keys are NCNames, but never trust a header value)."""
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in definition.key)[:100]
    return f"{safe}-v{definition.version}.bpmn"
