"""Help ▸ Documentation: the bundled documentation (``docs/*.md``, installed
as ``flowdesk.docs``; the README too in a source checkout) shown in a window
of its own — Markdown rendered by Qt, links between pages followed, pictures
shown, nothing fetched from the network. Web links open in the browser.
May import: PySide6, editor.theme.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import (
    QImage,
    QPixmap,
    QResizeEvent,
    QShowEvent,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QTextBrowser,
    QWidget,
)

#: pages in the order a new user wants them; other pages follow by name
ORDER = ("README.md", "ui.md", "workflow-format.md", "runtime-contract.md")
TITLES = {
    "README.md": "Getting started",
    "ui.md": "The editor",
    "workflow-format.md": "Workflow file format",
    "runtime-contract.md": "Runtime contract",
    "planner.md": "Describe a change",
    "security.md": "Security",
    "service.md": "Run as a service",
}


def docs_folders() -> list[Path]:
    """Where the pages are: ``<package>/docs`` (``flowdesk/docs`` when
    installed, the repository's ``docs`` in a checkout) and, in a checkout,
    the repository's top (for the README)."""
    top = Path(__file__).resolve().parents[1]
    return [folder for folder in (top / "docs", top) if folder.is_dir()]


def doc_pages() -> list[Path]:
    pages: dict[str, Path] = {}
    for folder in docs_folders():
        for page in sorted(folder.glob("*.md")):
            pages.setdefault(page.name, page)
    known = [pages[name] for name in ORDER if name in pages]
    return known + [p for name, p in sorted(pages.items()) if name not in ORDER]


def page_title(page: Path) -> str:
    if page.name in TITLES:
        return TITLES[page.name]
    try:
        with page.open(encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("# "):
                    return line[2:].split(":")[0].split(" — ")[0].strip()
    except OSError:
        pass
    return page.stem.replace("-", " ").capitalize()


class DocsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("docsDialog")
        self.setAccessibleName("Documentation")
        self.setWindowTitle("Flowdesk documentation")
        self.resize(1000, 700)
        self.pages = QListWidget(self)
        self.pages.setObjectName("docsPages")
        self.pages.setAccessibleName("Pages")
        self.pages.setFixedWidth(200)
        self.pages.setWordWrap(True)
        self.pages.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("docsBrowser")
        self.browser.setAccessibleName("Documentation page")
        self.browser.setOpenExternalLinks(True)
        self.browser.setSearchPaths([str(f) for f in docs_folders()])
        self.browser.sourceChanged.connect(lambda _url: self._fit_images())
        for page in doc_pages():
            item = QListWidgetItem(page_title(page))
            item.setToolTip(str(page))
            item.setData(256, str(page))
            self.pages.addItem(item)
        self.pages.currentRowChanged.connect(self._show_row)
        layout = QHBoxLayout(self)
        layout.addWidget(self.pages)
        layout.addWidget(self.browser, 1)
        if self.pages.count():
            self.pages.setCurrentRow(0)
        else:
            self.browser.setMarkdown(
                "# Documentation\n\nThe documentation files are not installed with this "
                "copy of Flowdesk. Help ▸ Keyboard Shortcuts lists the editor's keys."
            )

    def _show_row(self, row: int) -> None:
        item = self.pages.item(row)
        if item is not None:
            self.browser.setSource(QUrl.fromLocalFile(str(item.data(256))))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_images()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._fit_images()

    def _fit_images(self) -> None:
        """Pictures (the README's screenshots) as wide as the page at most."""
        document = self.browser.document()
        room = max(200, self.browser.viewport().width() - 40)
        block = document.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                fmt = fragment.charFormat()
                if fmt.isImageFormat():
                    image = fmt.toImageFormat()
                    found = document.resource(
                        QTextDocument.ResourceType.ImageResource, QUrl(image.name())
                    )
                    size = found.size() if isinstance(found, QImage | QPixmap) else None
                    if size is not None and size.width() > 0:
                        width = min(size.width(), room)
                        image.setWidth(width)
                        image.setHeight(size.height() * width / size.width())
                        cursor = QTextCursor(document)
                        cursor.setPosition(fragment.position())
                        cursor.setPosition(
                            fragment.position() + fragment.length(), QTextCursor.MoveMode.KeepAnchor
                        )
                        cursor.setCharFormat(image)
                it += 1
            block = block.next()

    def shown_page(self) -> str:
        return Path(self.browser.source().toLocalFile()).name
