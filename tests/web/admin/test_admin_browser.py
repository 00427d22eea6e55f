"""Browser: an admin walks the console — instances → the incident → audit trail → users → a report page — at
desktop and phone width, in English and zh-CN. No Content-Security-Policy problem, no sideways page scroll at
390 px (wide tables scroll inside their box), chart labels inside the chart and not overlapping."""

from __future__ import annotations

import os

import pytest

from tests.bpmn_samples import script_process
from tests.conftest import deploy_files
from tests.web.conftest import ARTIFACTS, CSP_WATCH, ROOT, login, shot

# the README shows the console's incident page and a report on a phone: a test run writes them to test-artifacts/,
# and to docs/screenshots only with OAFLOW_UPDATE_SCREENSHOTS=1 (a test run leaves the work tree clean)
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("OAFLOW_UPDATE_SCREENSHOTS") else ARTIFACTS

VIEWPORTS = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}
TEXT = {"en": {"instances": "Instances", "incident": "Incident", "audit": "Audit trail", "users": "Users",
               "reports": "Reports", "report": "Sales by rep"},
        "zh_CN": {"instances": "流程实例", "incident": "异常", "audit": "审计日志", "users": "用户",
                  "reports": "报表", "report": "销售业绩（按销售）"}}

LABELS_FIT = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.bars')) {
    const box = svg.getBoundingClientRect();
    if (!box.width) continue;  // the drawing for the other screen size
    const labels = [...svg.querySelectorAll('text.label')].map(t => t.getBoundingClientRect());
    labels.forEach((r, i) => {
      if (r.left < box.left - 1) out.push('label cut off at the left: ' + r.left + ' < ' + box.left);
      if (i && r.top < labels[i - 1].bottom - 1) out.push('labels overlap at row ' + i);
      if (r.height < 11) out.push('label too small: ' + r.height + 'px');
    });
  }
  return out;
}"""


def _no_sideways_scroll(pg) -> None:  # noqa: ANN001
    pg.wait_for_load_state("load")  # measured before the stylesheet applies, a page is wider than it is
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= pg.viewport_size["width"] + 10, f"{pg.url} scrolls sideways ({width}px)"


def _nav(pg, tag: str) -> None:  # noqa: ANN001
    if tag == "phone":
        pg.click("label.nav-button")
    pg.click("#nav-admin")


def _walk(pg, tag: str, text: dict, instance_id: int) -> list[str]:  # noqa: ANN001
    """instances → the incident → audit → users → a report, through the links; returns CSP problems seen."""
    seen: list[str] = []
    pg.goto("/")
    _nav(pg, tag)
    pg.wait_for_url("**/admin/instances")
    assert pg.inner_text("h1") == text["instances"]
    _no_sideways_scroll(pg)
    pg.click(f"#instances a[href='/admin/instances/{instance_id}']")
    pg.wait_for_selector("#incident")
    assert text["incident"] in pg.inner_text("#incident h2")
    assert "ZeroDivisionError" in pg.inner_text("#incident")
    _no_sideways_scroll(pg)
    shot(pg, f"admin-incident-{tag}-{text['lang']}")
    if (tag, text["lang"]) == ("desktop", "en"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "admin-incident.png"), full_page=True)
    seen += pg.evaluate("window.__csp || []") or []
    pg.click(f".subnav a:has-text('{text['audit']}')")
    pg.wait_for_selector("#audit")
    _no_sideways_scroll(pg)
    seen += pg.evaluate("window.__csp || []") or []
    pg.click(f".subnav a:has-text('{text['users']}')")
    pg.wait_for_selector("#users")
    assert pg.locator("#users a:has-text('alice')").count() == 1
    _no_sideways_scroll(pg)
    seen += pg.evaluate("window.__csp || []") or []
    pg.click(f".subnav a:has-text('{text['reports']}')")
    pg.click(f"#reports a:has-text('{text['report']}')")
    pg.wait_for_selector("#report-table")
    assert pg.inner_text("h1") == text["report"]
    _no_sideways_scroll(pg)
    pg.goto("/reports/customer-distribution")
    pg.wait_for_selector("svg.bars.chart-phone" if tag == "phone" else "svg.bars.chart-wide")
    assert pg.evaluate(LABELS_FIT) == []
    _no_sideways_scroll(pg)
    shot(pg, f"admin-report-{tag}-{text['lang']}")
    if (tag, text["lang"]) == ("phone", "zh_CN"):
        pg.screenshot(path=str(SHOTS / "admin-report-phone-zh.png"), full_page=True)
    return seen + (pg.evaluate("window.__csp || []") or [])


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_admin_walks_the_console(browser, live_server: str, api, crm: dict, lang: str) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"div.bpmn": script_process("divide", "ratio = 10 / count")}).status_code == 201
    inst = api.post("/api/v1/process-definitions/divide/start", "alice", json={"variables": {"count": 0}}).get_json()
    # the language comes from Accept-Language (no /lang switch: a late response carrying the older session
    # cookie, e.g. the favicon's, could undo a switch made while it was in flight)
    accept = "zh-CN,zh;q=0.9" if lang == "zh_CN" else "en"
    context = browser.new_context(base_url=live_server, viewport=VIEWPORTS["desktop"],
                                  locale=accept.split(",")[0], extra_http_headers={"Accept-Language": accept})
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_WATCH)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda msg: problems.append(msg.text)
          if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
    pg.on("pageerror", lambda err: problems.append(str(err)))
    try:
        login(pg, "admin")
        assert pg.get_attribute("html", "lang") == ("zh-CN" if lang == "zh_CN" else "en")
        for tag, size in VIEWPORTS.items():
            pg.set_viewport_size(size)
            problems += _walk(pg, tag, {**TEXT[lang], "lang": lang}, inst["id"])
    finally:
        context.close()
    assert not problems, problems
