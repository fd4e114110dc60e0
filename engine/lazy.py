"""``lazy_module(name)``: a module that is imported on first use.

The HTTP stack (httpx, aiohttp: about a third of a second) is needed when a
node sends a request, not when the registry lists the node types — the
editor opens a file before any run. ``importlib.util.LazyLoader`` runs the
module the first time one of its attributes is read.
May import: stdlib.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    found = sys.modules.get(name)
    if found is not None:
        return found
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
