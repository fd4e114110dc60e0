"""``ToolCatalogue``: the tools of the open workflow's sources, for the palette
and the inspector. ``refresh()`` lists them on a worker thread (a large
document takes a fraction of a second to read; the window never waits) and
announces ``changed``; a source that fails keeps its error for the panel.
Results are kept per source entry, so an edit elsewhere in the workflow does
not reload anything. MCP sources are listed through the window's warm
sessions (``WarmSessions``, on the event loop) when it has them: the server
started for the palette is the one the runs use. Documents read from files
(OpenAPI) are kept in the engine's ``DocumentCache`` (``documents``), shared
with the runs; a forced refresh empties it.
May import: PySide6, engine (sources), editor.workers.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from flowdesk.editor.workers import run_in_thread
from flowdesk.engine import (
    CatalogueIndex,
    FlowdeskError,
    ToolInfo,
    Workflow,
    list_catalogue,
)
from PySide6.QtCore import QObject, Signal


def _key(workflow: Workflow, name: str, root: Path) -> str:
    entry = workflow.sources.get(name, {})
    return json.dumps([str(root), entry, workflow.variables], sort_keys=True, default=str)


class ToolCatalogue(QObject):
    """Tools by source; ``changed`` after every (re)load."""

    changed = Signal()

    def __init__(
        self,
        secret_store: Any = None,
        parent: QObject | None = None,
        warm: Any = None,
        documents: Any = None,
    ) -> None:
        super().__init__(parent)
        self.secret_store = secret_store
        #: the engine's ``DocumentCache`` (None: documents are read every time)
        self.documents = documents
        #: the window's ``WarmSessions`` (MCP sources are listed through it)
        self.warm = warm
        self.tools: dict[str, list[ToolInfo]] = {}
        self.errors: dict[str, FlowdeskError] = {}
        self.loading: set[str] = set()
        self._keys: dict[str, str] = {}
        self._generation = 0
        self.index = CatalogueIndex({})

    def tool(self, source: str, name: str) -> ToolInfo | None:
        for tool in self.tools.get(source, ()):
            if tool.name == name:
                return tool
        return None

    def refresh(self, workflow: Workflow, root: Path, *, force: bool = False) -> None:
        """Load the sources whose entry changed (all of them with ``force``)."""
        names = list(workflow.sources)
        for gone in set(self.tools) | set(self.errors) | set(self._keys):
            if gone not in workflow.sources:
                self.tools.pop(gone, None)
                self.errors.pop(gone, None)
                self._keys.pop(gone, None)
        wanted = [
            name for name in names if force or self._keys.get(name) != _key(workflow, name, root)
        ]
        if not wanted:
            self._rebuild_index()
            self.changed.emit()
            return
        if force and self.documents is not None:
            self.documents.clear()
        for name in wanted:
            self._keys[name] = _key(workflow, name, root)
        self.loading |= set(wanted)
        self._generation += 1
        generation = self._generation
        snapshot = workflow.model_copy(deep=True)
        self.changed.emit()
        warm = self.warm
        if warm is not None and warm.available:
            on_loop = [name for name in wanted if warm.is_warm(workflow.sources[name])]
            for name in on_loop:  # one by one: a slow server does not hold the others
                warm.list_tools(
                    snapshot,
                    root,
                    [name],
                    lambda result, error, n=name: self._loaded([n], generation, result, error),
                )
            wanted = [name for name in wanted if name not in on_loop]
            if not wanted:
                return

        def work() -> tuple[dict[str, list[ToolInfo]], dict[str, FlowdeskError]]:
            errors: dict[str, FlowdeskError] = {}
            found = asyncio.run(
                list_catalogue(
                    snapshot,
                    workflow_dir=root,
                    only=wanted,
                    errors=errors,
                    secrets=self.secret_store,
                    documents=self.documents,
                )
            )
            return found, errors

        threaded = list(wanted)
        run_in_thread(
            work,
            lambda result, error: self._loaded(threaded, generation, result, error),
            name="tool-catalogue",
        )

    def _loaded(
        self, wanted: list[str], generation: int, result: Any, error: BaseException | None
    ) -> None:
        self.loading -= set(wanted)
        if error is not None:
            for name in wanted:
                self.errors[name] = FlowdeskError(f"{type(error).__name__}: {error}")
                self.tools.pop(name, None)
        else:
            found, errors = result
            for name in wanted:
                if name in found:
                    self.tools[name] = found[name]
                    self.errors.pop(name, None)
                elif name in errors:
                    self.errors[name] = errors[name]
                    self.tools.pop(name, None)
        if generation == self._generation or not self.loading:
            self._rebuild_index()
        self.changed.emit()

    def _rebuild_index(self) -> None:
        self.index = CatalogueIndex(self.tools)
