"""``lazy_module(name)``: a module that is imported on first use.

The HTTP stack (httpx, aiohttp: about a third of a second) is needed when a
node sends a request, not when the registry lists the node types — the
editor opens a file before any run. The first attribute read imports the
module through the import system, whose per-module lock makes any other
thread reading one at the same time wait until the module has run whole.
(``importlib.util.LazyLoader`` did not before Python 3.12.3: a second thread
saw the module half-run — "module 'httpx' has no attribute 'InvalidURL'" when
the editor's validation and a run's first request met.)
May import: stdlib.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    """Stands for module ``__name__`` until an attribute is read; then it takes
    the imported module's names, so that later reads are plain attribute
    reads (a request reads ``httpx.*`` several times: ``__getattr__`` costs
    about 50 times a plain read). A name the module gains later is still
    found through ``__getattr__``."""

    def __getattr__(self, attr: str) -> Any:
        # (waits while another thread runs the module; returns it whole)
        module = importlib.import_module(self.__name__)
        if not getattr(module.__spec__, "_initializing", False):
            self.__dict__.update(module.__dict__)
        return getattr(module, attr)

    def __dir__(self) -> list[str]:
        return dir(importlib.import_module(self.__name__))


def lazy_module(name: str) -> ModuleType:
    found = sys.modules.get(name)
    if found is not None:
        return found
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    return _LazyModule(name)
