"""Flowdesk: a desktop visual flow editor with an embedded asyncio engine.

The installed import names all live under this package:

- ``flowdesk.engine``: the Qt-free library that loads, validates and runs
  workflows (the repository's ``engine/`` folder);
- ``flowdesk.editor``: the PySide6 editor (``editor/``);
- ``flowdesk.resources``: icons, themes and example flows (``resources/``);
- ``flowdesk.cli``: the ``flowdesk`` command, the one place that knows both the
  engine's commands and the editor.
"""

from flowdesk.engine import __version__

__all__ = ["__version__"]
