"""The content hash that tells whether a deployed process changed: only what the process runs from counts.

A process's version changes when its own BPMN file, the bundle's BPMN files holding the processes it calls, the
DMN files of the decisions it uses, its forms or its translations change. Other files deployed in the same
bundle do not count, so deploying one flow with its forms (as the README does) after ``oaflow init`` deployed
all of ``processes/`` keeps the version. :func:`legacy_hash` is the earlier hash over every BPMN and DMN file of
the bundle, recognised once so that a database deployed before keeps its versions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from lxml import etree

from engine.bpmn_syntax import CAMUNDA_NS, SPIFF_NS
from engine.parsing import ParsedProcess
from engine.xmlsafe import XmlRejected, parse_xml


def _decision_refs(xml: bytes, name: str) -> set[str]:
    try:
        root = parse_xml(xml, name).getroot()
    except XmlRejected:
        return set()
    refs = {(n.text or "").strip() for n in root.iter(f"{{{SPIFF_NS}}}calledDecisionId")}
    refs |= {(n.get(f"{{{CAMUNDA_NS}}}decisionRef") or "").strip() for n in root.iter()
             if isinstance(n.tag, str) and n.get(f"{{{CAMUNDA_NS}}}decisionRef")}
    return refs - {""}


def _decision_ids(xml: bytes, name: str) -> set[str]:
    try:
        root = parse_xml(xml, name).getroot()
    except XmlRejected:
        return set()
    return {n.get("id") for n in root.iter() if isinstance(n.tag, str)
            and etree.QName(n).localname == "decision" and n.get("id")}


def dependency_files(proc: ParsedProcess, bpmn: Mapping[str, bytes], dmn: Mapping[str, bytes]) -> tuple[
        list[str], list[str]]:
    """The bundle's BPMN files `proc` runs from (its own first, then its callees') and the DMN files that
    provide its decisions."""
    callee_files = {getattr(spec, "file", None) for spec in proc.subprocess_specs.values()}
    files = [proc.file] + sorted(f for f in callee_files if f and f != proc.file and f in bpmn)
    refs = set().union(*(_decision_refs(bpmn[f], f) for f in files))
    tables = sorted(name for name, xml in dmn.items() if _decision_ids(xml, name) & refs)
    return files, tables


def content_hash(proc: ParsedProcess, bpmn: Mapping[str, bytes], dmn: Mapping[str, bytes], forms: dict[str, dict],
                 translations: dict[str, dict[str, str]] | None = None) -> str:
    """The hash of everything `proc` runs from (see the module docstring)."""
    files, tables = dependency_files(proc, bpmn, dmn)
    digest = hashlib.sha256(b"v2\0")
    digest.update(bpmn[proc.file])
    for name in files[1:]:
        digest.update(b"bpmn\0" + name.encode() + b"\0" + bpmn[name])
    for name in tables:
        digest.update(b"dmn\0" + name.encode() + b"\0" + dmn[name])
    digest.update(json.dumps(forms, sort_keys=True).encode())
    if translations:
        digest.update(b"i18n\0" + json.dumps(translations, sort_keys=True).encode())
    return digest.hexdigest()


def legacy_hash(proc: ParsedProcess, bpmn: Mapping[str, bytes], dmn: Mapping[str, bytes], forms: dict[str, dict],
                translations: dict[str, dict[str, str]] | None = None) -> str:
    """The earlier hash: the process's file, then every other BPMN and every DMN file of the bundle."""
    digest = hashlib.sha256()
    digest.update(bpmn[proc.file])
    for name in sorted(bpmn):
        if name != proc.file:
            digest.update(name.encode() + b"\0" + bpmn[name])
    for name in sorted(dmn):
        digest.update(name.encode() + b"\0" + dmn[name])
    digest.update(json.dumps(forms, sort_keys=True).encode())
    if translations:  # a process without translations keeps the hash it had before they existed
        digest.update(b"i18n\0" + json.dumps(translations, sort_keys=True).encode())
    return digest.hexdigest()
