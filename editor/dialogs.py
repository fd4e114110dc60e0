"""Dialogs: the list of problems of a file that cannot be opened (never a
crash, never a blank canvas), the offer to recover unsaved work, and the
save-changes question. May import: PySide6, engine (public API), editor.theme.
"""

from __future__ import annotations

from pathlib import Path

from flowdesk.editor.autosave import Recovery
from flowdesk.editor.theme import icon_pixmap
from flowdesk.engine import Issue
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
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
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)


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
    """Offer the journals of sessions that ended without saving."""

    def __init__(self, recoveries: list[Recovery], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recoveryDialog")
        self.setAccessibleName("Recover unsaved work")
        self.setWindowTitle("Recover unsaved work")
        self.resize(520, 300)
        self.discard_all = False
        label = QLabel(
            "<b>Flowdesk did not close normally.</b><br>Unsaved work was kept. "
            "Recover it now? (Saving asks where, so nothing is overwritten silently.)"
        )
        label.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("recoveryList")
        for recovery in recoveries:
            where = str(recovery.original_path) if recovery.original_path else "never saved"
            item = QListWidgetItem(f"{recovery.name}   —   {where}   ({recovery.saved_at})")
            item.setData(Qt.ItemDataRole.UserRole, recovery)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        buttons = QDialogButtonBox(self)
        recover = buttons.addButton("Recover", QDialogButtonBox.ButtonRole.AcceptRole)
        recover.setObjectName("recoverButton")
        later = buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        later.setObjectName("laterButton")
        discard = buttons.addButton("Discard all", QDialogButtonBox.ButtonRole.DestructiveRole)
        discard.setObjectName("discardButton")
        discard.clicked.connect(self._discard)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.list, 1)
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
