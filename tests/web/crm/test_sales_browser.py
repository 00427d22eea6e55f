"""Browser: a rep creates an order for her customer and submits it for approval, at desktop and at phone width
(no sideways scrolling, no CSP problem); screenshots go to test-artifacts/orders-*.png."""

from __future__ import annotations

import os

from tests.crm.sales_helpers import product
from tests.web.conftest import ARTIFACTS, CSP_WATCH, ROOT, login

# pictures go to test-artifacts/; with OAFLOW_UPDATE_SCREENSHOTS=1 to docs/screenshots (the README's) instead
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("OAFLOW_UPDATE_SCREENSHOTS") else ARTIFACTS


def _walk(pg, customer_id: int, product_id: int, tag: str) -> None:  # noqa: ANN001
    pg.goto(f"/customers/{customer_id}")
    pg.click("#sales a:has-text('New order')")
    pg.wait_for_url(f"**/customers/{customer_id}/orders/new")
    pg.select_option("select[name='line-0-product_id']", str(product_id))
    pg.fill("input[name='line-0-quantity']", "3")
    pg.fill("input[name='line-0-discount']", "5")
    pg.screenshot(path=str(SHOTS / f"orders-new-{tag}.png"), full_page=True)
    assert pg.evaluate("document.documentElement.scrollWidth") <= pg.viewport_size["width"] + 10
    pg.click("#create-order")
    pg.wait_for_selector("#submit-order")
    assert "Draft" in pg.inner_text("#order-status")
    pg.click("#submit-order")
    pg.wait_for_selector("#approval-link")
    assert "Pending approval" in pg.inner_text("#order-status")
    assert pg.evaluate("document.documentElement.scrollWidth") <= pg.viewport_size["width"] + 10
    pg.screenshot(path=str(SHOTS / f"orders-detail-{tag}.png"), full_page=True)
    pg.goto("/orders")
    assert pg.evaluate("document.documentElement.scrollWidth") <= pg.viewport_size["width"] + 10
    pg.screenshot(path=str(SHOTS / f"orders-list-{tag}.png"), full_page=True)


def test_order_create_and_submit_at_desktop_and_phone_width(browser, live_server: str, crm: dict,  # noqa: ANN001
                                                           api) -> None:  # noqa: ANN001
    SHOTS.mkdir(parents=True, exist_ok=True)
    p = product(api, "ARM-B", 2500)
    for tag, viewport in (("desktop", {"width": 1280, "height": 860}), ("phone", {"width": 390, "height": 844})):
        context = browser.new_context(base_url=live_server, viewport=viewport)
        context.set_default_timeout(15_000)
        context.add_init_script(CSP_WATCH)
        pg = context.new_page()
        problems: list[str] = []
        pg.on("console", lambda msg, out=problems: out.append(msg.text)
              if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
        pg.on("pageerror", lambda err, out=problems: out.append(str(err)))
        try:
            login(pg, "alice")
            _walk(pg, crm["mine"]["id"], p["id"], tag)
            problems += pg.evaluate("window.__csp || []") or []
        finally:
            context.close()
        assert not problems, problems
