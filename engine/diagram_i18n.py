"""A BPMN diagram in another language: the stored XML with the names of its drawn elements translated.

Diagrams are drawn in the browser from the XML a definition was deployed from, so their labels are the names in
that file (English for the shipped flows). `translate_names` rewrites the `name` attribute of every element a
diagram shows with a label (tasks, events, gateways, sequence and message flows, lanes, participants,
subprocesses, call activities, data references) through a lookup function, and leaves everything else as it is.
The XML is parsed with the hardened parser (engine.xmlsafe: no DTD, no entities, no network).
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from engine.xmlsafe import parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

# labelled elements that are not a task, an event or a gateway (those are recognised by their suffix)
_LABELLED = {"sequenceFlow", "messageFlow", "lane", "participant", "subProcess", "adHocSubProcess", "transaction",
             "callActivity", "dataObjectReference", "dataStoreReference"}


def is_labelled(local_name: str) -> bool:
    """True for a BPMN element whose `name` a diagram draws as its label."""
    return local_name in _LABELLED or local_name.endswith(("Task", "Event", "Gateway")) or local_name == "task"


def drawn_names(xml: bytes, process_key: str, filename: str = "diagram.bpmn") -> set[str]:
    """The labels a diagram of process `process_key` draws: the names of the labelled elements inside that
    process (flows, lanes, subprocesses and their contents) and of the pool (participant) that shows it."""
    root = parse_xml(xml, filename).getroot()
    names: set[str] = set()
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        if process.get("id") == process_key:
            names |= {n.get("name") for n in process.iter(f"{{{BPMN_NS}}}*")
                      if n.get("name") and is_labelled(etree.QName(n).localname)}
    names |= {p.get("name") for p in root.iter(f"{{{BPMN_NS}}}participant")
              if p.get("processRef") == process_key and p.get("name")}
    return names


def translate_names(xml: bytes, translate: Callable[[str], str | None], filename: str = "diagram.bpmn") -> bytes:
    """`xml` with each drawn element's name replaced by `translate(name)` when that gives a different text.

    Returns the input bytes unchanged when no name changes (so a reader without translations gets the stored
    file byte for byte); raises engine.xmlsafe.XmlRejected if the XML cannot be read safely.
    """
    tree = parse_xml(xml, filename)
    changed = False
    for node in tree.getroot().iter(f"{{{BPMN_NS}}}*"):
        name = node.get("name")
        if not name or not is_labelled(etree.QName(node).localname):
            continue
        text = translate(name)
        if text and text != name:
            node.set("name", text)
            changed = True
    if not changed:
        return xml
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
