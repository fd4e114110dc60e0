"""Shared test setup: a private user data folder (run history) per session, so
tests never touch the real one, Qt kept offscreen for GUI tests, and the one
``registry`` of built-in node types the test packages share (tests/engine
overrides it with its stub types). Helpers shared by the packages (examples,
free ports) are in tests/helpers.py."""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from flowdesk.engine import NodeRegistry

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["FLOWDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="flowdesk-test-data-")


@pytest.fixture(scope="session")
def registry() -> NodeRegistry:
    """The built-in node types, without plug-ins, shared by the session. A
    test that registers a type of its own removes it again
    (``registry.unregister(type_name)``)."""
    from flowdesk.engine import NodeRegistry

    return NodeRegistry.default(plugins=False)
