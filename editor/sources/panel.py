"""The Sources panel and its wiring: the workflow's tool sources with their
state (starting…, ready with N tools, failed with the reason), buttons to add
an OpenAPI document from a file or a URL, import an MCP configuration
(``mcp_ui``), refresh one, remove one; the offer to create the credential
the document's security schemes call for; and the hooks that put the tools
in the palette, drop them on the canvas as ``tool.call`` nodes, and give the
inspector their argument forms.

A file outside the workflow's folder is copied into its ``specs/`` folder
(source paths are relative to the workflow's folder); a workflow never saved
takes URLs only. Every change is one undoable command. MCP sources run in
the window's warm sessions (``warm``): their state shows here and on the tool
nodes that use them, their server's stderr in the log dock.
May import: PySide6, engine (sources), editor.*.
"""

from __future__ import annotations

import asyncio
import copy
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flowdesk.editor.canvas.style import HEADER_HEIGHT, NODE_WIDTH
from flowdesk.editor.document import UNSET, DocumentError
from flowdesk.editor.document.clipboard import new_node_json
from flowdesk.editor.document.commands import AddNode, Composite, SetWorkflowField
from flowdesk.editor.document.document import sanitize_id
from flowdesk.editor.sources.catalogue import ToolCatalogue
from flowdesk.editor.sources.mcp_ui import (
    add_mcp_server,
    error_box,
    import_mcp_config,
    node_warnings,
    source_state,
)
from flowdesk.editor.sources.palette_tools import set_tools
from flowdesk.editor.sources.tool_form import tool_form_for
from flowdesk.editor.sources.warm import WarmSessions
from flowdesk.editor.text import plural
from flowdesk.editor.theme import current_theme, icon
from flowdesk.editor.workers import run_in_thread
from flowdesk.engine import split_tool_ref
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from flowdesk.editor.window_api import Window

NAME_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_ROLE = Qt.ItemDataRole.UserRole + 2
SPEC_FILTER = "API descriptions (*.json *.yaml *.yml);;All files (*)"


def full_command(entry: dict[str, Any]) -> str:
    """An MCP entry's command line (the row's tooltip)."""
    command = entry.get("command") or []
    argv = [command] if isinstance(command, str) else list(command)
    return " ".join(str(part) for part in [*argv, *(entry.get("args") or [])])


def short_command(entry: dict[str, Any]) -> str:
    """The command line with paths as their file names (the row's second line):
    ``python mcp_server.py`` rather than two long paths."""
    return " ".join(
        Path(part).name if "/" in part or "\\" in part else part
        for part in full_command(entry).split(" ")
    )


def source_name(spec: str, taken: set[str]) -> str:
    """A source name from a file name or URL: an identifier without ``__``."""
    if re.match(r"^https?://", spec):
        parts = urlsplit(spec)
        stem = (parts.hostname or "api").split(".")
        base = next((p for p in stem if p not in ("www", "api", "127", "localhost")), stem[0])
        if base.isdigit():
            base = "api"
    else:
        base = Path(spec).name.split(".")[0]
    name = re.sub(r"[^A-Za-z0-9]+", "_", base).strip("_").lower() or "api"
    if not name[0].isalpha():
        name = f"api_{name}"
    name = re.sub(r"_+", "_", name)[:40]
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


class SourcesPanel(QWidget):
    """The list of sources and its buttons (see the module docstring)."""

    def __init__(self, ui: SourcesUi, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ui = ui
        self.setObjectName("sourcesPanel")
        self.setAccessibleName("Tool sources")
        self.list = QListWidget(self)
        self.list.setObjectName("sourcesList")
        self.list.setAccessibleName("Sources")
        self.list.setWordWrap(True)
        self.list.setSpacing(3)  # rows of two or three lines stay apart
        self.add_file = QPushButton("Add file…")
        self.add_url = QPushButton("Add URL…")
        # MCP: a server typed in, or the servers of a desktop configuration
        self.add_mcp = QPushButton("Add MCP server…")
        mcp_menu = QMenu(self.add_mcp)
        mcp_menu.setObjectName("mcpMenu")
        self.add_server_entry = mcp_menu.addAction(
            "Command or URL…", lambda: add_mcp_server(self.ui)
        )
        self.import_config_entry = mcp_menu.addAction(
            "Import MCP config (mcpServers)…", lambda: import_mcp_config(self.ui)
        )
        self.add_mcp.setMenu(mcp_menu)
        # (icons: the three add buttons and these fit the narrow dock in two rows)
        self.refresh_button = QToolButton()
        self.refresh_button.setText("Refresh")
        self.refresh_button.setIcon(icon("reset"))
        self.remove_button = QToolButton()
        self.remove_button.setText("Remove")
        self.remove_button.setIcon(icon("trash"))
        for button, tip in (
            (self.add_file, "Add an OpenAPI document (JSON or YAML) from a file"),
            (self.add_url, "Add an OpenAPI document from an http(s) URL"),
            (
                self.add_mcp,
                "Add an MCP server: its command line or URL, or the servers of a desktop "
                "configuration (mcpServers, as Claude Desktop and VS Code write it)",
            ),
            (self.refresh_button, "Read the selected source again (all when none is selected)"),
            (self.remove_button, "Remove the selected source from the workflow"),
        ):
            button.setToolTip(tip)
            button.setAccessibleName(button.text().rstrip("…"))
        self.add_file.clicked.connect(self._add_file_dialog)
        self.add_url.clicked.connect(self._add_url_dialog)
        self.refresh_button.clicked.connect(lambda: self.ui.refresh(self.selected(), force=True))
        self.remove_button.clicked.connect(self._remove_selected)
        self.empty = QLabel(
            "No sources yet. Add an OpenAPI document or import an MCP configuration: "
            "their tools appear in the palette."
        )
        self.empty.setObjectName("fieldHelp")
        self.empty.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 6, 4)
        layout.setSpacing(6)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        first = QHBoxLayout()
        first.addWidget(self.add_file)
        first.addWidget(self.add_url)
        second = QHBoxLayout()
        second.addWidget(self.add_mcp, 1)
        second.addWidget(self.refresh_button)
        second.addWidget(self.remove_button)
        layout.addLayout(first)
        layout.addLayout(second)

    def selected(self) -> str | None:
        item = self.list.currentItem()
        return str(item.data(NAME_ROLE)) if item is not None else None

    def update_list(self) -> None:
        sources = self.ui.workflow.sources
        current = self.selected()
        self.list.clear()
        for name, entry in sources.items():
            kind = entry.get("type", "?")
            state = source_state(self.ui, name)
            text = f"⚠ {state.text}" if state.kind == "failed" else state.text
            spec = entry.get("spec") or entry.get("url") or short_command(entry)
            lines = [f"{name}  ·  {kind}  ·  {text}"]
            if state.reason:
                lines.append(state.reason)
            lines.append(str(spec))
            item = QListWidgetItem("\n".join(lines))
            item.setData(NAME_ROLE, name)
            item.setData(STATE_ROLE, state.kind)
            full = spec if entry.get("spec") or entry.get("url") else full_command(entry)
            item.setToolTip(f"{name}: {state.detail or text}\n{full}")
            if state.kind == "failed":
                item.setForeground(QColor(current_theme().problem))
            self.list.addItem(item)
            if name == current:
                self.list.setCurrentItem(item)
        self.empty.setVisible(not sources)

    def _add_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Add an API description", str(self.ui.data_root()), SPEC_FILTER
        )
        if path:
            self.ui.add_source(path)

    def _add_url_dialog(self) -> None:
        url, ok = QInputDialog.getText(
            self, "Add an API description", "URL of an OpenAPI document (JSON or YAML):"
        )
        if ok and url.strip():
            self.ui.add_source(url.strip())

    def _remove_selected(self) -> None:
        name = self.selected()
        if name is not None:
            self.ui.remove_source(name)


class SourcesUi:
    """The window's tool sources: catalogue, panel, palette and inspector hooks."""

    def __init__(self, window: Window, secret_store: Any = None) -> None:
        self.window = window
        self.warm = WarmSessions(secret_store, window)
        self.catalogue = ToolCatalogue(
            secret_store, window, warm=self.warm, documents=window.bridge.engine.documents
        )
        #: ``show_error(title, message)`` (tests replace it)
        self.show_error = lambda title, message: error_box(self, title, message)
        self.panel = SourcesPanel(self)
        #: ``ask_credential(source, suggestions) -> reference | None`` (tests replace it)
        self.ask_credential = self._ask_credential
        self.pending_offer: set[str] = set()
        controller = window.controller
        controller.document_replaced.connect(self._document_replaced)
        controller.edited.connect(self._edited)
        controller.path_changed.connect(lambda _p: self.refresh())
        self.catalogue.changed.connect(self._catalogue_changed)
        # MCP: runs lease the warm sessions; their states and stderr show here
        window.bridge.source_pool = self.warm.pool
        self.warm.state_changed.connect(self._state_changed)
        self.warm.tools_changed.connect(lambda name: self.refresh(name, force=True))
        self.warm.stderr_line.connect(window.bridge.add_source_line)
        window.node_palette.tool_activated.connect(
            lambda ref: self.add_tool_node(ref, window.view.center_scene())
        )
        window.interactions.tool_dropped = self.add_tool_node
        window.inspector.tool_form = tool_form_for(self.catalogue.tool)
        self._sources_seen = copy.deepcopy(self.workflow.sources)
        self.refresh()

    def add_menu_entries(self) -> None:
        """File ▸ Import API… (a file), Import API from URL… and Import MCP
        config…, above Credentials…"""
        menu = self.window.menuBar().findChild(QMenu, "menu_file")
        if menu is None:
            return
        before = self.window.ui_actions.by_name.get("credentials")
        for name, text, tip, slot in (
            (
                "import_api",
                "Import API…",
                "Add an OpenAPI document from a file as a source",
                self.panel._add_file_dialog,
            ),
            (
                "import_api_url",
                "Import API from URL…",
                "Add an OpenAPI document from an http(s) URL as a source",
                self.panel._add_url_dialog,
            ),
            (
                "add_mcp_server",
                "Add MCP server…",
                "Add an MCP server from its command line (stdio) or URL (Streamable HTTP)",
                lambda: add_mcp_server(self),
            ),
            (
                "import_mcp",
                "Import MCP config…",
                "Add the MCP servers of a desktop configuration (mcpServers) as sources",
                lambda: import_mcp_config(self),
            ),
        ):
            action = QAction(text, self.window)
            action.setObjectName(f"action_{name}")
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.triggered.connect(slot)
            if before is not None:
                menu.insertAction(before, action)
            else:
                menu.addAction(action)
            setattr(self, f"{name}_action", action)

    # -------------------------------------------------------------- state
    @property
    def workflow(self) -> Any:
        return self.window.controller.document.workflow

    def data_root(self) -> Path:
        return Path(self.window.run.runs.data_root())

    def refresh(self, name: str | None = None, *, force: bool = False) -> None:
        workflow = self.workflow
        if force:  # a warm MCP session lists its tools again
            for each in [name] if name is not None else list(workflow.sources):
                self.warm.invalidate(each)
        if name is not None and force:
            self.catalogue.errors.pop(name, None)
            self.catalogue._keys.pop(name, None)
            force = False
        self.catalogue.refresh(workflow, self.data_root(), force=force)

    def _edited(self) -> None:
        sources = self.workflow.sources
        if sources != self._sources_seen:
            self._sources_seen = copy.deepcopy(sources)
            self.warm.sync(sources)  # an edited or removed MCP source: its server stops
            self.refresh()
        self.update_badges()

    def _document_replaced(self, _document: Any) -> None:
        self.warm.close_all()  # the document was closed: so are its servers
        self._sources_seen = copy.deepcopy(self.workflow.sources)
        self.refresh()

    def close_sessions(self) -> None:
        """The window closes: stop every MCP server (waits a few seconds at most)."""
        self.warm.close_now()

    def _state_changed(self, name: str) -> None:
        live = self.warm.state(name)
        if live is not None and live[0] == "ready" and name in self.catalogue.errors:
            self.refresh(name, force=True)  # a run restarted it: list its tools
        self.panel.update_list()
        self.update_badges()

    def update_badges(self) -> None:
        """Badge the tool nodes whose source failed."""
        self.window.scene.set_source_warnings(node_warnings(self))

    def _catalogue_changed(self) -> None:
        set_tools(self.window.node_palette, self.catalogue.tools)
        self.panel.update_list()
        self.update_badges()
        for name in list(self.pending_offer):
            if name in self.catalogue.tools or name in self.catalogue.errors:
                self.pending_offer.discard(name)
                if name in self.catalogue.tools:
                    self._offer_credential(name)
        inspector = self.window.inspector
        node_id = inspector.node_id
        if node_id is not None and inspector.doc.has_node(node_id):
            if inspector.doc.node(node_id).type == "tool.call":
                inspector.show_nodes(inspector.selection)

    # ------------------------------------------------------------- sources
    def add_source(self, spec: str, name: str | None = None) -> str | None:
        """Add an OpenAPI source from a file path or URL; its name, or None."""
        if not re.match(r"^https?://", spec):
            relative = self._relative_spec(Path(spec))
            if relative is None:
                return None
            spec = relative
        sources = dict(self.workflow.sources)
        name = name or source_name(spec, set(sources))
        sources[name] = {"type": "openapi", "spec": spec}
        if not self._push(SetWorkflowField("sources", sources, text=f"Add source {name}")):
            return None
        self.pending_offer.add(name)
        self.window.show_message(f"Source {name!r} added; reading its tools…")
        return name

    def _relative_spec(self, path: Path) -> str | None:
        if self.window.controller.path is None:
            QMessageBox.information(
                self.window,
                "Save the workflow first",
                "A document file is kept next to the workflow (paths are relative to its "
                "folder). Save the workflow first, or add the document by URL.",
            )
            return None
        root = self.data_root().resolve()
        real = path.resolve()
        if root not in real.parents:
            target = root / "specs" / real.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.resolve() != real:
                shutil.copyfile(real, target)
            real = target
        return real.relative_to(root).as_posix()

    def remove_source(self, name: str) -> None:
        sources = {k: v for k, v in self.workflow.sources.items() if k != name}
        users = [
            n.id
            for n in self.workflow.nodes
            if n.type == "tool.call" and n.config.get("source") == name
        ]
        if users:
            self.window.show_message(
                f"Source {name!r} removed; {plural(len(users), 'tool node')} still "
                f"name{'s' if len(users) == 1 else ''} it."
            )
        self._push(SetWorkflowField("sources", sources or UNSET, text=f"Remove source {name}"))

    def push(self, command: Any) -> bool:
        """Push an undoable command; False (with a message) when refused."""
        return self._push(command)

    def _push(self, command: Any) -> bool:
        try:
            self.window.controller.push(command)
        except DocumentError as exc:
            self.window.show_message(str(exc))
            return False
        return True

    # ---------------------------------------------------------- credentials
    def _offer_credential(self, name: str) -> None:
        entry = self.workflow.sources.get(name, {})
        if entry.get("type") != "openapi" or entry.get("credential"):
            return
        from flowdesk.engine import load_openapi_spec

        spec, root = str(entry.get("spec", "")), self.data_root()

        def work() -> list[dict[str, Any]]:
            # (files come from the engine's cache; a URL is fetched once more)
            loaded = asyncio.run(load_openapi_spec(spec, root, cache=self.catalogue.documents))
            return loaded.credential_suggestions()

        def done(result: Any, error: BaseException | None) -> None:
            if error is None and result:
                self.offer_credential(name, result)

        run_in_thread(work, done, name="credential-offer")

    def offer_credential(self, name: str, suggestions: list[dict[str, Any]]) -> bool:
        """Ask whether to create the credential reference the document calls for."""
        if name not in self.workflow.sources or not suggestions:
            return False
        reference = self.ask_credential(name, suggestions)
        if reference is None:
            return False
        credentials = {
            key: ref.model_dump(by_alias=True, exclude_unset=True)
            for key, ref in self.workflow.credentials.items()
        }
        cred_name = name if name not in credentials else f"{name}_auth"
        credentials[cred_name] = reference
        sources = copy.deepcopy(dict(self.workflow.sources))
        sources[name]["credential"] = cred_name
        command = Composite(
            f"Add credential {cred_name}",
            [
                SetWorkflowField("credentials", credentials),
                SetWorkflowField("sources", sources),
            ],
        )
        if not self._push(command):
            return False
        self.window.show_message(
            f"Credential {cred_name!r} added: store its secret in Credentials…"
        )
        return True

    def _ask_credential(
        self, name: str, suggestions: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        labels = [
            f"{s['scheme']}: {s['credential']['type']}"
            + (f" ({s['credential'].get('name')})" if s["credential"].get("name") else "")
            for s in suggestions
        ]
        choice, ok = QInputDialog.getItem(
            self.window,
            "Create a credential?",
            f"The API of source {name!r} asks for authentication.\n"
            "Create a credential reference for it (the secret goes to the keyring)?",
            labels,
            0,
            False,
        )
        if not ok:
            return None
        reference = dict(suggestions[labels.index(choice)]["credential"])
        if reference["type"] == "basic":
            user, ok = QInputDialog.getText(self.window, "User name", "User name for basic auth:")
            if not ok or not user.strip():
                return None
            reference["username"] = user.strip()
        if reference["type"] == "oauth2_client_credentials":
            client, ok = QInputDialog.getText(self.window, "Client ID", "OAuth2 client ID:")
            if not ok or not client.strip():
                return None
            reference["client_id"] = client.strip()
        return reference

    # --------------------------------------------------------------- nodes
    def add_tool_node(self, ref: str, scene_pos: QPointF) -> str | None:
        """Add a ``tool.call`` node for ``source__tool`` at ``scene_pos``."""
        parts = split_tool_ref(ref)
        if parts is None:
            return None
        source, name = parts
        tool = self.catalogue.tool(source, name)
        editor = self.window.editor
        doc = self.window.controller.document
        x, y = editor.snap(scene_pos.x() - NODE_WIDTH / 2, scene_pos.y() - HEADER_HEIGHT / 2)
        title = tool.title if tool is not None and 0 < len(tool.title) <= 40 else ref
        data = new_node_json(doc, "tool.call", (x, y), title)
        data["id"] = doc.unique_id(sanitize_id(name))
        data["config"] = {"source": source, "tool": name}
        if not editor.push(AddNode(data, text=f"Add {ref}")):
            return None
        self.window.scene.select([data["id"]])
        editor.keep_in_view(self.window.scene.nodes[data["id"]].sceneBoundingRect())
        return str(data["id"])


def install(window: Window, secret_store: Any = None) -> SourcesUi:
    """Create the window's sources UI and its dock (under the palette)."""
    ui = SourcesUi(window, secret_store)
    ui.dock = window._dock(  # type: ignore[attr-defined]
        "sourcesDock", "Sources", ui.panel, Qt.DockWidgetArea.LeftDockWidgetArea
    )
    # the palette keeps most of the height; the list of sources is short
    window.resizeDocks([window.palette_dock, ui.dock], [600, 230], Qt.Orientation.Vertical)
    return ui
