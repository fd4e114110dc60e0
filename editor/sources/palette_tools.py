"""The sources' tools in the node palette: one heading per source and tag
(``github · issues``), each tool a row titled ``source__tool`` with its summary
and path as the second line; dragging or activating one adds a ``tool.call``
node set up for it. Searching the palette searches the tools' names,
summaries, paths and tags (``CatalogueIndex``).
May import: PySide6, engine (sources), editor.palette, editor.theme.
"""

from __future__ import annotations

from collections.abc import Mapping

from flowdesk.editor.palette import (
    COLOR_ROLE,
    DESCRIPTION_ROLE,
    ICON_ROLE,
    SEARCH_ROLE,
    TOOL_ROLE,
    TYPE_ROLE,
    Palette,
)
from flowdesk.editor.theme import category_color
from flowdesk.engine import CatalogueIndex, ToolInfo
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem

#: marks the headings this module added (removed on the next update)
SOURCE_HEADING_ROLE = Qt.ItemDataRole.UserRole + 7
UNTAGGED = "other"


def tool_summary(tool: ToolInfo) -> str:
    summary = tool.title or tool.description.split("\n", 1)[0]
    return f"{summary} · {tool.path}" if tool.path and summary else summary or tool.path


def tool_item(source: str, tool: ToolInfo) -> QStandardItem:
    ref = f"{source}__{tool.name}"
    item = QStandardItem(ref)
    item.setData("tool.call", TYPE_ROLE)
    item.setData(ref, TOOL_ROLE)
    summary = tool_summary(tool)
    item.setData(summary, DESCRIPTION_ROLE)
    item.setData(category_color(f"source:{source}"), COLOR_ROLE)
    item.setData("globe" if tool.path else "box", ICON_ROLE)
    item.setData((ref, summary, " ".join(tool.tags)), SEARCH_ROLE)
    text = tool.description if len(tool.description) < 600 else tool.description[:600] + "…"
    item.setToolTip(f"<b>{ref}</b><br><code>{tool.path}</code><br>{text}")
    item.setAccessibleText(f"{ref}: {summary}")
    item.setEditable(False)
    item.setDragEnabled(True)
    return item


def set_tools(palette: Palette, catalogue: Mapping[str, list[ToolInfo]]) -> None:
    """Replace the palette's tool headings with ``catalogue``'s tools by tag."""
    root = palette.model.invisibleRootItem()
    for row in reversed(range(root.rowCount())):
        if root.child(row).data(SOURCE_HEADING_ROLE):
            root.removeRow(row)
    headings: list[QStandardItem] = []
    for source, tools in catalogue.items():
        groups: dict[str, list[ToolInfo]] = {}
        for tool in tools:
            groups.setdefault(tool.tags[0] if tool.tags else UNTAGGED, []).append(tool)
        for tag in sorted(groups, key=lambda t: (t == UNTAGGED, t.lower())):
            heading = QStandardItem(f"{source} · {tag}")
            heading.setData(True, SOURCE_HEADING_ROLE)
            heading.setEditable(False)
            heading.setDragEnabled(False)
            heading.setSelectable(False)
            heading.appendRows([tool_item(source, tool) for tool in groups[tag]])
            headings.append(heading)
    if headings:
        root.appendRows(headings)
    palette.tool_index = CatalogueIndex(catalogue)
    palette.apply_filter(palette.filter.text())
