"""Colours, fonts and icons: a dark theme in the spirit of Blender's node editor
and a light one, chosen from the OS or by the user, applied as a QPalette plus
a small style sheet (``resources/themes/*.qss``). SVG icons in
``resources/icons`` are drawn in the theme's text colour (``currentColor``).
May import: PySide6, stdlib. Main names: ``Theme``, ``apply_theme``, ``icon``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QIcon,
    QIconEngine,
    QPainter,
    QPalette,
    QPixmap,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QWidget

log = logging.getLogger(__name__)

RESOURCES = Path(os.environ.get("FLOWDESK_RESOURCES") or str(files("flowdesk.resources")))


def resource_path(*parts: str) -> Path:
    return RESOURCES.joinpath(*parts)


def set_style_state(widget: QWidget, name: str, value: object) -> None:
    """Set a dynamic property the style sheet selects on (``[status="failed"]``)
    and re-apply the style — only when the value changes: a re-polish
    recomputes the widget's font and palette and relays out its parents,
    which costs milliseconds (a run updates its status label every frame)."""
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


@dataclass(frozen=True)
class Theme:
    name: str
    dark: bool
    window: str
    panel: str
    base: str
    alt_base: str
    text: str
    muted: str
    accent: str
    border: str
    canvas: str
    grid: str
    node_body: str
    node_border: str
    node_text: str
    edge: str
    port: str
    problem: str
    note: str
    note_text: str
    selection: str
    #: warning text (log lines): at least 4.5:1 against ``base`` (WCAG AA)
    warning: str = "#f0a020"

    def color(self, name: str) -> QColor:
        return QColor(getattr(self, name))


DARK = Theme(
    name="dark",
    dark=True,
    window="#2b2b2e",
    panel="#323236",
    base="#232326",
    alt_base="#2a2a2e",
    text="#e4e4e7",
    muted="#9a9aa3",
    accent="#4f8ff7",
    border="#1c1c1f",
    canvas="#1e1e21",
    grid="#38383e",
    node_body="#34343a",
    node_border="#141416",
    node_text="#ececf0",
    edge="#a5a5ae",
    port="#c9c9d1",
    problem="#f25e5b",  # 4.9:1 on the dark base (error lines of the log)
    note="#5c5430",
    note_text="#f3eccb",
    selection="#f2f2f5",
    warning="#f0a020",  # 7.3:1 on the dark base
)
LIGHT = Theme(
    name="light",
    dark=False,
    window="#f3f3f5",
    panel="#ebebee",
    base="#ffffff",
    alt_base="#f7f7f9",
    text="#1f1f23",
    muted="#6b6b75",
    accent="#2f6fe0",
    border="#d0d0d6",
    canvas="#f7f7f9",
    grid="#d3d3da",
    node_body="#ffffff",
    node_border="#b9b9c2",
    node_text="#1f1f23",
    edge="#7a7a85",
    port="#5a5a64",
    problem="#d32f2f",
    note="#fff3b0",
    note_text="#4a4230",
    selection="#1f6feb",
    warning="#955a00",  # 5.6:1 on white (the dark theme's #f0a020 was 2.2:1 here)
)
THEMES = {"dark": DARK, "light": LIGHT}

#: Header colours of node categories; unknown categories get a stable hue.
CATEGORY_COLORS = {
    "Data": "#2f8f7f",
    "Flow": "#c0792a",
    "Files": "#3a78c2",
    "Network": "#8257c9",
    "HTTP": "#8257c9",
    "Web": "#8257c9",
    "AI": "#c2487f",
    "Email": "#b8543a",
    "Other": "#6b6b75",
}
PLACEHOLDER_COLOR = "#5b5b60"

ICON_ALIASES = {
    "http": "globe",
    "web": "globe",
    "request": "globe",
    "api": "globe",
    "ai": "sparkle",
    "sparkles": "sparkle",
    "robot": "sparkle",
    "brain": "sparkle",
    "llm": "sparkle",
    "if": "branch",
    "file": "file-in",
    "read": "file-in",
    "write": "file-out",
}
CATEGORY_ICONS = {
    "Network": "globe",
    "HTTP": "globe",
    "AI": "sparkle",
    "Files": "file-in",
    "Flow": "branch",
    "Data": "transform",
    "Email": "mail",
}


# (the caches below are process-wide: pure functions of strings and of the
# bundled icon files)
@lru_cache(maxsize=256)
def _category_rgb(category: str) -> int:
    if category in CATEGORY_COLORS:
        return QColor(CATEGORY_COLORS[category]).rgb()
    hue = int(hashlib.md5(category.encode()).hexdigest()[:4], 16) % 360
    return QColor.fromHsl(hue, 110, 105).rgb()


def category_color(category: str) -> QColor:
    """A category's header colour (unknown categories get a stable hue)."""
    return QColor.fromRgb(_category_rgb(category))


@lru_cache(maxsize=256)
def icon_name(name: str, category: str = "") -> str:
    """The SVG to draw for a node type's ``icon`` (aliases, then category)."""
    for candidate in (name, ICON_ALIASES.get(name, ""), CATEGORY_ICONS.get(category, "")):
        if candidate and resource_path("icons", f"{candidate}.svg").is_file():
            return candidate
    return "box"


@lru_cache(maxsize=256)
def _svg_text(name: str) -> str:
    path = resource_path("icons", f"{name}.svg")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        log.warning("icon %s not found", path)
        return resource_path("icons", "box.svg").read_text(encoding="utf-8")


@lru_cache(maxsize=512)
def _svg_bytes(name: str, color: str) -> bytes:
    return _svg_text(name).replace("currentColor", color).encode()


@lru_cache(maxsize=512)
def icon_pixmap(name: str, size: int, color: str, dpr: float = 1.0) -> QPixmap:
    """An icon drawn at ``size`` logical pixels, crisp at device ratio ``dpr``."""
    renderer = QSvgRenderer(QByteArray(_svg_bytes(name, color)))
    pixmap = QPixmap(QSize(round(size * dpr), round(size * dpr)))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size * dpr, size * dpr))
    painter.end()
    pixmap.setDevicePixelRatio(dpr)
    return pixmap


#: the sizes an icon is drawn at (Qt picks the best one and scales it down)
ICON_SIZES = (16, 20, 24, 32)


class _SvgIconEngine(QIconEngine):
    """An icon drawn at one of ``ICON_SIZES`` when first asked for a size
    (not all four sizes in both colours up front: that was a third of the
    window's start-up). For each size it answers as a ``QIcon`` holding the
    pixmaps at every size would: Qt's own choice and scaling, its generated
    active/selected looks, from the pixmap it would have picked."""

    def __init__(self, name: str, color: str, muted: str, dpr: float) -> None:
        super().__init__()
        self._spec = (name, color, muted, dpr)
        self._icons: dict[tuple[int, bool], QIcon] = {}

    def _icon(self, size: QSize, mode: QIcon.Mode) -> QIcon:
        # The best of several pixmaps (QIcon's rule): the smallest that is at
        # least as large as asked, else the largest. The muted one is only
        # ever picked for the disabled look (the others start from the normal).
        asked = size.width() * size.height()
        drawn = next((s for s in ICON_SIZES if s * s >= asked), ICON_SIZES[-1])
        disabled = mode == QIcon.Mode.Disabled
        found = self._icons.get((drawn, disabled))
        if found is None:
            name, color, muted, dpr = self._spec
            found = QIcon()
            found.addPixmap(icon_pixmap(name, drawn, color, dpr), QIcon.Mode.Normal)
            if disabled:
                found.addPixmap(icon_pixmap(name, drawn, muted, dpr), QIcon.Mode.Disabled)
            self._icons[(drawn, disabled)] = found
        return found

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self._icon(size, mode).pixmap(size, mode, state)

    def scaledPixmap(  # noqa: N802 - Qt override
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        return self._icon(size, mode).pixmap(size, scale, mode, state)

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:  # noqa: N802
        return self._icon(size, mode).actualSize(size, mode, state)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        icon = self._icon(rect.size(), mode)
        icon.paint(painter, rect, Qt.AlignmentFlag.AlignCenter, mode, state)

    def availableSizes(  # noqa: N802 - Qt override
        self, mode: QIcon.Mode = QIcon.Mode.Normal, state: QIcon.State = QIcon.State.Off
    ) -> list[QSize]:
        return [QSize(s, s) for s in ICON_SIZES]

    def clone(self) -> QIconEngine:
        return _SvgIconEngine(*self._spec)

    def key(self) -> str:
        return "flowdesk-svg"


def icon(name: str, theme: Theme | None = None, color: str | None = None) -> QIcon:
    """A QIcon from ``resources/icons/NAME.svg`` in the theme's text colour
    (and a muted variant for the disabled state), drawn when first shown."""
    theme = theme or current_theme()
    return QIcon(_SvgIconEngine(name, color or theme.text, theme.muted, _device_ratio()))


def set_icon(target: QObject, name: str) -> None:
    """Give an action or button the icon ``name`` in the current theme, and
    remember the name so that ``refresh_icons`` redraws it when the theme
    changes (an icon is drawn in the theme's text colour once, when set)."""
    target.setProperty("icon_name", name)
    target.setIcon(icon(name))  # type: ignore[attr-defined]


def refresh_icons(root: QObject) -> None:
    """Redraw, in the current theme, every icon under ``root`` set by ``set_icon``
    (and the window's actions, which carry the same ``icon_name``)."""
    for item in [root, *root.findChildren(QObject)]:
        name = item.property("icon_name")
        if name and hasattr(item, "setIcon"):
            item.setIcon(icon(str(name)))


def _arrow_file(color: str) -> str:
    """The combo boxes' drop-down arrow in ``color``, as a file the style sheet
    can name (a style sheet cannot recolour an SVG)."""
    folder = Path(tempfile.gettempdir()) / f"flowdesk-{os.getuid() if hasattr(os, 'getuid') else 0}"
    path = folder / f"arrow-down-{color.lstrip('#')}.svg"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(_svg_bytes("chevron-down", color))
        os.replace(tmp, path)
    return path.as_posix()


def app_icon() -> QIcon:
    return QIcon(str(resource_path("icons", "flowdesk.svg")))


def _device_ratio() -> float:
    app = QGuiApplication.instance()
    screen = app.primaryScreen() if isinstance(app, QGuiApplication) else None
    return float(screen.devicePixelRatio()) if screen is not None else 1.0


_current: list[Theme] = [DARK]


def current_theme() -> Theme:
    return _current[0]


def system_prefers_dark() -> bool:
    app = QGuiApplication.instance()
    if isinstance(app, QGuiApplication):
        scheme = app.styleHints().colorScheme()
        if scheme == Qt.ColorScheme.Light:
            return False
    # Unknown (no desktop, offscreen): dark, the canvas tools' convention.
    return True


def resolve_theme(choice: str) -> Theme:
    """``"dark"``, ``"light"`` or ``"system"``."""
    if choice in THEMES:
        return THEMES[choice]
    return DARK if system_prefers_dark() else LIGHT


def apply_theme(app: QApplication, theme: Theme) -> None:
    """Set palette and style sheet for the whole application."""
    _current[0] = theme
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    pal = QPalette()
    role = QPalette.ColorRole
    for r, value in (
        (role.Window, theme.window),
        (role.WindowText, theme.text),
        (role.Base, theme.base),
        (role.AlternateBase, theme.alt_base),
        (role.Text, theme.text),
        (role.Button, theme.panel),
        (role.ButtonText, theme.text),
        (role.ToolTipBase, theme.panel),
        (role.ToolTipText, theme.text),
        (role.Highlight, theme.accent),
        (role.HighlightedText, "#ffffff"),
        (role.PlaceholderText, theme.muted),
        (role.Link, theme.accent),
        (role.Mid, theme.border),
        (role.Dark, theme.border),
        (role.Light, theme.panel),
        (role.Midlight, theme.panel),
    ):
        pal.setColor(r, QColor(value))
    for r in (role.Text, role.WindowText, role.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, r, QColor(theme.muted))
    app.setPalette(pal)
    qss_path = resource_path("themes", "base.qss")
    try:
        qss = qss_path.read_text(encoding="utf-8")
    except OSError:
        log.warning("style sheet %s not found", qss_path)
        qss = ""
    try:
        qss = qss.replace("@arrow_down", _arrow_file(theme.muted))
    except OSError as exc:  # no writable temp folder: combo boxes without an arrow
        log.warning("combo box arrow not written: %s", exc)
    # Longest names first: "@note_text" must not be read as "@note" + "_text".
    for key, value in sorted(vars(theme).items(), key=lambda kv: -len(kv[0])):
        qss = qss.replace("@" + key, str(value))
    app.setStyleSheet(qss)
