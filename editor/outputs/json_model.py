"""``JsonTreeModel``: a JSON value as a lazy tree (Key, Value, Type).

Nothing is walked ahead of the view: a container gets a bookkeeping node only
when it is expanded (or its children are asked for), its rows are fetched in
batches (``canFetchMore``/``fetchMore``: a list of 200,000 objects shows its
first rows at once, more as you scroll), and an index's internal id names its
*parent* container, so rows themselves cost no Python objects. A 50 MB output
opens in the time it takes to paint one screen of rows.
May import: PySide6, editor.outputs.jsonpaths, editor.theme.
"""

from __future__ import annotations

from typing import Any

from flowdesk.editor.outputs.jsonpaths import JsonPath, PathPart, capped_json, preview, type_name
from flowdesk.editor.theme import current_theme
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase

#: rows fetched at a time (the view asks for more when scrolled to the end)
BATCH = 1000
TOOLTIP_CHARS = 2000
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
VALUE_ROLE = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex


def type_colors() -> dict[str, QColor]:
    if current_theme().dark:
        palette = {
            "string": "#a5d6a7",
            "number": "#f5b971",
            "boolean": "#ce93d8",
            "null": "#ce93d8",
        }
    else:
        palette = {
            "string": "#2e7d32",
            "number": "#c2570c",
            "boolean": "#8e24aa",
            "null": "#8e24aa",
        }
    colors = {k: QColor(v) for k, v in palette.items()}
    colors["object"] = colors["array"] = QColor(current_theme().muted)
    return colors


class _Container:
    """A dict or list shown in the tree, with its fetched row count."""

    __slots__ = ("_children", "_rows_of", "id", "keys", "parent", "path", "row", "rows", "value")

    def __init__(
        self, ident: int, parent: _Container | None, row: int, value: Any, path: JsonPath
    ) -> None:
        self.id = ident
        self.parent = parent
        self.row = row
        self.value = value
        self.path = path
        self.keys: list[str] | None = list(value) if isinstance(value, dict) else None
        #: rows fetched so far
        self.rows = 0
        self._children: dict[int, _Container] = {}
        self._rows_of: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.value)

    def key(self, row: int) -> PathPart:
        return self.keys[row] if self.keys is not None else row

    def child_value(self, row: int) -> Any:
        if self.keys is not None:
            return self.value[self.keys[row]]
        return self.value[row]

    def row_of(self, part: PathPart) -> int:
        if self.keys is None:
            assert isinstance(part, int)
            return part
        if self._rows_of is None:
            self._rows_of = {k: i for i, k in enumerate(self.keys)}
        return self._rows_of[str(part)]


class JsonTreeModel(QAbstractItemModel):
    """See the module docstring. ``root_label`` names a scalar value's only row."""

    COLUMNS = ("Key", "Value", "Type")

    def __init__(self, value: Any, root_label: str = "value", parent: Any = None) -> None:
        super().__init__(parent)
        self.value = value
        self._scalar = not isinstance(value, dict | list)
        self._root_label = root_label
        self._containers: dict[int, _Container] = {}
        self._next_id = 1
        self._root = self._container(None, 0, [value] if self._scalar else value, ())
        self._root.rows = min(len(self._root), BATCH)
        self._colors = type_colors()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(max(8.0, QFont().pointSizeF() - 0.5))
        self._mono = mono

    # ----------------------------------------------------------- internals
    @property
    def materialized(self) -> int:
        """Containers given bookkeeping so far (the root included)."""
        return len(self._containers)

    def _container(
        self, parent: _Container | None, row: int, value: Any, path: JsonPath
    ) -> _Container:
        node = _Container(self._next_id, parent, row, value, path)
        self._containers[node.id] = node
        self._next_id += 1
        return node

    def _entry(self, index: Index) -> tuple[_Container, int]:
        return self._containers[index.internalId()], index.row()

    def _child(self, parent: _Container, row: int) -> _Container:
        node = parent._children.get(row)
        if node is None:
            key = parent.key(row)
            path = parent.path if self._scalar else (*parent.path, key)
            node = self._container(parent, row, parent.child_value(row), path)
            parent._children[row] = node
        return node

    def _node_of(self, index: Index) -> _Container | None:
        """The container an index shows (None: a scalar row)."""
        if not index.isValid():
            return self._root
        parent, row = self._entry(index)
        if not isinstance(parent.child_value(row), dict | list):
            return None
        return self._child(parent, row)

    # ------------------------------------------------------------- model
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        node = self._node_of(parent)
        if node is None or row < 0 or row >= node.rows or not 0 <= column < 3:
            return QModelIndex()
        return self.createIndex(row, column, node.id)

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node = self._containers[index.internalId()]
        if node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row, 0, node.parent.id)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802,B008
        if parent.column() > 0:
            return 0
        node = self._node_of(parent)
        return node.rows if node is not None else 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802,B008
        return 3

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802,B008
        if not parent.isValid():
            return len(self._root) > 0
        if parent.column() > 0:
            return False
        container, row = self._entry(parent)
        value = container.child_value(row)
        return isinstance(value, dict | list) and len(value) > 0

    def canFetchMore(self, parent: Index) -> bool:  # noqa: N802
        node = self._node_of(parent)
        return node is not None and node.rows < len(node)

    def fetchMore(self, parent: Index) -> None:  # noqa: N802
        node = self._node_of(parent)
        if node is None:
            return
        self._fetch_to(node, parent, min(len(node), node.rows + BATCH))

    def _fetch_to(self, node: _Container, parent: Index, rows: int) -> None:
        if rows <= node.rows:
            return
        self.beginInsertRows(parent, node.rows, rows - 1)
        node.rows = rows
        self.endInsertRows()

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        container, row = self._entry(index)
        if not isinstance(container.child_value(row), dict | list):
            flags |= Qt.ItemFlag.ItemNeverHasChildren
        return flags

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        container, row = self._entry(index)
        value = container.child_value(row)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                if self._scalar:
                    return self._root_label
                key = container.key(row)
                return str(key)
            if column == 1:
                return preview(value)
            return type_name(value)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == 1:
                return self._colors.get(type_name(value))
            if column == 2 or (column == 0 and container.keys is None):
                return self._colors["object"]
            return None
        if role == Qt.ItemDataRole.FontRole and column == 1:
            return self._mono
        if role == Qt.ItemDataRole.ToolTipRole and column == 1:
            if isinstance(value, str) and len(value) <= TOOLTIP_CHARS:
                return value
            text, cut = capped_json(value, TOOLTIP_CHARS, indent=2)
            return text + ("\n…" if cut else "")
        if role == PATH_ROLE:
            return self.path(index)
        if role == VALUE_ROLE:
            return value
        return None

    # ------------------------------------------------------------- paths
    def path(self, index: Index) -> JsonPath:
        """The JSON path of the value an index shows."""
        container, row = self._entry(index)
        if self._scalar:
            return ()
        return (*container.path, container.key(row))

    def value_of(self, index: Index) -> Any:
        if not index.isValid():
            return self.value
        container, row = self._entry(index)
        return container.child_value(row)

    def index_for_path(self, path: JsonPath) -> QModelIndex:
        """The index of ``path``, fetching the rows on the way (for search)."""
        if self._scalar or not path:
            if self._root.rows == 0:
                self._fetch_to(self._root, QModelIndex(), 1)
            return self.createIndex(0, 0, self._root.id)
        node = self._root
        parent_index = QModelIndex()
        index = QModelIndex()
        for depth, part in enumerate(path):
            row = node.row_of(part)
            if node.rows <= row:
                self._fetch_to(node, parent_index, min(len(node), max(row + 1, node.rows + BATCH)))
            index = self.createIndex(row, 0, node.id)
            if depth < len(path) - 1:
                node = self._child(node, row)
                parent_index = index
        return index
