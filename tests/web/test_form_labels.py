"""Every label of the shipped forms (titles, descriptions, enum values of forms/*.json) has a zh-CN
translation, so a Chinese reader never meets an English field name on a shipped flow's form."""

from __future__ import annotations

import json
from pathlib import Path

from api.web.zh_cn_messages import ZH_CN

FORMS = Path(__file__).resolve().parents[2] / "forms"


def _labels(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        found |= {node[k] for k in ("title", "description") if isinstance(node.get(k), str)}
        if isinstance(node.get("enum"), list):
            found |= {v for v in node["enum"] if isinstance(v, str)}
        for value in node.values():
            found |= _labels(value)
    elif isinstance(node, list):
        for value in node:
            found |= _labels(value)
    return found


def test_every_shipped_form_label_has_a_chinese_translation() -> None:
    files = sorted(FORMS.glob("*.json"))
    assert len(files) >= 10  # the shipped forms are where this test looks
    missing = {path.name: sorted(label for label in _labels(json.loads(path.read_text())) if label not in ZH_CN)
               for path in files}
    assert {name: labels for name, labels in missing.items() if labels} == {}
