"""``file.read`` and ``file.write`` in every format, both ways: what lands on
disk, what comes back, and the edge cases real files have (BOMs, CRLF,
quoted CSV fields, ragged rows, U+2028 in JSON lines, invalid UTF-8)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

RECORDS = [
    {"id": "1", "name": "Ada Lovelace", "note": 'said "hi", then left'},
    {"id": "2", "name": "Grace\nHopper", "note": ""},
    {"id": "3", "name": "Zoë Ünïcode ✓", "note": "comma, inside"},
]


async def test_text_round_trip(write, read, root: Path):
    text = "first line\nsecond ünïcode line ✓\n"
    run = await write("notes/today.txt", text, "text")
    assert run.output("write") == {"path": "notes/today.txt", "bytes": len(text.encode())}
    assert (root / "notes/today.txt").read_text(encoding="utf-8") == text
    assert (await read("notes/today.txt")).output("read") == text


async def test_json_round_trip_is_pretty_and_keeps_types(write, read, root: Path):
    value = {"n": 1, "f": 2.5, "b": True, "none": None, "list": [1, "two"], "ü": "✓"}
    await write("out/value.json", value, "json")
    on_disk = (root / "out/value.json").read_text(encoding="utf-8")
    assert on_disk == json.dumps(value, ensure_ascii=False, indent=2) + "\n"
    assert (await read("out/value.json", "json")).output("read") == value


async def test_jsonl_round_trip_one_value_per_line(write, read, root: Path):
    values = [{"a": 1}, [1, 2], "text", 3, None, {"sep": "line\u2028separator"}]
    await write("out/values.jsonl", values, "jsonl")
    lines = (root / "out/values.jsonl").read_text(encoding="utf-8").split("\n")
    assert len(lines) == len(values) + 1 and lines[-1] == ""
    assert (await read("out/values.jsonl", "jsonl")).output("read") == values


async def test_csv_round_trip_with_quotes_commas_and_newlines(write, read, root: Path):
    await write("out/people.csv", RECORDS, "csv")
    assert (root / "out/people.csv").read_text(encoding="utf-8").startswith("id,name,note\n")
    assert (await read("out/people.csv", "csv")).output("read") == RECORDS


async def test_csv_write_takes_the_union_of_columns_and_writes_values_as_text(
    write, read, root: Path
):
    rows = [{"a": 1, "b": True}, {"b": None, "c": {"x": [1]}}, {"a": 2.5}]
    await write("mixed.csv", rows, "csv")
    assert (root / "mixed.csv").read_text() == 'a,b,c\n1,true,\n,,"{""x"": [1]}"\n2.5,,\n'
    assert (await read("mixed.csv", "csv")).output("read") == [
        {"a": "1", "b": "true", "c": ""},
        {"a": "", "b": "", "c": '{"x": [1]}'},
        {"a": "2.5", "b": "", "c": ""},
    ]


async def test_bytes_round_trip_through_base64(write, read, root: Path):
    blob = bytes(range(256)) * 4
    encoded = base64.b64encode(blob).decode()
    run = await write("bin/blob.dat", encoded, "bytes")
    assert run.output("write")["bytes"] == len(blob)
    assert (root / "bin/blob.dat").read_bytes() == blob
    assert (await read("bin/blob.dat", "bytes")).output("read") == encoded


async def test_the_write_node_takes_its_content_from_config_too(run_flow, root: Path):
    node = {
        "id": "w",
        "type": "file.write",
        "config": {"path": "c.txt", "format": "text", "content": "Hi {{ vars.who }}"},
    }
    await run_flow([node], variables={"who": "Ann"})
    assert (root / "c.txt").read_text() == "Hi Ann"


async def test_a_file_read_feeds_a_transform_and_a_write(run_flow, root: Path):
    (root / "in.csv").write_text("name,amount\nA,1.5\nB,2\n")
    nodes = [
        {"id": "read", "type": "file.read", "config": {"path": "in.csv", "format": "csv"}},
        {
            "id": "sum",
            "type": "data.transform",
            "config": {
                "value": {"total": "{{ input | map(attribute='amount') | map('float') | sum }}"}
            },
        },
        {"id": "write", "type": "file.write", "config": {"path": "out/sum.json"}},
    ]
    run = await run_flow(nodes, [("read", "sum"), ("sum", "write")])
    assert run.status == "succeeded"
    assert json.loads((root / "out/sum.json").read_text()) == {"total": 3.5}


# ------------------------------------------------------------------ reading


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "csv"])
async def test_a_utf8_byte_order_mark_is_not_part_of_the_data(read, root: Path, fmt):
    content = {
        "text": "héllo",
        "json": '{"k": "v"}',
        "jsonl": '{"k": "v"}\n',
        "csv": "id,name\n1,x\n",
    }[fmt]
    (root / "bom").write_bytes(b"\xef\xbb\xbf" + content.encode())
    expected = {
        "text": "héllo",
        "json": {"k": "v"},
        "jsonl": [{"k": "v"}],
        "csv": [{"id": "1", "name": "x"}],
    }[fmt]
    assert (await read("bom", fmt)).output("read") == expected


async def test_csv_with_crlf_blank_lines_and_short_rows(read, root: Path):
    (root / "r.csv").write_bytes(b'a,b,c\r\n1,2,3\r\n\r\n4,5\r\n"x\r\ny",,\r\n')
    assert (await read("r.csv", "csv")).output("read") == [
        {"a": "1", "b": "2", "c": "3"},
        {"a": "4", "b": "5", "c": None},
        {"a": "x\r\ny", "b": "", "c": ""},
    ]


async def test_csv_with_only_a_header_or_nothing_gives_no_records(read, root: Path):
    (root / "header.csv").write_text("a,b\n")
    (root / "empty.csv").write_text("")
    assert (await read("header.csv", "csv")).output("read") == []
    assert (await read("empty.csv", "csv")).output("read") == []


async def test_a_csv_row_with_too_many_fields_names_its_line(read, root: Path):
    (root / "bad.csv").write_text("a,b\n1,2\n3,4,5\n")
    error = (await read("bad.csv", "csv")).error("read")
    assert (error["code"], error["category"]) == ("PARSE_ERROR", "VALIDATION")
    assert error["details"]["line"] == 3
    assert "3 fields" in error["message"] and "header row has 2" in error["message"]


async def test_a_csv_header_with_a_repeated_column_is_refused(read, root: Path):
    (root / "dup.csv").write_text("id,name,id\n1,x,2\n")
    error = (await read("dup.csv", "csv")).error("read")
    assert error["code"] == "PARSE_ERROR"
    assert "'id' appears twice" in error["message"]


async def test_invalid_json_names_line_and_column(read, root: Path):
    (root / "bad.json").write_text('{\n  "a": 1,\n  "b": oops\n}\n')
    error = (await read("bad.json", "json")).error("read")
    assert error["code"] == "PARSE_ERROR"
    assert error["details"]["line"] == 3
    assert "'bad.json' line 3" in error["message"]


async def test_jsonl_skips_blank_lines_accepts_crlf_and_names_a_bad_line(read, root: Path):
    (root / "ok.jsonl").write_bytes(b'{"a": 1}\r\n\r\n{"a": 2}\r\n')
    assert (await read("ok.jsonl", "jsonl")).output("read") == [{"a": 1}, {"a": 2}]
    (root / "bad.jsonl").write_text('{"a": 1}\n{"a": \n')
    error = (await read("bad.jsonl", "jsonl")).error("read")
    assert (error["code"], error["details"]["line"]) == ("PARSE_ERROR", 2)


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "csv"])
async def test_text_that_is_not_utf8_is_an_encoding_error_naming_the_byte(read, root: Path, fmt):
    # Latin-1 "é" (0xe9) on line 3, far past the first read buffer.
    data = b"id,name\n" + b"1,plain\n" * 2000 + b"2,caf\xe9\n"
    (root / "latin1.txt").write_bytes(data)
    error = (await read("latin1.txt", fmt)).error("read")
    assert (error["code"], error["category"]) == ("ENCODING", "VALIDATION")
    assert error["details"]["position"] == data.index(b"\xe9")
    assert error["details"]["line"] == 2002
    assert "0xe9" in error["message"] and "'bytes'" in error["message"]
    # The same file reads fine as bytes.
    encoded = (await read("latin1.txt", "bytes")).output("read")
    assert base64.b64decode(encoded) == data


# ------------------------------------------------------------------ writing


async def test_overwrite_replaces_the_whole_file(write, root: Path):
    (root / "o.txt").write_text("a much longer old content\n" * 100)
    await write("o.txt", "new", "text")
    assert (root / "o.txt").read_text() == "new"


async def test_append_adds_to_text_and_jsonl_files(write, read, root: Path):
    await write("log.txt", "one\n", "text", "append")
    await write("log.txt", "two\n", "text", "append")
    assert (root / "log.txt").read_text() == "one\ntwo\n"
    await write("events.jsonl", [{"n": 1}], "jsonl", "append")
    await write("events.jsonl", [{"n": 2}, {"n": 3}], "jsonl", "append")
    assert (await read("events.jsonl", "jsonl")).output("read") == [{"n": 1}, {"n": 2}, {"n": 3}]


async def test_append_starts_a_new_line_when_the_file_lacks_a_final_newline(
    write, read, root: Path
):
    (root / "e.jsonl").write_text('{"n": 1}')
    await write("e.jsonl", {"n": 2}, "jsonl", "append")
    assert (await read("e.jsonl", "jsonl")).output("read") == [{"n": 1}, {"n": 2}]


async def test_csv_append_writes_the_header_once_and_follows_its_column_order(
    write, read, root: Path
):
    await write("t.csv", [{"id": 1, "name": "a"}], "csv", "append")
    await write("t.csv", [{"name": "b", "id": 2}, {"id": 3}], "csv", "append")
    assert (root / "t.csv").read_text() == "id,name\n1,a\n2,b\n3,\n"
    assert (await read("t.csv", "csv")).output("read") == [
        {"id": "1", "name": "a"},
        {"id": "2", "name": "b"},
        {"id": "3", "name": ""},
    ]


async def test_csv_append_refuses_a_column_the_file_does_not_have(write, root: Path):
    (root / "t.csv").write_text("id,name\n1,a\n")
    error = (await write("t.csv", [{"id": 2, "email": "x@y"}], "csv", "append")).error("write")
    assert error["code"] == "CSV_COLUMNS"
    assert "'email'" in error["message"] and "id, name" in error["message"]
    assert (root / "t.csv").read_text() == "id,name\n1,a\n"


async def test_append_cannot_add_to_a_json_document(write, root: Path):
    (root / "doc.json").write_text('{"a": 1}\n')
    error = (await write("doc.json", {"b": 2}, "json", "append")).error("write")
    assert error["category"] == "CONFIG"
    assert "'jsonl'" in error["message"]
    assert (root / "doc.json").read_text() == '{"a": 1}\n'


@pytest.mark.parametrize(
    ("fmt", "content", "words"),
    [
        ("csv", "just text", ["list of objects", "text"]),
        ("csv", [1, 2], ["list of objects"]),
        ("bytes", {"a": 1}, ["base64", "an object"]),
        ("bytes", "not base64!", ["not valid base64"]),
    ],
)
async def test_content_that_does_not_fit_the_format_is_a_config_error_naming_the_file(
    write, root: Path, fmt, content, words
):
    (root / "keep.dat").write_text("original")
    error = (await write("keep.dat", content, fmt)).error("write")
    assert error["category"] == "CONFIG"
    assert "'keep.dat'" in error["message"]
    for word in words:
        assert word in error["message"]
    assert (root / "keep.dat").read_text() == "original"


async def test_an_empty_list_writes_an_empty_csv(write, read, root: Path):
    await write("none.csv", [], "csv")
    assert (root / "none.csv").read_bytes() == b""
    assert (await read("none.csv", "csv")).output("read") == []
