"""Graph validation: every rule of the spec, every problem at once.

``validate(workflow, registry)`` returns ``Issue``s located in the file
(``nodes[2].config.mode``, ``edges[0]``, ``cycle``): duplicate ids, unknown
types, unknown ports, edges to missing nodes, single-edge inputs with several
edges, duplicate edges, cycles (``cycle: a → b → a``), expressions that do not
parse or name a node that is not upstream or an undeclared ``env`` name,
configs that do not fit their type's model (values holding expressions are
checked at run time instead), and undeclared credentials.
May import: engine.model, engine.registry, engine.expressions, engine.errors,
engine.run.graph (the graph walks: upstream, cycles), engine.validation_issues
(pydantic's errors in words).
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import (
    ExpressionError,
    FlowdeskError,
    Issue,
    IssuePath,
    WorkflowLoadError,
    location_path,
)
from .expressions import ExpressionEngine, has_expression, referenced_names, walk_strings
from .io import load_workflow, parse_workflow, read_json
from .model.migrations import FORMAT_VERSION
from .model.workflow import FORMAT, Node, Workflow
from .registry import NodeRegistry
from .run.graph import Graph
from .validation_issues import issues_from_validation_error


def validate(
    workflow: Workflow,
    registry: NodeRegistry,
    expressions: ExpressionEngine | None = None,
    *,
    configs: dict[str, BaseModel] | None = None,
) -> list[Issue]:
    """Every problem of ``workflow``; an empty list when it can run.
    ``expressions`` is the compiled-expression cache to use (an ``Engine``'s,
    shared with its runs); without one, a fresh cache for this call.
    ``configs`` receives, by node id, the configs that validated, for a run
    started right after to reuse (``Engine.start(configs=...)``)."""
    validator = _Validator(workflow, registry, expressions or ExpressionEngine())
    issues = validator.run()
    if configs is not None:
        configs.update(validator.configs)
    return issues


#: a fully cyclic graph lists this many cycles, then a count
MAX_CYCLES_REPORTED = 10


class _Validator:
    def __init__(
        self, workflow: Workflow, registry: NodeRegistry, expressions: ExpressionEngine
    ) -> None:
        self.workflow = workflow
        self.registry = registry
        self.expressions = expressions
        self.issues: list[Issue] = []
        #: by node id, the configs that fit their type's model
        self.configs: dict[str, BaseModel] = {}
        self.index: dict[str, int] = {}
        #: the nodes with a unique id and the edges between them that can run
        self.graph = Graph()

    def add(
        self, location: str, message: str, node_id: str | None = None, path: IssuePath = ()
    ) -> None:
        self.issues.append(Issue(location, message, node_id, path=path))

    def run(self) -> list[Issue]:
        self._check_ids()
        self._check_edges()
        self._check_cycles()
        for position, node in enumerate(self.workflow.nodes):
            self._check_node(position, node)
        if self.workflow.sources:
            self._check_sources()
        return self.issues

    def _check_sources(self) -> None:
        """Each ``sources`` entry: its name, type, config and credential."""
        from .sources.registry import SourceTypes

        types = SourceTypes.default()
        for name, entry in self.workflow.sources.items():
            where = f"sources.{name}"
            if not _SOURCE_NAME.match(name) or "__" in name:
                self.add(
                    where,
                    f"invalid source name {name!r}: use letters, digits and single '_', "
                    "starting with a letter (tools appear as NAME__tool)",
                )
            kind = entry.get("type")
            if not isinstance(kind, str):
                self.add(f"{where}.type", "field required (the source type, e.g. 'openapi')")
                continue
            source_type = types.find(kind)
            if source_type is None:
                known = ", ".join(types.names()) or "none"
                self.add(f"{where}.type", f"unknown source type {kind!r} (known: {known})")
                continue
            try:
                source_type.parse_config(entry)
            except ValidationError as exc:
                self.issues.extend(
                    issues_from_validation_error(
                        exc,
                        ("sources", name),
                        subject=f"{kind} sources",
                        skip=partial(self._holds_expression, entry),
                    )
                )
            credential = entry.get("credential")
            if isinstance(credential, str) and credential and not has_expression(credential):
                ref = self.workflow.credentials.get(credential)
                if ref is None:
                    declared = ", ".join(sorted(self.workflow.credentials)) or "none"
                    self.add(
                        f"{where}.credential",
                        f'credential {credential!r} is not declared in "credentials" '
                        f"(declared: {declared})",
                    )
                elif source_type.credential_kinds and ref.type not in source_type.credential_kinds:
                    self.add(
                        f"{where}.credential",
                        f"credential {credential!r} is of type {ref.type!r}; {kind} sources "
                        f"take {', '.join(source_type.credential_kinds)}",
                    )

    def _check_ids(self) -> None:
        for position, node in enumerate(self.workflow.nodes):
            if node.id in self.index:
                first = self.index[node.id]
                self.add(
                    f"nodes[{position}].id",
                    f"duplicate id {node.id!r} (also nodes[{first}])",
                    node.id,
                )
                continue
            self.index[node.id] = position
            self.graph.add_node(node.id)
            if self.registry.find(node.type) is None:
                self.add(
                    f"nodes[{position}].type",
                    f"unknown node type {node.type!r} (not installed)",
                    node.id,
                )

    def _node_type(self, node_id: str) -> Any:
        position = self.index.get(node_id)
        if position is None:
            return None
        return self.registry.find(self.workflow.nodes[position].type)

    def _check_edges(self) -> None:
        seen: dict[tuple[str, str, str, str], int] = {}
        into: dict[tuple[str, str], int] = {}
        for position, edge in enumerate(self.workflow.edges):
            where = f"edges[{position}]"
            source, target = edge.source, edge.target
            broken = False
            for end, ref in (("from", source), ("to", target)):
                if ref.node not in self.index:
                    self.add(where, f"node {ref.node!r} does not exist ({end!r} end)")
                    broken = True
            if broken:
                continue
            source_type = self._node_type(source.node)
            if source_type is not None and source_type.output_port(source.port) is None:
                names = ", ".join(p.name for p in source_type.outputs) or "none"
                self.add(
                    f"{where}.from.port",
                    f"node {source.node!r} ({source_type.type_name}) has no output port "
                    f"{source.port!r} (outputs: {names})",
                    source.node,
                )
                broken = True
            target_type = self._node_type(target.node)
            port = target_type.input_port(target.port) if target_type is not None else None
            if target_type is not None and port is None:
                names = ", ".join(p.name for p in target_type.inputs) or "none"
                self.add(
                    f"{where}.to.port",
                    f"node {target.node!r} ({target_type.type_name}) has no input port "
                    f"{target.port!r} (inputs: {names})",
                    target.node,
                )
                broken = True
            if source.node == target.node:
                self.add(where, f"node {source.node!r} is connected to itself", source.node)
                broken = True
            key = edge.key()
            if key in seen:
                self.add(where, f"duplicate of edges[{seen[key]}]", target.node)
                continue
            seen[key] = position
            if port is not None and not port.multiple and not broken:
                slot = (target.node, target.port)
                if slot in into:
                    self.add(
                        where,
                        f"input {target.port!r} of node {target.node!r} already has an edge "
                        f"(edges[{into[slot]}]); it takes one",
                        target.node,
                    )
                else:
                    into[slot] = position
            if source.node != target.node:
                self.graph.add_edge(source.node, source.port, target.node, target.port)

    def _check_cycles(self) -> None:
        _, remaining = self.graph.topological_order()
        reported: set[str] = set()
        cycles: set[frozenset[str]] = set()
        for start in [n.id for n in self.workflow.nodes if n.id in remaining]:
            if start in reported:
                continue
            cycle = self.graph.cycle_from(start, remaining)
            reported.add(start)  # (a path into a known cycle reports it once)
            if cycle is None or frozenset(cycle) in cycles:
                continue
            reported.update(cycle)
            cycles.add(frozenset(cycle))
            if len(cycles) > MAX_CYCLES_REPORTED:
                others = len(remaining - reported)
                self.add("cycle", f"more cycles ({others} more nodes are in or behind one)")
                break
            self.add("cycle", " → ".join([*cycle, cycle[0]]), cycle[0])

    def _check_node(self, position: int, node: Node) -> None:
        node_type = self.registry.find(node.type)
        where = f"nodes[{position}]"
        if node.for_each is not None:
            self._check_expression(f"{where}.for_each", node, node.for_each, bare=False)
        expression_fields = node_type.expression_fields if node_type else frozenset()
        for path, text in walk_strings(node.config):
            top = path.split(".", 1)[0].split("[", 1)[0]
            bare = path == top and top in expression_fields
            if has_expression(text) or bare:
                self._check_expression(f"{where}.config.{path}", node, text, bare=bare)
        if node_type is None:
            return
        try:
            self.configs[node.id] = node_type.Config.model_validate(node.config)
        except ValidationError as exc:
            raw_fields = node_type.raw_fields

            def checked_at_run_time(loc: tuple[Any, ...]) -> bool:
                return bool(loc and loc[0] in raw_fields) or self._holds_expression(
                    node.config, loc
                )

            self.issues.extend(
                issues_from_validation_error(
                    exc,
                    (*location_path(where), "config"),
                    subject=node.type,
                    node_id=node.id,
                    skip=checked_at_run_time,
                )
            )
        self._check_constants(where, node, node_type)
        self._check_credential(where, node, node_type)
        if node.type == "tool.call":
            source = node.config.get("source")
            if isinstance(source, str) and source and not has_expression(source):
                if source not in self.workflow.sources:
                    declared = ", ".join(self.workflow.sources) or "none"
                    self.add(
                        f"{where}.config.source",
                        f'source {source!r} is not declared in "sources" (declared: {declared})',
                        node.id,
                    )

    def _check_constants(self, where: str, node: Node, node_type: Any) -> None:
        """The checks the run makes on a field's value (a URL that parses…),
        made now on values without expressions."""
        for key, check in node_type.config_checks.items():
            value = node.config.get(key)
            location = f"{where}.config.{key}"
            if not isinstance(value, str) or has_expression(value):
                continue
            if any(i.location == location for i in self.issues):
                continue  # already wrong in its type
            try:
                check(value)
            except FlowdeskError as error:
                message = error.message
                for prefix in (f"config.{key}: ", f"config.{key} "):
                    message = message.removeprefix(prefix)
                self.add(location, message, node.id)

    def _holds_expression(self, config: Any, loc: tuple[Any, ...]) -> bool:
        value = config
        for part in loc:
            if isinstance(value, str):
                return has_expression(value)
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return False
        return isinstance(value, str) and has_expression(value)

    def _check_expression(self, location: str, node: Node, text: str, bare: bool) -> None:
        try:
            compiled = self.expressions.compile(text, bare=bare)
        except ExpressionError as error:
            self.add(location, error.message, node.id)
            return
        for root, key in referenced_names(compiled):
            if root == "nodes" and key is not None:
                if key not in self.index:
                    self.add(
                        location, f"expression names node {key!r}, which does not exist", node.id
                    )
                elif key == node.id:
                    self.add(location, f"expression names node {key!r} itself", node.id)
                elif not self.graph.is_upstream(key, node.id):
                    self.add(
                        location,
                        f"expression names node {key!r}, which is not upstream of {node.id!r}",
                        node.id,
                    )
            elif root == "env" and key is not None and key not in self.workflow.env:
                self.add(
                    location,
                    f'env.{key} is not declared in the workflow\'s "env" list',
                    node.id,
                )
            elif root in ("item", "index") and node.for_each is None:
                self.add(location, f"{root!r} is only defined in a node with for_each", node.id)

    def _check_credential(self, where: str, node: Node, node_type: Any) -> None:
        if "credential" in node.config:
            name = node.config["credential"]
        else:  # the type's default (ai.transform uses "openrouter")
            field = node_type.Config.model_fields.get("credential")
            name = field.default if field is not None else None
        if not isinstance(name, str) or not name or has_expression(name):
            return
        ref = self.workflow.credentials.get(name)
        if ref is None:
            declared = ", ".join(sorted(self.workflow.credentials)) or "none"
            self.add(
                f"{where}.config.credential",
                f'credential {name!r} is not declared in "credentials" (declared: {declared})',
                node.id,
            )
        elif node_type.credential_kinds and ref.type not in node_type.credential_kinds:
            kinds = ", ".join(node_type.credential_kinds)
            self.add(
                f"{where}.config.credential",
                f"credential {name!r} is of type {ref.type!r}; {node.type} takes {kinds}",
                node.id,
            )


_SOURCE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_INDEXED = re.compile(r"^(nodes|edges)\[(\d+)\]")


def check_source(
    raw: Any,
    registry: NodeRegistry,
    source: str | None = None,
    *,
    configs: dict[str, BaseModel] | None = None,
) -> tuple[Workflow | None, list[Issue]]:
    """Load and validate a parsed workflow file, reporting every problem at once.

    When the file does not even fit the format, the nodes and edges that do are
    still checked as a graph (a cycle is reported next to a bad id), with
    locations pointing into the original file. Returns the workflow when it
    loaded, and the issues (empty when it can run). ``configs``: as ``validate``'s.
    """
    try:
        workflow = parse_workflow(raw, registry, source)
    except WorkflowLoadError as exc:
        issues = list(exc.issues)
        return None, issues + _salvaged_graph_issues(raw, registry, issues)
    return workflow, validate(workflow, registry, configs=configs)


def check_file(
    path: str, registry: NodeRegistry, *, configs: dict[str, BaseModel] | None = None
) -> tuple[Workflow | None, list[Issue]]:
    """``check_source`` for a file path (unreadable or non-JSON files included)."""
    try:
        raw = read_json(Path(path).read_bytes(), path)
    except WorkflowLoadError as exc:
        return None, list(exc.issues)
    except OSError:
        try:
            load_workflow(path, registry)
        except WorkflowLoadError as exc:
            return None, list(exc.issues)
        raise
    return check_source(raw, registry, path, configs=configs)


def _salvaged_graph_issues(raw: Any, registry: NodeRegistry, issues: list[Issue]) -> list[Issue]:
    if not isinstance(raw, dict) or any(i.location == "version" for i in issues):
        return []
    nodes, edges = raw.get("nodes"), raw.get("edges")
    if not isinstance(nodes, list) or not isinstance(edges, list):
        return []
    bad: dict[str, set[int]] = {"nodes": set(), "edges": set()}
    bad_top: set[str] = set()
    for issue in issues:
        match = _INDEXED.match(issue.location)
        if match:
            bad[match.group(1)].add(int(match.group(2)))
        elif issue.location:
            bad_top.add(issue.location.split(".", 1)[0].split("[", 1)[0])
    if bad_top & {"nodes", "edges"}:
        return []
    keep_nodes = [i for i in range(len(nodes)) if i not in bad["nodes"]]
    keep_edges = [i for i in range(len(edges)) if i not in bad["edges"]]
    dropped_ids = {
        n.get("id") for i, n in enumerate(nodes) if i in bad["nodes"] and isinstance(n, dict)
    }
    salvaged = {k: v for k, v in raw.items() if k not in bad_top}
    salvaged.update(
        format=FORMAT,
        version=FORMAT_VERSION,
        name=raw.get("name") if isinstance(raw.get("name"), str) and raw.get("name") else "?",
        nodes=[nodes[i] for i in keep_nodes],
        edges=[edges[i] for i in keep_edges],
    )
    try:
        workflow = Workflow.model_validate(salvaged)
    except ValidationError:
        return []
    maps = {"nodes": keep_nodes, "edges": keep_edges}
    out = []
    for issue in validate(workflow, registry):
        if any(f"node {d!r} does not exist" in issue.message for d in dropped_ids):
            continue
        location = _INDEXED.sub(
            lambda m: f"{m.group(1)}[{maps[m.group(1)][int(m.group(2))]}]", issue.location
        )
        out.append(Issue(location, issue.message, issue.node_id, issue.severity))
    return out
