"""Fixtures for the Qt-free document tests: the default registry and documents
built from the quick-start example. Nothing here may import PySide6."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from flowdesk.editor.document import Document
from flowdesk.editor.document.observer import Signal
from flowdesk.engine import NodeRegistry, parse_workflow

from tests.helpers import example

QUICKSTART = example("quickstart")


@pytest.fixture(autouse=True)
def _strict_observers() -> Any:
    Signal.strict = True
    yield
    Signal.strict = False


@pytest.fixture
def quickstart_json() -> dict[str, Any]:
    return json.loads(QUICKSTART.read_text())


def make_doc(data: dict[str, Any], registry: NodeRegistry) -> Document:
    return Document(parse_workflow(copy.deepcopy(data), registry), registry)


@pytest.fixture
def doc(quickstart_json: dict[str, Any], registry: NodeRegistry) -> Document:
    data = copy.deepcopy(quickstart_json)
    data["nodes"].append({"id": "loose", "type": "data.transform"})  # no position, no config
    data["ui"] = {"notes": [{"id": "note_1", "text": "Hello", "position": [0, 200]}], "zoom": 3}
    return make_doc(data, registry)
