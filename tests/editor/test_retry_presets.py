"""Retry presets in the editor: a new node of a network type starts with the
``network`` preset, other types and existing files keep their behaviour, the
inspector selects a preset and shows its numbers."""

from __future__ import annotations

import json

from flowdesk.editor.main_window import MainWindow
from flowdesk.engine.retry import PRESETS
from PySide6.QtCore import QPoint

from .conftest import QUICKSTART
from .test_adding_nodes import drop_type


def test_new_network_nodes_start_with_the_network_preset(window: MainWindow) -> None:
    drop_type(window, "http.request", QPoint(300, 300))
    drop_type(window, "ai.transform", QPoint(600, 300))
    drop_type(window, "data.transform", QPoint(300, 500))
    nodes = {n["type"]: n for n in window.controller.document.to_json()["nodes"]}
    assert nodes["http.request"]["retry"] == {"preset": "network"}
    assert nodes["ai.transform"]["retry"] == {"preset": "network"}
    assert "retry" not in nodes["data.transform"]
    # the inspector shows the preset and the numbers it stands for
    window.scene.select([nodes["http.request"]["id"]])
    common = window.inspector.common
    assert common["retry.preset"].combo.currentData() == "network"  # type: ignore[attr-defined]
    shown = common["retry.max_attempts"].spin.value()  # type: ignore[attr-defined]
    assert shown == PRESETS["network"].max_attempts


def test_existing_files_keep_their_retry(quickstart: MainWindow) -> None:
    before = json.loads(QUICKSTART.read_text())
    doc = quickstart.controller.document.to_json()
    assert [n.get("retry") for n in doc["nodes"]] == [n.get("retry") for n in before["nodes"]]
    assert "retry" not in doc.get("settings", {})


def test_the_inspector_selects_a_preset_and_custom_keeps_its_numbers(
    quickstart: MainWindow,
) -> None:
    win = quickstart
    win.scene.select(["merge"])
    common = win.inspector.common
    preset = common["retry.preset"]
    combo = preset.combo  # type: ignore[attr-defined]
    combo.setCurrentIndex(combo.findData("rate_limit"))
    doc = win.controller.document
    merge = next(n for n in doc.to_json()["nodes"] if n["id"] == "merge")
    assert merge["retry"] == {"preset": "rate_limit"}
    attempts = common["retry.max_attempts"].spin  # type: ignore[attr-defined]
    assert attempts.value() == PRESETS["rate_limit"].max_attempts
    attempts.setValue(3)  # override one number of the preset
    merge = next(n for n in doc.to_json()["nodes"] if n["id"] == "merge")
    assert merge["retry"] == {"preset": "rate_limit", "max_attempts": 3}
    combo.setCurrentIndex(combo.findData(None))  # custom: the numbers stay
    merge = next(n for n in doc.to_json()["nodes"] if n["id"] == "merge")
    rate = PRESETS["rate_limit"]
    assert merge["retry"] == {
        "max_attempts": 3,
        "base_delay_s": rate.base_delay_s,
        "max_delay_s": rate.max_delay_s,
    }
