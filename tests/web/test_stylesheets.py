"""The stylesheets are well formed: an unclosed block silently swallows every rule after it (an unclosed
`@media (max-width: 760px) {` once made the desktop draw every chart twice and lose the sub-navigation style)."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import ROOT

SHEETS = sorted((ROOT / "api" / "web" / "static").glob("*.css"))
_COMMENTS_AND_STRINGS = re.compile(r"/\*.*?\*/|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'", re.S)


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda p: p.name)
def test_every_block_closes_where_it_should(sheet) -> None:  # noqa: ANN001
    depth = 0
    for number, line in enumerate(_COMMENTS_AND_STRINGS.sub("", sheet.read_text()).splitlines(), 1):
        if depth == 1 and re.match(r"\S", line) and not line.startswith("}"):
            # inside an at-rule, rules are indented; one at the margin means the block was left open above
            raise AssertionError(f"{sheet.name}:{number}: a rule at the margin inside an open block: {line[:80]}")
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{sheet.name}:{number}: a }} closes nothing"
    assert depth == 0, f"{sheet.name}: {depth} block(s) never closed"


def test_the_desktop_draws_each_chart_once(page, app) -> None:  # noqa: ANN001
    """At 1280 px only the wide drawing of a chart shows (the phone drawing is for narrow screens)."""
    from tests.web.conftest import login
    login(page, "admin")
    page.goto("/dashboard")
    page.wait_for_load_state("load")
    shown = page.evaluate("""() => [...document.querySelectorAll('svg.bars')]
        .filter(s => s.getBoundingClientRect().width > 0)
        .map(s => s.closest('[id]').id + ' ' + s.getAttribute('class'))""")
    assert shown and all("chart-wide" in s for s in shown), shown
