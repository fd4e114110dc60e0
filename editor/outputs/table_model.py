"""``JsonTableModel``: a JSON list as a table — one row per element, one
column per key (collected from the first rows, in order of appearance), or a
single ``value`` column for lists of scalars. Cells are formatted only when
the view paints them, so a list of 200,000 objects costs nothing up front.
May import: PySide6, editor.outputs.
"""

from __future__ import annotations

from typing import Any

from flowdesk.editor.outputs.json_model import PATH_ROLE, TOOLTIP_CHARS, VALUE_ROLE, type_colors
from flowdesk.editor.outputs.jsonpaths import JsonPath, capped_json, cell_text, type_name
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

#: rows whose keys make the columns
SAMPLE_ROWS = 1000
MAX_COLUMNS = 200
_MISSING = object()

Index = QModelIndex | QPersistentModelIndex


class JsonTableModel(QAbstractTableModel):
    """Rows of ``rows`` (a list) at ``path`` in the value shown."""

    def __init__(self, rows: list[Any], path: JsonPath = (), parent: Any = None) -> None:
        super().__init__(parent)
        self.rows = rows
        self.base = path
        keys: dict[str, None] = {}
        scalars = False
        for row in rows[:SAMPLE_ROWS]:
            if isinstance(row, dict):
                for key in row:
                    if len(keys) < MAX_COLUMNS:
                        keys.setdefault(str(key))
            else:
                scalars = True
        self.columns: list[str | None] = list(keys)
        if scalars or not keys:
            self.columns.append(None)  # the element itself
        self._colors = type_colors()
        self._missing = QColor(self._colors["object"])
        self._missing.setAlpha(110)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            key = self.columns[section]
            return "value" if key is None else key
        return str(section)

    def cell(self, index: Index) -> Any:
        row = self.rows[index.row()]
        key = self.columns[index.column()]
        if key is None:
            return _MISSING if isinstance(row, dict) else row
        if isinstance(row, dict):
            return row.get(key, _MISSING)
        return _MISSING

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self.cell(index)
        if role == Qt.ItemDataRole.DisplayRole:
            return "" if value is _MISSING else cell_text(value)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._missing if value is _MISSING else self._colors.get(type_name(value))
        if role == Qt.ItemDataRole.ToolTipRole and value is not _MISSING:
            if isinstance(value, str) and len(value) <= TOOLTIP_CHARS:
                return value
            text, cut = capped_json(value, TOOLTIP_CHARS, indent=2)
            return text + ("\n…" if cut else "")
        if role == PATH_ROLE:
            return self.path(index)
        if role == VALUE_ROLE:
            return None if value is _MISSING else value
        return None

    def path(self, index: Index) -> JsonPath:
        key = self.columns[index.column()]
        base = (*self.base, index.row())
        return base if key is None else (*base, key)
