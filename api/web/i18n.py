"""Rebuild the message catalogs: extract the strings, fill zh-CN from `zh_cn_messages`, compile the .mo.

Run `python -m api.web.i18n` after changing labels; the .po and .mo files are committed, so nothing
needs compiling at install time. `missing()` lists labels without a translation (a test checks it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
# Babel reads zh_CN as zh_Hans_CN, whose gettext fallback is "zh": the catalog lives there
PO = HERE / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
POT = HERE / "translations" / "messages.pot"


# packages whose `store.messages.Message("…")` keys (domain errors, notifications) the pages translate
DOMAIN = [HERE.parent.parent / name for name in ("store", "engine", "oa", "crm")]


def extract() -> None:
    """Write messages.pot from the Python and Jinja sources of the web app and the message keys of the domain."""
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(HERE / "babel.cfg"),
                    "-k", "_l", "-k", "Message", "--omit-header", "--no-location", "-o", str(POT), str(HERE),
                    *map(str, DOMAIN)], check=True, capture_output=True)


def build() -> list[str]:
    """Fill and compile the zh_CN catalog from the extracted template; returns untranslated ids."""
    from api.web.zh_cn_messages import ZH_CN
    with POT.open("rb") as fh:
        template = read_po(fh)
    template.locale = "zh_CN"
    missing = []
    for message in template:
        if not message.id:
            continue
        # a plural message (ngettext) is looked up by its singular: Chinese has one form for every number
        singular = message.id[0] if message.pluralizable else message.id
        text = ZH_CN.get(singular)
        if text is None:
            missing.append(singular)
        message.string = (text or "",) * template.num_plurals if message.pluralizable else text or ""
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as fh:
        write_po(fh, template, omit_header=False, no_location=True)
    with PO.with_suffix(".mo").open("wb") as fh:
        write_mo(fh, template)
    return missing


def missing() -> list[str]:
    """Message ids in the committed zh_CN catalog that have no translation."""
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    return [m.id[0] if m.pluralizable else m.id for m in catalog
            if m.id and (not all(m.string) if m.pluralizable else not m.string)]


if __name__ == "__main__":
    extract()
    gaps = build()
    print("untranslated:", gaps or "none")
    sys.exit(1 if gaps else 0)
