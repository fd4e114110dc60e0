"""``OutputPanel``: the output dock — for the selected node of the run shown,
its status, its output (tree, table or raw JSON), what it received on each
input port, and its error; search within the value, copy a value or its path
as an expression (``{{ nodes.fetch.body.items[0].id }}``), AI token usage,
and "Pin output" (asks the window, which pushes the undoable edit).

Values are shown by reference: nothing is copied or serialised whole on the
GUI thread (the models are lazy; raw text is capped).
May import: PySide6, editor.*, engine (public API).
"""

from __future__ import annotations

import json
from typing import Any

from flowdesk.editor.document import Document
from flowdesk.editor.document.events import DocumentEvent, NodeChanged, NodeRemoved, NodeRenamed
from flowdesk.editor.outputs.error_view import ErrorView
from flowdesk.editor.outputs.header import OutputHeader
from flowdesk.editor.outputs.json_model import PATH_ROLE, VALUE_ROLE, JsonTreeModel
from flowdesk.editor.outputs.jsonpaths import (
    JsonPath,
    count_text,
    path_expression,
    type_name,
    value_at,
)
from flowdesk.editor.outputs.raw_view import RawView
from flowdesk.editor.outputs.search import ValueSearch
from flowdesk.editor.outputs.table_model import JsonTableModel
from flowdesk.editor.run.run_state import NodeRun, RunChange, RunState, node_inputs
from flowdesk.editor.text import plural
from flowdesk.editor.theme import icon, set_icon
from flowdesk.editor.undo import DocumentController
from flowdesk.engine import DEFAULT_MAX_OUTPUT_BYTES, is_truncated
from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QStackedWidget,
    QTabBar,
    QTableView,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

TABS = ("output", "input", "error")
MODES = ("tree", "table", "raw")


def _tool(name: str, icon_name: str, tip: str, checkable: bool = False) -> QToolButton:
    button = QToolButton()
    button.setObjectName(name)
    set_icon(button, icon_name)
    button.setToolTip(tip)
    button.setAccessibleName(tip)
    button.setCheckable(checkable)
    button.setAutoRaise(True)
    return button


def _find_list(value: Any) -> JsonPath | None:
    """The first list in ``value`` (itself, or two levels down): the table."""
    if isinstance(value, list):
        return ()
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(child, list) and child:
                return (key,)
        for key, child in value.items():
            if isinstance(child, dict):
                for inner, grandchild in child.items():
                    if isinstance(grandchild, list) and grandchild:
                        return (key, inner)
    return None


class OutputPanel(QWidget):
    """See the module docstring. ``pin_toggled(node_id, pin)`` asks for the edit."""

    pin_toggled = Signal(str, bool)
    #: the Error tab's "Go to FIELD": a ``Place`` (editor.problems)
    field_requested = Signal(object)

    def __init__(self, controller: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outputPanel")
        self.setAccessibleName("Output")
        self.controller = controller
        self.state: RunState | None = None
        self.node_id: str | None = None
        self.tab = "output"
        self.mode = "tree"
        self.value: Any = None
        self.has_value = False
        self._shown_key: tuple[Any, ...] | None = None
        self._table_path: JsonPath | None = None
        self._doc: Document | None = None
        #: the node shown had failed when last refreshed
        self._error_shown = False
        self.search = ValueSearch(self)
        self._build()
        self.search.progress.connect(lambda _n, _d: self._search_label())
        self.search.current.connect(self._reveal)
        controller.document_replaced.connect(self._attach)
        self._attach(controller.document)
        self._refresh()

    # -------------------------------------------------------------- layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.header = OutputHeader(self)
        self.header.pin_button.clicked.connect(self._pin_clicked)
        self.pin_button = self.header.pin_button
        outer.addWidget(self.header)

        bar = QWidget(self)
        bar.setObjectName("outputBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 0, 8, 4)
        row.setSpacing(2)
        self.tabs = QTabBar(bar)
        self.tabs.setObjectName("outputTabs")
        self.tabs.setDrawBase(False)
        self.tabs.setExpanding(False)
        self.tabs.setUsesScrollButtons(False)
        for text in ("Output", "Input", "Error"):
            self.tabs.addTab(text)
        self.tabs.currentChanged.connect(self._tab_changed)
        row.addWidget(self.tabs)
        row.addSpacing(10)
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[str, QToolButton] = {}
        for mode, icon_name, tip in (
            ("tree", "tree", "Tree"),
            ("table", "table", "Table (a list of objects, one column per key)"),
            ("raw", "code", "Raw JSON"),
        ):
            button = _tool(f"view_{mode}", icon_name, tip, checkable=True)
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            button.clicked.connect(lambda _c=False, m=mode: self.set_mode(m))
            row.addWidget(button)
        self.mode_buttons["tree"].setChecked(True)
        row.addStretch(1)
        self.search_box = QLineEdit(bar)
        self.search_box.setObjectName("outputSearch")
        self.search_box.setAccessibleName("Search the value")
        self.search_box.setPlaceholderText("Search keys and values")
        self.search_box.setClearButtonEnabled(True)
        set_icon(
            self.search_box.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition),
            "search",
        )
        self.search_box.setMaximumWidth(240)
        self.search_box.setMinimumWidth(110)
        self.search_box.returnPressed.connect(self._search_enter)
        self.search_box.textChanged.connect(self._search_changed)
        self.search_count = QLabel(bar)
        self.search_count.setObjectName("searchCount")
        row.addWidget(self.search_box)
        row.addWidget(self.search_count)
        prev = _tool("searchPrevious", "chevron-up", "Previous match (Shift+Enter)")
        prev.clicked.connect(lambda: self._step(False))
        following = _tool("searchNext", "chevron-down", "Next match (Enter)")
        self.step_buttons = (prev, following)
        following.clicked.connect(lambda: self._step(True))
        row.addWidget(prev)
        row.addWidget(following)
        row.addSpacing(6)
        self.copy_value_button = _tool("copyValue", "copy", "Copy the selected value")
        self.copy_value_button.clicked.connect(self.copy_value)
        self.copy_path_button = _tool(
            "copyPath", "variable", "Copy the selected value's path as an expression"
        )
        self.copy_path_button.clicked.connect(self.copy_path)
        row.addWidget(self.copy_value_button)
        row.addWidget(self.copy_path_button)
        outer.addWidget(bar)

        self.stack = QStackedWidget(self)
        self.tree = QTreeView(self.stack)
        self.tree.setObjectName("outputTree")
        self.tree.setAccessibleName("Output tree")
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(False)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(lambda p: self._context_menu(self.tree, p))
        self.table_page = QWidget(self.stack)
        table_layout = QVBoxLayout(self.table_page)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.setSpacing(0)
        self.table_caption = QLabel(self.table_page)
        self.table_caption.setObjectName("tableCaption")
        self.table = QTableView(self.table_page)
        self.table.setObjectName("outputTable")
        self.table.setAccessibleName("Output table")
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        vertical = self.table.verticalHeader()
        # Fixed rows: the header never measures 200,000 sections.
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setDefaultSectionSize(140)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(lambda p: self._context_menu(self.table, p))
        table_layout.addWidget(self.table_caption)
        table_layout.addWidget(self.table, 1)
        self.raw = RawView(self.stack)
        self.errors = ErrorView(self.stack)
        self.errors.field_requested.connect(self.field_requested)
        self.message = QLabel(self.stack)
        self.message.setObjectName("outputMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        for page in (self.tree, self.table_page, self.raw, self.errors, self.message):
            self.stack.addWidget(page)
        outer.addWidget(self.stack, 1)
        self.footer = QLabel(self)
        self.footer.setObjectName("outputFooter")
        outer.addWidget(self.footer)
        QShortcut(QKeySequence("Shift+Return"), self.search_box, lambda: self._step(False))
        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_search)

    # --------------------------------------------------------------- input
    def set_state(self, state: RunState) -> None:
        """Show the nodes of ``state`` (the live run or a stored one)."""
        if self.state is not None:
            self.state.changed.disconnect(self._state_changed)
        self.state = state
        state.changed.connect(self._state_changed)
        self._shown_key = None
        self._refresh(pick_tab=True)

    def show_node(self, node_id: str | None) -> None:
        if node_id != self.node_id:
            self.node_id = node_id
            self._shown_key = None
            self._refresh(pick_tab=True, new_node=True)

    def _attach(self, document: Document) -> None:
        if self._doc is not None:
            self._doc.changed.disconnect(self._doc_changed)
        self._doc = document
        document.changed.connect(self._doc_changed)
        self.show_node(None)

    def _doc_changed(self, event: DocumentEvent) -> None:
        if isinstance(event, NodeRenamed) and event.old_id == self.node_id:
            self.node_id = event.new_id
            self._refresh()
        elif isinstance(event, NodeRemoved) and event.node_id == self.node_id:
            self.show_node(None)
        elif isinstance(event, NodeChanged) and event.node_id == self.node_id:
            self._update_header()

    def _state_changed(self, change: RunChange) -> None:
        if change.reset or (self.node_id is not None and self.node_id in change.nodes):
            run = self.run
            failed_now = run is not None and bool(run.error) and not self._error_shown
            # the node shown just failed: open on its error
            self._refresh(pick_tab=failed_now or change.reset)
        elif change.run:
            self._update_usage()

    # ------------------------------------------------------------ showing
    @property
    def run(self) -> NodeRun | None:
        if self.state is None or self.node_id is None:
            return None
        return self.state.nodes.get(self.node_id)

    def _refresh(self, pick_tab: bool = False, new_node: bool = False) -> None:
        """``pick_tab``: choose the tab for what is shown — Error for a node
        that failed, else Output for another node (not the tab the last node
        was left on), else keep the user's tab while it has something."""
        run = self.run
        if pick_tab:
            if run is not None and run.error:
                self._set_tab("error")
            elif new_node or (self.tab == "error" and not (run and run.error)):
                self._set_tab("output")
        self._error_shown = bool(run and run.error)
        self.tabs.setTabEnabled(2, bool(run and run.error))
        self._update_header()
        self._show_page()

    def _set_tab(self, tab: str) -> None:
        self.tab = tab
        self.tabs.blockSignals(True)
        self.tabs.setCurrentIndex(TABS.index(tab))
        self.tabs.blockSignals(False)

    def _tab_changed(self, index: int) -> None:
        self.tab = TABS[index]
        self._shown_key = None
        self._show_page()

    def set_mode(self, mode: str) -> None:
        """Tree, table or raw."""
        if mode == "table" and self.mode == "tree" and self.has_value:
            current = self.tree.currentIndex()
            if current.isValid():
                path = current.data(PATH_ROLE)
                found = _find_list(value_at(self.value, path))
                if found is not None:
                    self._table_path = (*path, *found)
        self.mode = mode
        self.mode_buttons[mode].setChecked(True)
        self._shown_key = None
        self._show_page()

    def _message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)
        self.has_value = False
        self.value = None
        self.footer.setText("")
        self._tools_enabled(False)

    def _tools_enabled(self, on: bool) -> None:
        # The Error tab has no value to view, search or copy: its tools are
        # hidden there, not greyed (a checked view button looked usable).
        shown = self.tab != "error"
        for widget in (
            self.search_box,
            self.search_count,
            self.copy_value_button,
            self.copy_path_button,
            *self.step_buttons,
            *self.mode_buttons.values(),
        ):
            widget.setEnabled(on)
            widget.setVisible(shown)

    def _show_page(self) -> None:
        run = self.run
        state = self.state
        if self.node_id is None:
            self._message("Select a node to see what it received and produced.")
            return
        if run is None:
            idle = state is None or state.status in ("idle", "starting")
            self._message(
                "Run the workflow (Ctrl+R or F5) to see this node's output here."
                if idle
                else "This node was not part of the run shown."
            )
            return
        if self.tab == "error":
            if run.error:
                self.errors.doc = self.controller.document
                self.errors.show_error(run, self.node_id)
                self.stack.setCurrentWidget(self.errors)
                self._tools_enabled(False)
                self.footer.setText("")
            else:
                self._message("No error.")
            return
        if self.tab == "input":
            self._show_input(run)
            return
        if not run.has_output:
            self._message(self._no_output_text(run))
            return
        self._show_value(run.output, f"nodes.{self.node_id}", run)

    def _no_output_text(self, run: NodeRun) -> str:
        if run.status == "failed":
            return "No output: the node failed. The Error tab says why."
        if run.status == "skipped":
            return f"Skipped: {run.reason or 'no input arrived'}."
        if run.status == "cancelled":
            why = f": {run.reason}" if run.reason else ""
            return f"Cancelled before it produced an output{why}."
        if run.status in ("running", "retrying"):
            return "Running…"
        return "Waiting for its inputs…"

    def _show_input(self, run: NodeRun) -> None:
        doc = self.controller.document
        if self.node_id is None or not doc.has_node(self.node_id) or self.state is None:
            self._message("")
            return
        inputs, _ = doc.ports(self.node_id)
        if not inputs:
            self._message("This node has no inputs.")
            return
        received, sources = node_inputs(
            self.state, doc.edges_into(self.node_id), doc.input_layout(self.node_id)
        )
        if not sources:
            self._message("Nothing arrived on the inputs in the run shown.")
            return
        self._show_value(received, "inputs", run)

    def _show_value(self, value: Any, root: str, run: NodeRun) -> None:
        key = (id(self.state), self.node_id, id(value), self.tab, self.mode)
        if key == self._shown_key:
            return
        self._shown_key = key
        self.value, self.has_value, self.root = value, True, root
        self._tools_enabled(True)
        truncated = is_truncated(value)
        if truncated:
            size = value.get("size_bytes", 0)
            limit = value.get("limit_bytes", DEFAULT_MAX_OUTPUT_BYTES)
            self.raw.set_value(value.get("preview", ""))
            self.raw.notice.setText(
                "The run history keeps outputs up to "
                f"{_kilobytes(limit)}; this one was {size:,} bytes. "
                "Run the node again to inspect all of it."
            )
            self.raw.show_all_button.hide()
            self.stack.setCurrentWidget(self.raw)
            self.footer.setText(f"  Truncated in the run history · {size:,} bytes")
            return
        table_path = _find_list(value)
        self.mode_buttons["table"].setEnabled(table_path is not None)
        mode = self.mode if (self.mode != "table" or table_path is not None) else "tree"
        if mode == "tree":
            model = JsonTreeModel(value, "value", self.tree)
            old = self.tree.model()
            self.tree.setModel(model)
            if old is not None:
                old.deleteLater()
            header = self.tree.header()
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(0, 220)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
            header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(2, 70)
            header.setStretchLastSection(False)
            if isinstance(value, dict) and 0 < len(value) <= 12:
                self.tree.expandToDepth(0)
            self.stack.setCurrentWidget(self.tree)
        elif mode == "table":
            path = self._table_path if self._table_path is not None else table_path
            try:
                rows = value_at(value, path or ())
            except (KeyError, IndexError, TypeError):
                path, rows = table_path, value_at(value, table_path or ())
            table = JsonTableModel(rows, path or (), self.table)
            old = self.table.model()
            self.table.setModel(table)
            if old is not None:
                old.deleteLater()
            where = path_expression(root, path or ()).strip("{} ")
            self.table_caption.setText(
                f"  {where} — {len(rows):,} row{'s' if len(rows) != 1 else ''} × "
                f"{plural(table.columnCount(), 'column')}"
            )
            self.stack.setCurrentWidget(self.table_page)
        else:
            self.raw.set_value(value)
            self.stack.setCurrentWidget(self.raw)
        self.footer.setText(self._footer_text(value, run))
        if self.search_box.text():
            self.search.start(value, self.search_box.text())

    def _footer_text(self, value: Any, run: NodeRun) -> str:
        kind = type_name(value)
        size = f" · {count_text(value)}" if isinstance(value, dict | list) else ""
        return f"  {kind}{size}"

    def _update_header(self) -> None:
        self.header.show_node(self.controller.document, self.node_id, self.run, self.state)

    def _update_usage(self) -> None:
        self.header.show_usage(self.run, self.state)

    # ------------------------------------------------------------- search
    def _focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    def _search_changed(self, text: str) -> None:
        if not text:
            self.search.start(None, "")
            self._search_label()

    def _search_enter(self) -> None:
        needle = self.search_box.text()
        if not needle or not self.has_value:
            return
        if self.mode == "raw":
            found = self.raw.find_text(needle)
            self.search_count.setText("" if found else "no match")
            return
        if self.search.needle == needle and self.search.hits:
            self.search.step(True)
        else:
            if self.mode == "table":
                self.set_mode("tree")
            self.search.start(self.value, needle)
        self._search_label()

    def _step(self, forward: bool) -> None:
        if self.mode == "raw":
            self.raw.find_text(self.search_box.text(), backward=not forward)
            return
        self.search.step(forward)
        self._search_label()

    def _search_label(self) -> None:
        self.search_count.setText(self.search.status_text())

    def _reveal(self, path: JsonPath) -> None:
        """Expand to a hit and select it."""
        if self.mode != "tree":
            return
        model = self.tree.model()
        if not isinstance(model, JsonTreeModel):
            return
        index = model.index_for_path(path)
        parent = index.parent()
        chain = []
        while parent.isValid():
            chain.append(parent)
            parent = parent.parent()
        for ancestor in reversed(chain):
            self.tree.expand(ancestor)
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self._search_label()

    # --------------------------------------------------------------- copy
    def _current(self) -> QModelIndex:
        view = self.table if self.stack.currentWidget() is self.table_page else self.tree
        return view.currentIndex()

    def selected_path(self) -> JsonPath:
        index = self._current()
        return tuple(index.data(PATH_ROLE)) if index.isValid() else ()

    def path_expression(self, path: JsonPath | None = None) -> str:
        path = self.selected_path() if path is None else path
        if getattr(self, "root", "") == "inputs":
            if path and path[0] == "in":
                return path_expression("input", path[1:])
            return path_expression("inputs", path)
        return path_expression(f"nodes.{self.node_id}", path)

    def copy_path(self) -> None:
        if self.has_value:
            QGuiApplication.clipboard().setText(self.path_expression())

    def copy_value(self) -> None:
        if not self.has_value:
            return
        index = self._current()
        value = index.data(VALUE_ROLE) if index.isValid() else self.value
        if isinstance(value, str):
            text = value
        else:
            big = isinstance(value, list | dict) and len(value) > 10_000
            text = json.dumps(value, ensure_ascii=False, indent=None if big else 2, default=str)
        QGuiApplication.clipboard().setText(text)

    def _context_menu(self, view: QAbstractItemView, pos: QPoint) -> None:
        index = view.indexAt(pos)
        if not index.isValid():
            return
        view.setCurrentIndex(index)
        menu = QMenu(self)
        menu.addAction(icon("copy"), "Copy Value", self.copy_value)
        menu.addAction(icon("variable"), f"Copy Path  {self.path_expression()}", self.copy_path)
        menu.popup(view.viewport().mapToGlobal(pos))

    # ---------------------------------------------------------------- pin
    def _pin_clicked(self, checked: bool) -> None:
        if self.node_id is not None:
            self.pin_toggled.emit(self.node_id, checked)
        self._update_header()


def _kilobytes(size: int) -> str:
    """``262144`` -> ``256 KB`` (a limit below 1 KB in bytes)."""
    return f"{size // 1024:,} KB" if size >= 1024 else f"{size:,} bytes"
