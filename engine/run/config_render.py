"""A node's config at run time: its expressions evaluated in the node's
scope, then validated against the type's ``Config`` model.

- a field holding an expression is evaluated (a string that is wholly one
  expression keeps its value's type; ``expression_fields`` are bare
  expressions without ``{{ }}``; ``raw_fields`` are left for the node);
- a constant config (no expression anywhere) is validated once per run and
  reused, also by every item of a ``for_each``; not at all when the run is
  handed it validated (``validate(configs=...)`` just before the run);
- an expression error names its node and field (``config.url``); an invalid
  rendered config is a ``ConfigError`` listing every problem with its path.
May import: engine.expressions, engine.errors, engine.model, engine.nodes.spec,
engine.validation_issues. Main name: ``ConfigRenderer``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError, ExpressionError
from ..expressions import Compiled, ExpressionEngine
from ..model.workflow import Node
from ..nodes.spec import NodeType
from ..validation_issues import issues_from_validation_error

#: a config field to evaluate: (key, its compiled expression, None) or, for a
#: dict or list holding expressions, (key, unused, key)
PlanEntry = tuple[str, Compiled, str | None]


class ConfigRenderer:
    """Renders and validates the configs of one run's nodes (caches per run)."""

    __slots__ = ("_known", "_validated", "expressions")

    def __init__(
        self, expressions: ExpressionEngine, validated: Mapping[str, BaseModel] | None = None
    ) -> None:
        self.expressions = expressions
        #: per node, its validated config when constant, else (``for_each``
        #: nodes only, rendered per item) its plan
        self._known: dict[str, BaseModel | list[PlanEntry]] = {}
        #: node configs validated before the run (as they are, expressions unevaluated)
        self._validated = validated or {}

    def evaluate(
        self, node: Node, field: str, source: str, scope: Mapping[str, Any], bare: bool = False
    ) -> Any:
        """One expression of ``node`` (e.g. its ``for_each``), errors located."""
        try:
            return self.expressions.evaluate(source, scope, bare=bare)
        except ExpressionError as error:
            _locate(error, node, field)
            raise

    def render(self, node: Node, node_type: type[NodeType], scope: Mapping[str, Any]) -> BaseModel:
        """The node's validated config in ``scope``."""
        known = self._known.get(node.id)
        if known is None:
            known = config_plan(self.expressions, node, node_type)
            if known is None:
                known = self._known[node.id] = self._constant(node, node_type)
                return known
            if node.for_each is not None:
                # (kept for the next item; a node rendered once does not keep
                # its plan: a long-lived object per node is work for the GC)
                self._known[node.id] = known
        elif not isinstance(known, list):
            return known  # a constant config
        rendered = dict(node.config)
        for key, compiled, path in known:
            try:
                if path is None:
                    rendered[key] = compiled.evaluate(scope)
                else:
                    rendered[key] = render_value(rendered[key], scope, self.expressions)
            except ExpressionError as error:
                _locate(error, node, f"config.{key}")
                raise
        return validate_config(node, node_type, rendered)

    def _constant(self, node: Node, node_type: type[NodeType]) -> BaseModel:
        """A constant config validated: the one validated before the run, if
        any (the same model validating the same dict), else validated now."""
        validated = self._validated.get(node.id)
        if type(validated) is node_type.Config:
            return validated
        return validate_config(node, node_type, node.config)


def _locate(error: ExpressionError, node: Node, field: str) -> None:
    """Name the node and field in the error (kept as it is otherwise: its
    cause stays, the failure report shows it)."""
    error.message = f"node {node.id!r}, {field}: {error.message}"
    error.args = (error.message,)
    error.details.update({"node": node.id, "field": field})


def config_plan(
    expressions: ExpressionEngine, node: Node, node_type: type[NodeType]
) -> list[PlanEntry] | None:
    """Which config fields need evaluating; None when the config is constant."""
    plan: list[PlanEntry] = []
    raw, bare_fields = node_type.raw_fields, node_type.expression_fields
    for key, value in node.config.items():
        if type(value) is str:  # (JSON text: never a subclass)
            if key in raw:
                continue
            compiled = expressions.compile(value, bare=key in bare_fields)
            if not compiled.is_constant:
                plan.append((key, compiled, None))
        elif isinstance(value, dict | list) and key not in raw and holds_expression(value):
            plan.append((key, expressions.compile(""), key))
    return plan or None


def holds_expression(value: Any) -> bool:
    """Whether a JSON value has a ``{{`` in any of its strings."""
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, dict):
        return any(holds_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_expression(v) for v in value)
    return False


def render_value(value: Any, scope: Mapping[str, Any], expressions: ExpressionEngine) -> Any:
    """A JSON value with every string holding an expression evaluated."""
    if isinstance(value, str):
        return expressions.evaluate(value, scope) if "{{" in value else value
    if isinstance(value, dict):
        return {k: render_value(v, scope, expressions) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, scope, expressions) for v in value]
    return value


def validate_config(node: Node, node_type: type[NodeType], config: dict[str, Any]) -> BaseModel:
    """``config`` as the type's ``Config`` model, or a located ``ConfigError``."""
    try:
        # (``model_validate`` minus its Python frame: a for_each validates per item)
        return node_type.Config.__pydantic_validator__.validate_python(config)  # type: ignore[no-any-return]
    except ValidationError as exc:
        issues = issues_from_validation_error(exc, ("config",), subject=node.type, node_id=node.id)
        problems = [{"path": issue.location, "message": issue.message} for issue in issues]
        text = "; ".join(f"{p['path']}: {p['message']}" for p in problems)
        raise ConfigError(
            f"node {node.id!r} has an invalid config: {text}",
            details={"node": node.id, "issues": problems},
        ) from None
