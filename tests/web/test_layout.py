"""The web app's layout by area (issue #18): every area has its pages, templates and tests, the blueprint
imports no page back, every template a page names is found, and the wheel's package data ships them all."""

from __future__ import annotations

import glob
import tomllib
from pathlib import Path

import grimp
from jinja2 import nodes

from tests.web.conftest import ROOT

WEB = ROOT / "api" / "web"
AREAS = ("common", "approvals", "crm", "oa", "designer", "reports")


def test_the_blueprint_imports_no_page_back() -> None:
    """Pages import the blueprint; the blueprint imports no page (import cycles anywhere: test_import_cycles)."""
    graph = grimp.build_graph("api")
    assert "api.web.blueprint" in graph.find_modules_directly_imported_by("api.web.crm.pages")
    assert not {m for m in graph.find_modules_directly_imported_by("api.web.blueprint") if m.startswith("api.web")}


def test_every_area_has_pages_templates_and_tests() -> None:
    for area in AREAS:
        package = WEB / area
        assert (package / "__init__.py").is_file(), area
        assert [p for p in package.glob("*.py") if p.name != "__init__.py"], f"{area} has no page module"
        templates = package / "templates" if area == "common" else package / "templates" / area
        assert list(templates.glob("*.html")), f"{area} has no templates in {templates}"
        assert list((ROOT / "tests" / "web" / area).glob("test_*.py")), f"{area} has no tests"
    # area templates sit in a folder named after the area, so two areas never shadow each other's names
    for path in WEB.glob("*/templates/*.html"):
        assert path.parent.parent.name == "common", f"{path} belongs in templates/{path.parent.parent.name}/"


def _names_used(app, path: Path) -> set[str]:  # noqa: ANN001
    tree = app.jinja_env.parse(path.read_text(), name=path.name)
    used = set()
    for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        if isinstance(node.template, nodes.Const):
            used.add(node.template.value)
    return used


def test_every_template_a_page_or_template_names_is_found(app) -> None:  # noqa: ANN001
    import re

    named = set()
    for path in WEB.rglob("*.py"):
        named |= set(re.findall(r"render_template\(\s*\"([^\"]+)\"", path.read_text()))
    for path in WEB.glob("*/templates/**/*.html"):
        named |= _names_used(app, path)
    assert {"approvals/task.html", "crm/board.html", "oa/calendar.html", "designer/diff.html",
            "reports/dashboard.html", "base.html", "_macros.html", "_field.html"} <= named
    with app.app_context():
        for name in sorted(named):
            assert app.jinja_env.get_template(name) is not None, name


def test_the_package_data_ships_every_template_static_file_and_catalogue() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["api"]
    shipped = {f for pattern in patterns for f in glob.glob(pattern, root_dir=ROOT / "api")}
    needed = {str(p.relative_to(ROOT / "api")) for p in [*WEB.glob("*/templates/**/*.html"), *WEB.glob("static/*"),
                                                          *WEB.glob("translations/*/LC_MESSAGES/*.mo")]}
    assert len(needed) > 30
    assert needed - shipped == set()
