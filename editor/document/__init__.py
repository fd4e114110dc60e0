"""The Qt-free core of the editor: the ``Document`` (an observable workflow),
pure undoable commands, clipboard fragments and auto-layout.

Nothing in this package may import PySide6 or qasync (``tests/test_boundaries.py``).
"""

from flowdesk.editor.document.document import UNSET, Document, DocumentError, PortInfo
from flowdesk.editor.document.observer import Signal

__all__ = ["UNSET", "Document", "DocumentError", "PortInfo", "Signal"]
