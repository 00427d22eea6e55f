"""Take the README's and docs/screenshots' pictures from a running server (`make run`).

`python -m tools.screenshots --base http://127.0.0.1:5000` logs in as the demo users in Debian's
chromium (Playwright), opens each page in English and zh-CN at desktop and phone width, and
writes docs/screenshots/<page>-<lang>-<width>.png. Pages that need a record (a request, a task)
take the first one the page lists.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
SIZES = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}


def _login(page: Page, base: str, user: str) -> None:
    """Log in through the login form."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def _first_link(page: Page, base: str, path: str, pattern: str) -> str | None:
    """The first link on `path` whose href matches `pattern`."""
    page.goto(f"{base}{path}")
    for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
        if re.search(pattern, href or ""):
            return href
    return None


PAGES = [  # (name, user, path or (list page, link pattern[, what to add to the link]))
    ("approval-centre", "bob", "/approvals"),
    ("request-page", "alice", ("/approvals?tab=mine", r"^/instances/\d+$")),
    ("request-diagram", "alice", ("/approvals?tab=mine", r"^/instances/\d+$", "?view=diagram")),
    ("task-page", "bob", ("/approvals", r"^/tasks/[0-9a-f-]+$")),
    ("admin-console", "admin", "/admin/instances"),
    ("admin-users", "admin", "/admin/users"),
    ("admin-reports", "admin", "/reports"),
    ("customer-page", "alice", ("/customers", r"^/customers/\d+$")),
    ("opportunity-board", "alice", "/opportunities/board"),
    ("dashboard", "bob", "/dashboard"),
]


def main() -> None:
    """Capture every page in both languages and both widths, logging each user in once (logins are
    rate-limited per client address)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    users = list(dict.fromkeys(user for _name, user, _target in PAGES))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for user in users:
            context = browser.new_context(viewport=SIZES["desktop"])
            page = context.new_page()
            _login(page, args.base, user)
            for lang in ("en", "zh_CN"):
                page.goto(f"{args.base}/lang/{lang}")
                for size_name, size in SIZES.items():
                    page.set_viewport_size(size)
                    for name, _user, target in (p for p in PAGES if p[1] == user):
                        path = target if isinstance(target, str) else _first_link(page, args.base, *target[:2])
                        if not path:
                            print(f"skipped {name}: no record to show")
                            continue
                        page.goto(f"{args.base}{path}{'' if isinstance(target, str) else ''.join(target[2:])}")
                        page.wait_for_load_state("networkidle")
                        if page.locator(".diagram").count():  # drawn from XML fetched after the page loaded
                            page.wait_for_selector(".diagram[data-state=ready], .diagram[data-state=error]")
                        file = OUT / f"{name}-{'zh' if lang == 'zh_CN' else 'en'}-{size_name}.png"
                        page.screenshot(path=str(file), full_page=size_name == "phone")
                        print(f"wrote {file.relative_to(ROOT)}")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
