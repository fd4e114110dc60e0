"""Shared paint resources of the canvas items: colours from the theme, fonts,
metrics and sizes, built once per theme instead of in every ``paint`` call.
May import: PySide6, editor.theme.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flowdesk.editor.theme import Theme
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPen

NODE_WIDTH = 200.0
#: nodes grow with their title (in grid steps) up to this width, then elide it
NODE_MAX_WIDTH = 320.0
#: header room besides the title: icon on the left, a status glyph and margins
#: on the right (a run's badge must not cut the title)
TITLE_ROOM = 34.0 + 28.0
#: what kerning could add per letter at most, beyond the letters' own widths
#: (far more than fonts do: they mostly tighten pairs)
KERNING_SLACK = 2.0
HEADER_HEIGHT = 30.0
ROW_HEIGHT = 22.0
BODY_PADDING = 6.0
PORT_RADIUS = 5.5
PORT_HIT_RADIUS = 11.0
CORNER = 6.0
GRID = 20.0
#: below this zoom the canvas draws the batched overview instead of items
OVERVIEW_ZOOM = 0.32
#: below this zoom items skip their text
TEXT_ZOOM = 0.36


@dataclass
class CanvasStyle:
    theme: Theme
    title_font: QFont = field(default_factory=QFont)
    text_font: QFont = field(default_factory=QFont)
    small_font: QFont = field(default_factory=QFont)

    def node_width(self, title: str) -> float:
        """A node wide enough for its title: ``NODE_WIDTH`` and up, in grid
        steps, at most ``NODE_MAX_WIDTH``."""
        if len(title) <= self._short_title:
            return NODE_WIDTH
        width = self._widths.get(title)
        if width is None and title.isascii():
            # Its letters' own widths, with room to spare for any kerning: a
            # title well within the narrowest node needs no text layout.
            advances = self._advances
            try:
                letters = sum(map(advances.__getitem__, title))
            except KeyError:  # a letter not measured yet
                for char in set(title).difference(advances):
                    advances[char] = self.title_metrics.horizontalAdvance(char)
                letters = sum(map(advances.__getitem__, title))
            if letters + KERNING_SLACK * len(title) <= self._fits:
                return NODE_WIDTH
        if width is None:
            need = self.title_metrics.horizontalAdvance(title) + TITLE_ROOM
            width = min(NODE_MAX_WIDTH, max(NODE_WIDTH, math.ceil(need / GRID) * GRID))
            if len(self._widths) < 100_000:
                self._widths[title] = width
        return width

    def __post_init__(self) -> None:
        t = self.theme
        self.title_font = QFont()
        self.title_font.setPointSizeF(9.5)
        self.title_font.setWeight(QFont.Weight.DemiBold)
        self.text_font = QFont()
        self.text_font.setPointSizeF(8.5)
        self.small_font = QFont()
        self.small_font.setPointSizeF(7.5)
        self.title_metrics = QFontMetricsF(self.title_font)
        #: titles up to this many characters fit the narrowest node, whatever
        #: the letters (no measuring for the common case)
        self._short_title = int((NODE_WIDTH - TITLE_ROOM) // max(self.title_metrics.maxWidth(), 1))
        self._widths: dict[str, float] = {}
        #: one letter's advance, by letter (``node_width``)
        self._advances: dict[str, float] = {}
        #: the widest title the narrowest node holds
        self._fits = NODE_WIDTH - TITLE_ROOM
        self.text_metrics = QFontMetricsF(self.text_font)
        self.small_metrics = QFontMetricsF(self.small_font)
        self.canvas = QColor(t.canvas)
        self.grid = QColor(t.grid)
        self.body = QColor(t.node_body)
        self.border = QColor(t.node_border)
        self.text = QColor(t.node_text)
        self.muted = QColor(t.muted)
        self.header_text = QColor("#ffffff")
        self.edge = QColor(t.edge)
        self.port = QColor(t.port)
        self.problem = QColor(t.problem)
        self.selection = QColor(t.selection)
        self.accent = QColor(t.accent)
        self.note = QColor(t.note)
        self.note_text = QColor(t.note_text)
        self.border_pen = QPen(self.border, 1.0)
        self.selected_pen = QPen(self.selection, 2.0)
        self.problem_pen = QPen(self.problem, 1.6)
        # Round caps: a long wire is stroked in pieces and the joins must not show.
        round_cap = Qt.PenCapStyle.RoundCap
        solid = Qt.PenStyle.SolidLine
        self.edge_pen = QPen(self.edge, 2.0, solid, round_cap)
        self.edge_selected_pen = QPen(self.selection, 2.6, solid, round_cap)
        self.edge_hover_pen = QPen(
            self.edge.lighter(135) if t.dark else self.edge.darker(130), 2.6, solid, round_cap
        )
        self.wire_pen = QPen(self.accent, 2.2)
        #: a wire held over a port that refuses it
        self.refused_wire_pen = QPen(self.problem, 2.2, Qt.PenStyle.DashLine)
        self.port_pen = QPen(self.border, 1.2)
        self.highlight_pen = QPen(self.accent, 2.2)
        self.status_colors = {
            "succeeded": QColor("#43a047"),
            "failed": QColor(t.problem),
            "running": QColor(t.accent),
            "skipped": QColor(t.muted),
            "pinned": QColor("#8e6bd8"),
            "cancelled": QColor("#9e9e9e"),
            "retrying": QColor("#f0a020"),
            "queued": QColor(t.muted),
        }
        #: node borders while a run shows the node's state
        self.status_pens = {
            "succeeded": QPen(self.status_colors["succeeded"], 1.6),
            "failed": QPen(self.status_colors["failed"], 2.0),
            "running": QPen(self.status_colors["running"], 2.0),
            "retrying": QPen(self.status_colors["retrying"], 2.0),
            "pinned": QPen(self.status_colors["pinned"], 1.6),
        }
        #: the status line under a node: readable text on the canvas
        self.status_text = {
            key: (color.lighter(125) if t.dark else color.darker(115))
            for key, color in self.status_colors.items()
        }
        self.status_text["queued"] = QColor(t.muted)
        self.status_text["skipped"] = QColor(t.muted)
        self.status_text["cancelled"] = QColor(t.muted)
        #: edges that carried data in the run shown
        carried = QColor(self.status_colors["succeeded"])
        self.edge_carried_pen = QPen(carried, 2.4, solid, round_cap)
        self.edge_idle_pen = QPen(
            QColor(self.edge.red(), self.edge.green(), self.edge.blue(), 90),
            1.6,
            Qt.PenStyle.DashLine,
            round_cap,
        )
