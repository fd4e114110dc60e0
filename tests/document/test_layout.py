"""Auto-layout: left to right along edges, no overlaps, cycles survive,
selection-only keeps the rest in place, and it is one undo step."""

from __future__ import annotations

import time

from flowdesk.editor.document import Document
from flowdesk.editor.document.commands import MoveNodes
from flowdesk.editor.document.layout import layered_layout

SIZE = (200.0, 80.0)


def _overlaps(pos: dict[str, tuple[float, float]]) -> bool:
    boxes = [(x, y, x + SIZE[0], y + SIZE[1]) for x, y in pos.values()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                return True
    return False


def test_quickstart_flows_left_to_right(doc: Document) -> None:
    ids = doc.node_ids()
    edges = [(k[0], k[2]) for k in doc.edge_keys()]
    pos = layered_layout(ids, edges, origin=(10, 20))
    for a, b in edges:
        assert pos[a][0] < pos[b][0]
    assert not _overlaps(pos)
    assert min(x for x, _ in pos.values()) == 10
    assert pos["celebrate"][0] == pos["quiet"][0]
    # The branch is centred on its source.
    assert (pos["celebrate"][1] + pos["quiet"][1]) / 2 == pos["is_big_day"][1]


def test_cycles_and_isolated_nodes() -> None:
    pos = layered_layout(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "a")])
    assert len(pos) == 4 and not _overlaps(pos)


def test_layout_is_one_undo_step(doc: Document) -> None:
    ids = ["celebrate", "quiet", "merge"]
    before = doc.to_json()
    pos = layered_layout(ids, [(k[0], k[2]) for k in doc.edge_keys()], origin=(840, -100))
    command = MoveNodes({i: (doc.node(i).position, pos[i]) for i in ids}, text="Auto-layout")
    command.redo(doc)
    assert doc.node("read_orders").position == (0, 0)
    command.undo(doc)
    assert doc.to_json() == before


def test_large_graph_is_fast() -> None:
    n = 5000
    ids = [f"n{i}" for i in range(n)]
    edges = [(ids[i], ids[i + 1]) for i in range(n - 1)] + [
        (ids[i], ids[i + 7]) for i in range(0, n - 7, 5)
    ]
    start = time.thread_time()  # (CPU of this thread: a busy machine does not stretch it)
    pos = layered_layout(ids, edges)
    assert time.thread_time() - start < 3.0
    assert len(pos) == n
