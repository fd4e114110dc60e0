"""Fail on any import cycle between Flowdesk's modules that is not a known one.

Run by scripts/lint-imports.sh (in its tree laid out as installed, where grimp
can read ``flowdesk``). A cycle is a strongly connected component of the graph
of every import between the modules of ``flowdesk`` — at module level, inside
functions, and under ``TYPE_CHECKING`` (an annotation that needs the other
module still ties the two together). ``KNOWN`` lists the cycles not broken
yet (issue 21, section 8): a component may only shrink within one of them; a
new cycle, or a module joining a known one, fails with the imports that close it.
"""

from __future__ import annotations

import sys

import grimp

#: cycles not broken yet: each may lose modules, never gain one. Empty: issue
#: 21 broke the last ones (credentials <-> oauth2 and the knot around it,
#: executor <-> run.loop), so any cycle at all fails.
KNOWN: list[frozenset[str]] = []


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    modules = set(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & modules) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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


def main() -> int:
    graph = grimp.build_graph("flowdesk", cache_dir=None)
    if "flowdesk.engine" not in graph.modules:  # the editable install, not the tree
        sys.stdout.write("flowdesk.engine not found: run through scripts/lint-imports.sh\n")
        return 2
    bad = 0
    for component in cycles(graph):
        short = {m.removeprefix("flowdesk.") for m in component}
        if any(short <= known for known in KNOWN):
            continue
        bad += 1
        sys.stdout.write(f"import cycle: {', '.join(sorted(short))}\n")
        for importer in component:
            for imported in component:
                for detail in graph.get_import_details(importer=importer, imported=imported):
                    sys.stdout.write(
                        f"  {importer.removeprefix('flowdesk.')}:{detail['line_number']}: "
                        f"{detail['line_contents']}\n"
                    )
    if bad:
        plural = "s" if bad != 1 else ""
        sys.stdout.write(f"{bad} new import cycle{plural} (see scripts/import_cycles.py)\n")
        return 1
    sys.stdout.write("Import cycles: none new.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
