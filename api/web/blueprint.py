"""The one `web` blueprint every area registers its pages on; it imports no page module.

Templates: each area keeps its own under `api/web/<area>/templates/<area>/…` (so names never clash), the
shared layout and macros under `api/web/common/templates`. The blueprint searches all of them; static files
(one folder for the whole app) are served at /static/web.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from flask import Blueprint
from jinja2 import BaseLoader, FileSystemLoader

WEB_DIR = Path(__file__).resolve().parent
# endpoints open without a session (everything else redirects to the login page)
PUBLIC = {"web.login", "web.static", "web.set_language", "web.vendor"}


def template_dirs() -> list[Path]:
    """The shared templates first, then every area's `templates` folder."""
    common = WEB_DIR / "common" / "templates"
    return [common, *sorted(p for p in WEB_DIR.glob("*/templates") if p != common)]


class WebBlueprint(Blueprint):
    """A blueprint whose templates come from several folders (one per area) instead of one."""

    @cached_property
    def jinja_loader(self) -> BaseLoader | None:  # type: ignore[override]
        """Search the shared templates and every area's templates."""
        return FileSystemLoader([str(p) for p in template_dirs()])


bp = WebBlueprint("web", __name__, static_folder="static", static_url_path="/static/web")


def static_root() -> Path:
    """Where the web app's own static files live."""
    return Path(bp.static_folder or "")
