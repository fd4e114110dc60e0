"""Flowdesk: a desktop visual flow editor with an embedded asyncio engine.

The installed import names all live under this package:

- ``flowdesk.engine``: the Qt-free library that loads, validates and runs
  workflows (the repository's ``engine/`` folder);
- ``flowdesk.editor``: the PySide6 editor (``editor/``);
- ``flowdesk.resources``: icons, themes and example flows (``resources/``);
- ``flowdesk.cli``: the ``flowdesk`` command, the one place that knows both the
  engine's commands and the editor.
"""

import gc as _gc

# The engine's import builds thousands of long-lived objects (its models and
# their validators) and frees almost none: the cyclic collector's passes over
# them meanwhile are wasted (a tenth of the import). Paused for it, resumed.
_collecting = _gc.isenabled()
_gc.disable()
try:
    from flowdesk.engine import __version__
finally:
    if _collecting:
        _gc.enable()

__all__ = ["__version__"]
