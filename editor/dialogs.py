"""Dialogs: the list of problems of a file that cannot be opened (never a
crash, never a blank canvas), the offer to recover unsaved work, and the
save-changes question. May import: PySide6, engine (public API), editor.theme.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from flowdesk.editor.autosave import Recovery
from flowdesk.editor.theme import current_theme, icon_pixmap
from flowdesk.engine import Issue
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QPainter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

#: the item role of a two-line row's second line
SECOND_LINE = Qt.ItemDataRole.UserRole + 1


class ProblemsDialog(QDialog):
    """Every problem of a file that could not be opened, with its location."""

    def __init__(
        self,
        path: Path | str,
        issues: list[Issue],
        parent: QWidget | None = None,
        heading: str = "This file could not be opened",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("problemsDialog")
        self.setAccessibleName("File problems")
        self.setWindowTitle("Cannot open file")
        self.issues = issues
        self.resize(640, 380)
        top = QHBoxLayout()
        badge = QLabel()
        badge.setPixmap(icon_pixmap("warning", 32, "#ef5350", self.devicePixelRatioF()))
        top.addWidget(badge, 0, Qt.AlignmentFlag.AlignTop)
        text = QLabel(
            f"<b>{heading}</b><br><span>{Path(path).name}</span> — "
            f"{len(issues)} problem{'s' if len(issues) != 1 else ''}. Nothing was changed; "
            "fix the file (or open another) and try again."
        )
        text.setWordWrap(True)
        top.addWidget(text, 1)
        self.table = QTreeWidget(self)
        self.table.setObjectName("problemsList")
        self.table.setAccessibleName("Problems")
        self.table.setHeaderLabels(["Where", "Problem"])
        self.table.setRootIsDecorated(False)
        self.table.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.header().setStretchLastSection(True)
        for issue in issues:
            item = QTreeWidgetItem([issue.location or "file", issue.message])
            item.setToolTip(1, issue.message)
            self.table.addTopLevelItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = QPushButton("Copy problems")
        copy.setObjectName("copyProblemsButton")
        copy.clicked.connect(self.copy)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)

    def text(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())


class RecoveryDialog(QDialog):
    """Offer the journals of sessions that ended without saving: each one's
    file, folder and time on two lines (the folder elided in its middle, never
    a horizontal scroll bar). ``opened``: the file just opened, whose work is
    offered first."""

    WIDTH = 600

    def __init__(
        self,
        recoveries: list[Recovery],
        parent: QWidget | None = None,
        opened: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("recoveryDialog")
        self.setAccessibleName("Recover unsaved work")
        self.setWindowTitle("Recover unsaved work")
        self.setFixedWidth(self.WIDTH)
        self.discard_all = False
        if opened is not None:
            heading = (
                f"<b>{html.escape(opened.name)} has unsaved changes.</b><br>Flowdesk closed "
                "before they were saved, and kept them. Recover them now?"
            )
        else:
            heading = (
                "<b>Flowdesk did not close normally.</b><br>Unsaved work was kept. "
                "Recover it now? (Nothing is written to its file until you save.)"
            )
        label = QLabel(heading)
        label.setObjectName("recoveryHeading")
        label.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("recoveryList")
        self.list.setAccessibleName("Unsaved work")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSpacing(2)
        self.list.setItemDelegate(TwoLineDelegate(self.list))
        text_width = self.WIDTH - 80
        for recovery in recoveries:
            title, second = recovery_lines(recovery, text_width, self.fontMetrics())
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, recovery)
            item.setData(SECOND_LINE, second)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{title} — {second}")
            item.setToolTip(recovery_tooltip(recovery))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        shown = min(len(recoveries), 4)
        rows = sum(self.list.sizeHintForRow(i) for i in range(shown)) + 2 * shown * 2
        self.list.setFixedHeight(rows + 2 * self.list.frameWidth() + 2)
        buttons = QDialogButtonBox(self)
        recover = buttons.addButton("Recover", QDialogButtonBox.ButtonRole.AcceptRole)
        recover.setObjectName("recoverButton")
        recover.setDefault(True)
        later = buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        later.setObjectName("laterButton")
        later.setToolTip(
            "Keep the work for later: not asked again while Flowdesk runs; "
            "File ▸ Recover Unsaved Work… offers it, and so does the next start"
        )
        discard = buttons.addButton("Discard", QDialogButtonBox.ButtonRole.DestructiveRole)
        discard.setObjectName("discardButton")
        discard.setToolTip("Delete the kept work listed here")
        discard.clicked.connect(self._discard)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(label)
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def _discard(self) -> None:
        self.discard_all = True
        self.reject()

    def chosen(self) -> Recovery | None:
        item = self.list.currentItem()
        if item is None:
            return None
        recovery = item.data(Qt.ItemDataRole.UserRole)
        return recovery if isinstance(recovery, Recovery) else None

    def row_texts(self) -> list[str]:
        """What each row says (plain text), as screen readers hear it."""
        return [
            str(self.list.item(i).data(Qt.ItemDataRole.AccessibleTextRole))
            for i in range(self.list.count())
        ]


def _home_short(folder: Path) -> str:
    home = Path.home()
    try:
        return "~/" + folder.relative_to(home).as_posix()
    except ValueError:
        return str(folder)


def recovery_lines(recovery: Recovery, width: int, metrics: QFontMetrics) -> tuple[str, str]:
    """Two lines: the file (or the workflow's name), then its folder (elided
    in the middle to fit ``width``) and when the work was kept."""
    from flowdesk.editor.run.history_panel import local_time

    when = f"kept {local_time(recovery.saved_at)}" if recovery.saved_at else ""
    if recovery.original_path is not None:
        title = recovery.original_path.name
        folder = _home_short(recovery.original_path.parent)
        room = width - metrics.horizontalAdvance(f"  ·  {when}") - 24
        where = metrics.elidedText(folder, Qt.TextElideMode.ElideMiddle, max(room, 80))
    else:
        title, where = recovery.name, "never saved"
    return title, (f"{where}  ·  {when}" if when else where)


class TwoLineDelegate(QStyledItemDelegate):
    """A bold first line and a quieter second one (``SECOND_LINE``), readable
    on the selection colour too."""

    PAD = 7

    def sizeHint(self, option: QStyleOptionViewItem, index: Any) -> QSize:  # noqa: N802
        line = option.fontMetrics.lineSpacing()
        return QSize(option.rect.width(), 2 * line + 2 * self.PAD + 2)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Any) -> None:
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        if selected:
            painter.fillRect(option.rect, palette.highlight())
        text = palette.highlightedText().color() if selected else palette.text().color()
        quiet = QColor(text if selected else current_theme().muted)
        if selected:
            quiet.setAlphaF(0.85)
        rect = option.rect.adjusted(10, self.PAD, -10, -self.PAD)
        bold = QFont(option.font)
        bold.setBold(True)
        line = option.fontMetrics.lineSpacing()
        painter.setFont(bold)
        painter.setPen(text)
        first = QFontMetrics(bold).elidedText(
            str(index.data()), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.drawText(rect.adjusted(0, 0, 0, -line), Qt.AlignmentFlag.AlignLeft, first)
        painter.setFont(option.font)
        painter.setPen(quiet)
        second = option.fontMetrics.elidedText(
            str(index.data(SECOND_LINE) or ""), Qt.TextElideMode.ElideMiddle, rect.width()
        )
        painter.drawText(rect.adjusted(0, line + 2, 0, 0), Qt.AlignmentFlag.AlignLeft, second)
        painter.restore()


def recovery_tooltip(recovery: Recovery) -> str:
    where = str(recovery.original_path) if recovery.original_path else "never saved"
    return f"{recovery.name}\n{where}\nkept {recovery.saved_at}"


def ask_save_changes(parent: QWidget, name: str) -> QMessageBox.StandardButton:
    """Save, Discard or Cancel before closing or replacing a modified document."""
    box = QMessageBox(parent)
    box.setObjectName("saveChangesDialog")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Save the changes to “{name}”?")
    box.setInformativeText("Your changes will be lost if you don't save them.")
    box.setStandardButtons(
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    return QMessageBox.StandardButton(box.exec())
