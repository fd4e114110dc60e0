"""Loading and saving workflow files: round trips, atomic saves, migrations,
and every problem of a broken file reported at once with its location."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from flowdesk.engine import (
    WorkflowLoadError,
    dumps_workflow,
    load_workflow,
    loads_workflow,
    save_workflow,
)
from flowdesk.engine.io import parse_workflow
from flowdesk.engine.model import migrations
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import EXAMPLES as SHIPPED

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "workflows").glob("v*/*.json"))
EXAMPLES = sorted(SHIPPED.glob("*.flow.json"))


@pytest.mark.parametrize("path", FIXTURES + EXAMPLES, ids=lambda p: p.name)
def test_golden_files_round_trip_byte_for_byte(path: Path, registry) -> None:
    workflow = load_workflow(path, registry)
    assert dumps_workflow(workflow) == path.read_text(encoding="utf-8")


def test_keys_left_out_stay_out_and_ui_is_kept(registry) -> None:
    text = json.dumps(
        {
            "format": "flowdesk/workflow",
            "version": 1,
            "name": "x",
            "nodes": [{"id": "a", "type": "data.transform"}],
            "edges": [],
            "ui": {"zoom": 2, "whatever": [1, {"deep": None}]},
        }
    )
    data = json.loads(dumps_workflow(loads_workflow(text, registry)))
    assert data["nodes"] == [{"id": "a", "type": "data.transform"}]
    assert data["ui"] == {"zoom": 2, "whatever": [1, {"deep": None}]}
    assert list(data) == ["format", "version", "name", "nodes", "edges", "ui"]


def test_unknown_node_types_load_and_keep_their_json() -> None:
    text = json.dumps(
        {
            "format": "flowdesk/workflow",
            "version": 1,
            "name": "x",
            "nodes": [{"id": "a", "type": "vendor.thing", "config": {"odd": [1, {"x": "y"}]}}],
            "edges": [],
        }
    )
    workflow = loads_workflow(text)
    assert workflow.nodes[0].config == {"odd": [1, {"x": "y"}]}
    assert json.loads(dumps_workflow(workflow)) == json.loads(text)


def test_save_is_atomic_and_keeps_no_temporary_files(tmp_path: Path, registry) -> None:
    target = tmp_path / "flow.flow.json"
    target.write_text("old content")
    os.chmod(target, 0o600)
    workflow = load_workflow(FIXTURES[0], registry)
    save_workflow(workflow, target)
    assert target.read_text() == dumps_workflow(workflow)
    assert [p.name for p in tmp_path.iterdir()] == ["flow.flow.json"]
    assert target.stat().st_mode & 0o777 == 0o600


def test_a_failed_save_leaves_the_old_file_intact(tmp_path: Path, registry, monkeypatch) -> None:
    target = tmp_path / "flow.flow.json"
    target.write_text("precious")
    workflow = load_workflow(FIXTURES[0], registry)

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_workflow(workflow, target)
    assert target.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["flow.flow.json"]


def problems(text: str | bytes, registry=None) -> list[str]:
    with pytest.raises(WorkflowLoadError) as info:
        loads_workflow(text, registry)
    return [str(issue) for issue in info.value.issues]


def test_every_problem_at_once_with_locations(registry) -> None:
    found = problems(
        json.dumps(
            {
                "format": "flowdesk/workflow",
                "version": 1,
                "name": "",
                "typo_key": 1,
                "nodes": [
                    {"id": "ok", "type": "data.transform"},
                    {"id": "9bad", "type": "data.transform"},
                    {"type": "data.transform"},
                    {"id": "x", "type": "data.transform", "retry": {"max_attempts": 0}},
                ],
                "edges": [{"from": {"node": "ok"}}],
            }
        ),
        registry,
    )
    joined = "\n".join(found)
    assert "name: string should have at least 1 character" in joined
    assert "typo_key: unknown key" in joined
    assert "nodes[1].id: invalid id '9bad'" in joined
    assert "nodes[2].id: field required" in joined
    assert "nodes[3].retry.max_attempts:" in joined
    assert "edges[0].to: field required" in joined


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (b"\xff\xfe not utf8", "not UTF-8"),
        ("{not json", "not valid JSON: line 1 column 2"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ("[]", "JSON object, not list"),
        (
            '{"format": "other", "version": 1, "name": "x", "nodes": [], "edges": []}',
            "format: must be exactly 'flowdesk/workflow'",
        ),
        (
            '{"format": "flowdesk/workflow", "name": "x", "nodes": [], "edges": []}',
            "version: field required",
        ),
        (
            '{"format": "flowdesk/workflow", "version": "1", "name": "x",'
            ' "nodes": [], "edges": []}',
            "version: must be an integer",
        ),
    ],
)
def test_unloadable_files_say_why(text, fragment) -> None:
    assert any(fragment in line for line in problems(text))


def test_newer_version_names_both_versions() -> None:
    found = problems(
        '{"format": "flowdesk/workflow", "version": 7, "name": "x", "nodes": [], "edges": []}'
    )
    assert found == [
        "version: the file is format version 7, but this program supports version 1 at "
        "most; open it with a newer Flowdesk"
    ]


def test_older_versions_are_migrated_step_by_step(monkeypatch) -> None:
    def v1_to_v2(raw):
        raw["name"] = raw.pop("title")
        return raw

    def v2_to_v3(raw):
        for node in raw["nodes"]:
            node["type"] = node["type"].replace("transform", "data.transform")
        return raw

    monkeypatch.setattr(migrations, "FORMAT_VERSION", 3)
    monkeypatch.setitem(migrations.MIGRATIONS, 1, v1_to_v2)
    monkeypatch.setitem(migrations.MIGRATIONS, 2, v2_to_v3)
    workflow = parse_workflow(
        {
            "format": "flowdesk/workflow",
            "version": 1,
            "title": "Old",
            "nodes": [{"id": "a", "type": "transform"}],
            "edges": [],
        }
    )
    assert workflow.name == "Old" and workflow.version == 3
    assert workflow.nodes[0].type == "data.transform"


def test_node_config_upgrades_run_per_type_version(registry) -> None:
    from flowdesk.engine import NodeType
    from pydantic import BaseModel

    class NewConfig(BaseModel):
        url: str

    class Renamed(NodeType):
        type_name = "test.renamed"
        version = 2
        Config = NewConfig

        @classmethod
        def upgrade_config(cls, from_version, config):
            return {"url": config.pop("address")}

    registry.register(Renamed)
    workflow = parse_workflow(
        {
            "format": "flowdesk/workflow",
            "version": 1,
            "name": "x",
            "nodes": [{"id": "a", "type": "test.renamed", "config": {"address": "http://x"}}],
            "edges": [],
        },
        registry,
    )
    assert workflow.nodes[0].config == {"url": "http://x"}
    assert workflow.nodes[0].type_version == 2


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "format",
        "version",
        "name",
        "nodes",
        "edges",
        "ui",
        "settings",
        "variables",
        "env",
        "credentials",
        "id",
        "type",
        "config",
        "from",
        "to",
    ]
)
SHAPED = st.recursive(
    JSON,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(JSON, SHAPED))
def test_arbitrary_json_never_raises_anything_but_the_load_error(value) -> None:
    try:
        parse_workflow(value)
    except WorkflowLoadError as exc:
        assert exc.issues and all(str(issue) for issue in exc.issues)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_raise_anything_but_the_load_error(data) -> None:
    try:
        loads_workflow(data)
    except WorkflowLoadError as exc:
        assert exc.issues


def _nested(levels: int, leaf: object = 1) -> object:
    """``levels`` containers inside each other, objects and lists in turn,
    beside siblings that hold no containers (as most of a big file does)."""
    value: object = leaf
    for level in range(levels):
        value = {"k": value, "n": level} if level % 2 else [1, value, "x"]
    return value


def _with_ui(ui: object, nodes: int = 0) -> str:
    raw = {"format": "flowdesk/workflow", "version": 1, "name": "x", "edges": [], "ui": ui}
    raw["nodes"] = [
        {"id": f"n{i}", "type": "data.transform", "position": [i, 0]} for i in range(nodes)
    ]
    return json.dumps(raw)


@pytest.mark.parametrize("nodes", [0, 3000])
def test_a_file_nested_up_to_the_limit_loads_and_one_deeper_says_where(nodes) -> None:
    # the file's object, "ui", then 98 levels: 100 in all
    assert loads_workflow(_with_ui({"deep": _nested(98)}, nodes)).ui["deep"]
    assert problems(_with_ui({"deep": _nested(99)}, nodes)) == [
        "not valid: nested more than 100 levels deep (at ui.deep[1].k[1].k…)"
    ]
    assert problems(_with_ui([[{"a": _nested(98)}]], nodes)) == [
        "not valid: nested more than 100 levels deep (at ui[0][0].a.k[1]…)"
    ]


def test_a_wide_file_is_not_deep() -> None:
    wide = {"v": [{"i": i, "p": [i, [i]]} for i in range(5000)]}
    assert len(loads_workflow(_with_ui(wide, 2000)).nodes) == 2000


def test_a_duplicate_key_deep_in_a_big_file_is_refused() -> None:
    nodes = ",".join(f'{{"id": "n{i}", "type": "data.transform"}}' for i in range(3000))
    text = (
        '{"format": "flowdesk/workflow", "version": 1, "name": "x", "nodes": ['
        + nodes
        + ', {"id": "last", "type": "data.transform", "config": {"value": 1, "value": 2}}'
        + '], "edges": []}'
    )
    assert problems(text) == ["not valid: duplicate key 'value'"]
