"""The web app's layout by area (issue #18): no import circle through api/web, every area has its pages,
templates and tests, every template a page names is found, and the wheel's package data ships them all."""

from __future__ import annotations

import ast
import glob
import tomllib
from pathlib import Path

from jinja2 import nodes

from tests.web.conftest import ROOT

WEB = ROOT / "api" / "web"
AREAS = ("common", "approvals", "crm", "oa", "designer", "reports")
FIRST_PARTY = ("api", "engine", "oa", "crm", "forms", "store")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """module -> first-party modules it imports (anywhere in the file, functions included), as grimp sees it."""
    files = {_module_name(p): p for pkg in FIRST_PARTY for p in (ROOT / pkg).rglob("*.py")
             if "tests" not in p.relative_to(ROOT).parts[1:]}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in files else base)
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_passes_through_the_web_app() -> None:
    graph = _import_graph()
    assert "api.web.crm.pages" in graph and "api.web.blueprint" in graph["api.web.crm.pages"]
    circles = [sorted(c) for c in _cycles(graph) if any(m == "api.web" or m.startswith("api.web.") for m in c)]
    assert circles == [], circles
    # the blueprint module imports no page back
    assert not {m for m in graph["api.web.blueprint"] if m.startswith("api.web")}


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
