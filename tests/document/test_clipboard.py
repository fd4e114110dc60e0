"""Copy/paste fragments: the workflow format, unique ids, internal edges kept,
references rewritten, hand-typed fragments accepted, errors listed."""

from __future__ import annotations

import json

import pytest
from flowdesk.editor.document import Document
from flowdesk.editor.document.clipboard import (
    FragmentError,
    copy_fragment,
    fragment_text,
    new_node_json,
    parse_fragment,
    plan_paste,
)
from flowdesk.engine import loads_workflow


def test_copied_selection_is_a_loadable_workflow(doc: Document) -> None:
    text = fragment_text(doc, {"is_big_day", "celebrate", "quiet"}, {"note_1"})
    data = json.loads(text)
    assert data["format"] == "flowdesk/workflow" and data["version"] == 1
    assert [n["id"] for n in data["nodes"]] == ["is_big_day", "celebrate", "quiet"]
    assert len(data["edges"]) == 2  # the edges into is_big_day and out of the branches stay behind
    assert data["ui"]["notes"][0]["text"] == "Hello"
    loads_workflow(text, doc.registry)


def test_paste_into_same_document_makes_ids_unique_and_keeps_internal_edges(doc: Document) -> None:
    fragment = parse_fragment(fragment_text(doc, {"summarise", "is_big_day"}))
    command, ids, _ = plan_paste(doc, fragment)
    command.redo(doc)
    assert ids == ["summarise_2", "is_big_day_2"]
    assert ("summarise_2", "out", "is_big_day_2", "in") in doc.edge_keys()
    assert len(doc.edge_keys()) == 8
    assert doc.node("summarise_2").position == (320, 40)
    # Pasting again counts on.
    command2, ids2, _ = plan_paste(doc, parse_fragment(fragment_text(doc, {"summarise"})))
    command2.redo(doc)
    assert ids2 == ["summarise_3"]


def test_paste_rewrites_references_between_pasted_nodes(doc: Document) -> None:
    doc.node("quiet").config["value"] = "{{ nodes.is_big_day }} {{ nodes.read_orders }}"
    fragment = parse_fragment(fragment_text(doc, {"is_big_day", "quiet"}))
    command, ids, _ = plan_paste(doc, fragment, anchor=(0, 500))
    command.redo(doc)
    assert doc.node(ids[1]).config["value"] == "{{ nodes.is_big_day_2 }} {{ nodes.read_orders }}"
    assert doc.node(ids[0]).position == (0, 500)


def test_hand_typed_fragments(doc: Document) -> None:
    single = parse_fragment('{"type": "flow.if", "config": {"condition": "input > 1"}}')
    command, ids, _ = plan_paste(doc, single, anchor=(0, 0))
    command.redo(doc)
    assert ids == ["if"]
    listed = parse_fragment('[{"id": "a", "type": "data.transform"}, {"id": "b", "type": "x.y"}]')
    assert [n["id"] for n in listed.nodes] == ["a", "b"]


def test_bad_fragments_list_every_problem() -> None:
    with pytest.raises(FragmentError) as info:
        parse_fragment('{"nodes": [{"id": "1bad", "type": "a"}, {"id": "ok"}, 3]}')
    assert len(info.value.problems) == 3
    with pytest.raises(FragmentError):
        parse_fragment("not json")
    with pytest.raises(FragmentError):
        parse_fragment('{"hello": 1}')


def test_paste_declares_missing_credentials(doc: Document) -> None:
    text = json.dumps(
        {
            "format": "flowdesk/workflow",
            "version": 1,
            "name": "x",
            "credentials": {"api": {"type": "bearer"}},
            "nodes": [{"id": "n", "type": "data.transform", "config": {"credential": "api"}}],
            "edges": [],
        }
    )
    command, _, _ = plan_paste(doc, parse_fragment(text))
    command.redo(doc)
    assert doc.to_json()["credentials"] == {"api": {"type": "bearer"}}
    assert "credentials" in copy_fragment(doc, {"n_2"} if doc.has_node("n_2") else {"n"})


def test_new_node_ids_come_from_the_type_title(doc: Document) -> None:
    assert new_node_json(doc, "data.transform", (0, 0))["id"] == "transform"
    assert new_node_json(doc, "file.read", (0, 0))["id"] == "read_file"
    assert new_node_json(doc, "acme.unknown", (0, 0))["id"] == "unknown"


def test_a_bad_fragment_is_described_in_the_words_of_flowdesk_validate() -> None:
    text = {
        "nodes": [
            {"id": "1bad", "type": "a"},
            {"id": "ok", "type": "a", "retry": {"max_attempts": "x"}},
        ],
        "edges": [{"from": {"node": "a"}}],
    }
    with pytest.raises(FragmentError) as info:
        parse_fragment(json.dumps(text))
    assert info.value.problems == [
        "nodes[0].id: invalid id '1bad': use letters, digits and '_', starting with a "
        "letter or '_', at most 64 characters",
        "nodes[1].retry.max_attempts: input should be a valid integer, unable to parse "
        "string as an integer (got 'x')",
        "edges[0].to: field required",
    ]


def test_a_credential_reference_is_described_in_the_same_words() -> None:
    """(the credentials dialog's check: the kind is left out of the place)"""
    from flowdesk.editor.document.credentials import reference_problem

    assert reference_problem({"type": "bearer"}) is None
    assert reference_problem({"type": "basic"}) == "Username: field required."
    assert reference_problem({"type": "api_key", "name": "k", "in": "body"}) == (
        "In: input should be 'header', 'query' or 'cookie' (got 'body')."
    )
