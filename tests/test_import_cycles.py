"""No module of ours imports itself round a circle: every import cycle between modules is listed as a failure.

import-linter's contracts (pyproject.toml, `make lint`) check cycles between siblings; this checks the whole
graph of modules at once, across packages too, with grimp (import-linter's own graph builder).
"""

from __future__ import annotations

import grimp

PACKAGES = ("store", "forms", "engine", "oa", "crm", "api")
KNOWN: list[frozenset[str]] = []  # cycles accepted for now: none


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected sets of two or more modules (each holds at least one import cycle)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_import_cycles_are_found() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert import_cycles(graph) == [["a.x", "a.y"]]


def test_no_import_cycles() -> None:
    graph = grimp.build_graph(*PACKAGES)
    cycles = [c for c in import_cycles(graph) if frozenset(c) not in KNOWN]
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)
