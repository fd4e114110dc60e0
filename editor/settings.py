"""Typed access to the user's preferences (``QSettings``): recent files,
theme, snap to grid, minimap, window geometry. Tests pass their own
``QSettings`` file (or set ``FLOWDESK_SETTINGS``) so they never touch the user's.
May import: PySide6, stdlib.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10


class Settings:
    def __init__(self, store: QSettings | None = None) -> None:
        if store is None:
            # FLOWDESK_SETTINGS names an INI file: portable installs and tests.
            path = os.environ.get("FLOWDESK_SETTINGS")
            store = (
                QSettings(path, QSettings.Format.IniFormat)
                if path
                else QSettings("Flowdesk", "Flowdesk")
            )
        self.store = store

    def recent_files(self) -> list[Path]:
        raw = self.store.value("recent_files", [])
        items = (
            [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list | tuple) else []
        )
        return [Path(p) for p in items if isinstance(p, str) and p]

    def add_recent(self, path: Path) -> None:
        path = path.resolve()
        items = [p for p in self.recent_files() if p != path]
        self.store.setValue("recent_files", [str(p) for p in [path, *items][:MAX_RECENT]])

    def clear_recent(self) -> None:
        self.store.setValue("recent_files", [])

    def _bool(self, key: str, default: bool) -> bool:
        value = self.store.value(key, default)
        return value in (True, "true", "1", 1) if not isinstance(value, bool) else value

    @property
    def theme(self) -> str:
        value = str(self.store.value("theme", "system"))
        return value if value in ("system", "dark", "light") else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        self.store.setValue("theme", value)

    @property
    def snap(self) -> bool:
        return self._bool("snap_to_grid", True)

    @snap.setter
    def snap(self, value: bool) -> None:
        self.store.setValue("snap_to_grid", value)

    @property
    def minimap(self) -> bool:
        return self._bool("minimap", True)

    @minimap.setter
    def minimap(self, value: bool) -> None:
        self.store.setValue("minimap", value)

    @property
    def last_dir(self) -> str:
        return str(self.store.value("last_dir", str(Path.home())))

    @last_dir.setter
    def last_dir(self, value: str) -> None:
        self.store.setValue("last_dir", value)

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry = self.store.value("window/geometry")
        state = self.store.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)
