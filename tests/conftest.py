"""Shared test setup: a private user data folder (run history) per session, so
tests never touch the real one, Qt kept offscreen for GUI tests, and the one
``registry`` of built-in node types the test packages share (tests/engine
overrides it with its stub types), and ``no_orphans`` for the tests that start
MCP servers. Helpers shared by the packages (examples, free ports, child
processes) are in tests/helpers.py."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.helpers import children

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


@pytest.fixture
def no_orphans() -> Iterator[None]:
    """No child process (an MCP server) started during the test outlives it.
    Modules whose tests start servers use it for every test
    (``pytestmark = pytest.mark.usefixtures("no_orphans")``): set up before
    the test's own fixtures, it checks after their teardown (a window's
    closing included). A server gets 5 s to go."""
    before = children()
    yield
    deadline = time.monotonic() + 5
    while children() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert children() - before == set(), "an MCP server process outlived its test"
