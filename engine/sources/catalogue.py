"""Every tool of a workflow's sources, for the editor's palette, ``flowdesk
tools`` and the planner.

``await list_catalogue(workflow, workflow_dir=...)`` opens each source (through
a ``SourceManager``, the caller's or a temporary one closed before returning)
and returns ``{source name: [ToolInfo, ...]}``; a source that fails is left
out and its error put in ``errors`` when given (else raised).
``CatalogueIndex`` answers palette searches (every word of the query in the
tool's name, title, summary, path or tags; name matches first) in well under
a millisecond per thousand tools. ``standalone_env`` builds the ``SourceEnv``
of a source opened outside a run (palette, CLI).
May import: engine.expressions, engine.credentials, engine.errors,
engine.sources.*, stdlib.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..credentials import CredentialResolver, EnvSecretStore, SecretStore
from ..errors import FlowdeskError
from ..expressions import ExpressionEngine, Namespace, to_text
from .base import SourceEnv, ToolInfo
from .documents import DocumentCache
from .manager import SourceManager
from .registry import SourceTypes

if TYPE_CHECKING:
    from ..model.workflow import Workflow


def make_render(
    variables: Mapping[str, Any],
    environ: Mapping[str, str],
    env_names: Iterable[str],
    expressions: ExpressionEngine | None = None,
) -> Callable[[str], str]:
    """``render(text)``: ``{{ vars.x }}`` and ``{{ env.X }}`` (declared names) in text,
    compiled by ``expressions`` (the engine's; by default a cache of this render's own)."""
    names = set(env_names)
    scope = {
        "vars": Namespace(
            dict(variables),
            lambda key: f"no variable {key!r} (variables: {', '.join(variables) or 'none'})",
        ),
        "env": Namespace(
            {name: environ.get(name) for name in names},
            lambda key: (
                f'env.{key} is not declared in the workflow\'s "env" list'
                if key not in names
                else f"env.{key} is not set"
            ),
        ),
    }
    engine = expressions if expressions is not None else ExpressionEngine()

    def render(text: str) -> str:
        return to_text(engine.evaluate(text, scope))

    return render


def standalone_env(
    workflow: Workflow,
    workflow_dir: Path | None,
    *,
    secrets: SecretStore | None = None,
    environ: Mapping[str, str] | None = None,
    variables: Mapping[str, Any] | None = None,
    documents: DocumentCache | None = None,
) -> SourceEnv:
    """The env of sources opened outside a run (palette, ``flowdesk tools``);
    ``documents``: where documents read from files are kept (the engine's)."""
    environ = os.environ if environ is None else environ
    store = secrets if secrets is not None else EnvSecretStore(environ)
    return SourceEnv(
        workflow_dir=workflow_dir,
        data_root=workflow_dir,
        credentials=CredentialResolver(workflow.credentials, store),
        render=make_render({**workflow.variables, **(variables or {})}, environ, workflow.env),
        environ=environ,
        documents=documents,
    )


async def list_catalogue(
    workflow: Workflow,
    *,
    workflow_dir: Path | None = None,
    manager: SourceManager | None = None,
    only: Iterable[str] | None = None,
    errors: dict[str, FlowdeskError] | None = None,
    types: SourceTypes | None = None,
    secrets: SecretStore | None = None,
    environ: Mapping[str, str] | None = None,
    variables: Mapping[str, Any] | None = None,
    documents: DocumentCache | None = None,
) -> dict[str, list[ToolInfo]]:
    """``{source: [tools]}`` of the workflow's sources (``only``: those names;
    ``variables`` override the workflow's for ``{{ vars.x }}`` in source configs;
    ``documents``: where documents read from files are kept, the engine's)."""
    own = manager is None
    if manager is None:
        env = standalone_env(
            workflow,
            workflow_dir,
            secrets=secrets,
            environ=environ,
            variables=variables,
            documents=documents,
        )
        manager = SourceManager(workflow.sources, env, types)
    names = list(workflow.sources) if only is None else list(only)
    out: dict[str, list[ToolInfo]] = {}
    try:
        for name in names:
            try:
                tools = await manager.tools(name)
            except FlowdeskError as error:
                if errors is None:
                    raise
                errors[name] = error
                continue
            out[name] = list(tools.values())
    finally:
        if own:
            await manager.aclose()
    return out


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    source: str
    tool: ToolInfo

    @property
    def ref(self) -> str:
        """``source__tool`` (palette entry, ``flowdesk tools call``)."""
        return f"{self.source}__{self.tool.name}"


class CatalogueIndex:
    """Search over the tools of a catalogue (built once, queried per keystroke)."""

    def __init__(self, catalogue: Mapping[str, list[ToolInfo]]) -> None:
        self.entries: list[CatalogueEntry] = []
        self._names: list[str] = []
        self._haystacks: list[str] = []
        for source, tools in catalogue.items():
            for tool in tools:
                entry = CatalogueEntry(source, tool)
                self.entries.append(entry)
                self._names.append(entry.ref.lower())
                summary = tool.title or tool.description.split("\n", 1)[0]
                self._haystacks.append(
                    " ".join((entry.ref, summary, tool.path, " ".join(tool.tags))).lower()
                )

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, query: str, limit: int | None = None) -> list[CatalogueEntry]:
        """Entries holding every word of ``query``; name matches first."""
        words = query.lower().split()
        if not words:
            return self.entries[:limit] if limit else list(self.entries)
        first: list[CatalogueEntry] = []
        rest: list[CatalogueEntry] = []
        names, haystacks, entries = self._names, self._haystacks, self.entries
        for i, hay in enumerate(haystacks):
            if all(word in hay for word in words):
                name = names[i]
                (first if all(word in name for word in words) else rest).append(entries[i])
        found = first + rest
        return found[:limit] if limit else found
