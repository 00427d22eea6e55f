"""The shipped processes' diagrams stay readable: no two shapes overlap (a boundary event sits on its own
activity's border, nothing else), and no label (English or Chinese) overlaps a shape or another label.

Labels are placed as bpmn-js places them: a BPMNLabel's bounds when the diagram gives them, else bpmn-js's
default (under an event or gateway; beside the middle segment of a sequence flow). Text width is estimated
from the characters (CJK counts about double) and wraps at bpmn-js's 90-pixel label width."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import pytest
from lxml import etree

from api.config import ROOT

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}
PROCESSES = sorted((ROOT / "processes").glob("*.bpmn"))
# elements bpmn-js labels outside their shape (tasks and sub-processes carry their name inside)
EXTERNAL = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
            "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
            "dataObjectReference", "dataStoreReference"}
LABEL_WIDTH, LINE_HEIGHT = 90, 14  # bpmn-js: external labels wrap at 90 px; 11 px font, line height 1.2 (+ margin)


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle: what a shape or a label covers."""

    name: str
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Box) -> bool:
        """True if the two rectangles share more than an edge."""
        return (self.x < other.x + other.w and other.x < self.x + self.w
                and self.y < other.y + other.h and other.y < self.y + self.h)


def text_size(text: str) -> tuple[float, float]:
    """About how wide and high bpmn-js draws a label: 6.5 px per Latin character, 12 per CJK one, wrapped."""
    width = sum(12.0 if ord(ch) > 0x2E7F else 6.5 for ch in text)
    lines = max(1, math.ceil(width / LABEL_WIDTH))
    return min(width, LABEL_WIDTH), lines * LINE_HEIGHT


def _bounds(el: etree._Element) -> tuple[float, float, float, float] | None:
    b = el.find("dc:Bounds", NS)
    if b is None:
        return None
    return float(b.get("x")), float(b.get("y")), float(b.get("width")), float(b.get("height"))


def _label_box(name: str, text: str, di: etree._Element, default_mid: tuple[float, float]) -> Box:
    """The text box of a label: centred on its DI bounds' top centre, else on bpmn-js's default position."""
    w, h = text_size(text)
    label = di.find("bpmndi:BPMNLabel", NS)
    given = _bounds(label) if label is not None else None
    if given is not None:
        cx, top = given[0] + given[2] / 2, given[1]
    else:  # bpmn-js: a 90x20 box centred on the mid point, text from its top
        cx, top = default_mid[0], default_mid[1] - 10
    return Box(name, cx - w / 2, top, w, h)


def _flow_mid(points: list[tuple[float, float]]) -> tuple[float, float]:
    """bpmn-js's getFlowLabelPosition: the middle segment's mid point, 15 px above it (beside it if upright)."""
    mid = len(points) / 2 - 1
    first, second = points[math.floor(mid)], points[math.ceil(mid + 0.01)]
    x, y = (first[0] + second[0]) / 2, (first[1] + second[1]) / 2
    upright = first[0] == second[0]
    return (x + 15, y) if upright else (x, y - 15)


def layout(path: Path) -> tuple[list[Box], dict[str, list[Box]], dict[str, str]]:
    """The shapes, the labels by language (English, and each language of the flow's .i18n.json) and each
    boundary event's activity."""
    tree = etree.parse(str(path))
    elements = {el.get("id"): el for el in tree.iter() if el.get("id")}
    tables: dict[str, dict[str, str]] = {"en": {}}
    i18n = path.with_suffix(".i18n.json")
    if i18n.exists():
        tables.update(json.loads(i18n.read_text(encoding="utf-8")))
    shapes: list[Box] = []
    labels: dict[str, list[Box]] = {lang: [] for lang in tables}
    attached: dict[str, str] = {}
    for di in tree.iterfind(".//bpmndi:BPMNShape", NS):
        el = elements.get(di.get("bpmnElement"))
        if el is None or etree.QName(el).localname in ("participant", "lane"):
            continue
        kind, ref = etree.QName(el).localname, el.get("id")
        x, y, w, h = _bounds(di)
        shapes.append(Box(ref, x, y, w, h))
        if kind == "boundaryEvent":
            attached[ref] = el.get("attachedToRef")
        if kind in EXTERNAL and el.get("name"):
            for lang, table in tables.items():
                text = table.get(el.get("name"), el.get("name"))
                labels[lang].append(_label_box(f"label of {ref} ({text})", text, di, (x + w / 2, y + h + 10)))
    for di in tree.iterfind(".//bpmndi:BPMNEdge", NS):
        el = elements.get(di.get("bpmnElement"))
        if el is None or not el.get("name"):
            continue
        points = [(float(p.get("x")), float(p.get("y"))) for p in di.iterfind("di:waypoint", NS)]
        for lang, table in tables.items():
            text = table.get(el.get("name"), el.get("name"))
            labels[lang].append(_label_box(f"label of {el.get('id')} ({text})", text, di, _flow_mid(points)))
    return shapes, labels, attached


def problems(path: Path) -> list[str]:
    """Every overlap in the diagram of one file: shape on shape, label on shape, label on label (each language's
    labels among themselves: a diagram is drawn in one language)."""
    shapes, labels, attached = layout(path)
    found = []
    for a, b in combinations(shapes, 2):
        if attached.get(a.name) != b.name and attached.get(b.name) != a.name and a.overlaps(b):
            found.append(f"shapes {a.name} and {b.name} overlap")
    for drawn in labels.values():
        for label in drawn:
            found += [f"{label.name} overlaps shape {s.name}" for s in shapes if label.overlaps(s)]
        found += [f"{a.name} overlaps {b.name}" for a, b in combinations(drawn, 2) if a.overlaps(b)]
    return found


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.name)
def test_diagram_shapes_and_labels_do_not_overlap(path: Path) -> None:
    assert problems(path) == []


def test_the_check_finds_overlaps(tmp_path: Path) -> None:
    """Two shapes drawn on one spot and a flow label laid over a task are found: the check is not vacuous."""
    bad = tmp_path / "crowded.bpmn"
    bad.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s" name="Go" /><bpmn:task id="a" name="A" /><bpmn:task id="b" name="B" />
    <bpmn:sequenceFlow id="f" name="approved" sourceRef="a" targetRef="b" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="g"><bpmndi:BPMNPlane id="pl" bpmnElement="p">
    <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="0" y="0" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="a_di" bpmnElement="a"><dc:Bounds x="100" y="0" width="100" height="80" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="b_di" bpmnElement="b"><dc:Bounds x="150" y="20" width="100" height="80" /></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f_di" bpmnElement="f"><di:waypoint x="200" y="40" /><di:waypoint x="250" y="40" />
      <bpmndi:BPMNLabel><dc:Bounds x="150" y="30" width="60" height="14" /></bpmndi:BPMNLabel></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>""", encoding="utf-8")
    found = problems(bad)
    assert "shapes a and b overlap" in found
    assert any(p.startswith("label of f (approved) overlaps shape") for p in found)
    assert not any("label of s" in p for p in found)  # the start event's label sits clear under it
