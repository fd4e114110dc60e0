"""OpenAPI sources end to end: documents we wrote (3.0 YAML with a relative-file
$ref, 3.1 JSON) and httpbin's own description served by the running httpbin,
called through the engine against a real httpbin on 127.0.0.1 (its
``/anything`` echoes what it received, so every parameter location shows)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flowdesk.engine.sources.openapi import load_spec

from tests.helpers import free_port
from tests.http.peer import HttpbinServer

from .conftest import tool

SPECS = Path(__file__).parent / "specs"


@pytest.fixture(scope="module")
def httpbin_url() -> Iterator[str]:
    server = HttpbinServer().start()
    yield server.url
    server.stop()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(SPECS, tmp_path / "specs")
    return tmp_path


def pets(httpbin_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "pets": {
            "type": "openapi",
            "spec": "specs/petstore30.yaml",
            "base_url": "{{ vars.api }}",
            **extra,
        }
    }


async def test_petstore_30_tools_and_their_schemas(root: Path) -> None:
    spec = await load_spec("specs/petstore30.yaml", root)
    tools = {t.name: t for t in spec.tools}
    assert set(tools) == {
        "listPets",
        "createPet",
        "getPet",
        "replacePet",
        "delete_anything_pets_petid",
        "putTree",
        "submitForm",
    }
    listing = tools["listPets"]
    assert listing.path == "GET /anything/pets"
    assert listing.title == "List pets" and listing.tags == ("pets",)
    assert listing.read_only is True
    props = listing.input_schema["properties"]
    assert set(props) == {"limit", "kinds", "X-Trace-Id", "session"}
    assert props["limit"]["description"] == "How many pets to return"
    assert listing.input_schema["required"] == ["X-Trace-Id"]
    # the body's properties sit beside the parameters; "ghost" is dropped
    create = tools["createPet"].input_schema
    assert set(create["properties"]) == {"name", "kind", "tag", "owner"}
    assert create["required"] == ["name"]
    assert create["properties"]["kind"]["enum"] == ["cat", "dog", "bird"]
    assert create["properties"]["tag"]["type"] == ["string", "null"]
    # the cyclic Person of common.yaml: inlined once, then a $defs reference
    friend = create["properties"]["owner"]["properties"]["friend"]
    assert friend == {"$ref": "#/$defs/Person"}
    assert "Person" in create["$defs"]
    # allOf merged: NewPet's fields plus id, required from both members
    replace = tools["replacePet"].input_schema
    assert {"petId", "name", "id"} <= set(replace["properties"])
    assert set(replace["required"]) == {"petId", "name", "id"}
    assert any("ghost" in warning for warning in spec.warnings)
    kinds = {s["scheme"]: s["credential"] for s in spec.credential_suggestions()}
    assert kinds["key"] == {"type": "api_key", "name": "X-Api-Key", "in": "header"}
    assert kinds["bearer"] == {"type": "bearer"}
    assert kinds["basic"]["type"] == "basic"
    assert kinds["cc"]["type"] == "oauth2_client_credentials"
    assert kinds["cc"]["token_url"] == "https://auth.invalid/token"


async def test_every_parameter_location_reaches_the_server(
    run_flow: Any, root: Path, httpbin_url: str
) -> None:
    run = await run_flow(
        [
            tool(
                "list",
                "pets",
                "listPets",
                limit="5",
                kinds=["cat", "dog"],
                **{"X-Trace-Id": "req-1", "session": "s 1"},
            ),
            tool("get", "pets", "getPet", petId="{{ 3 + 4 }}"),
            tool("create", "pets", "createPet", name="Rex", kind="dog", owner={"name": "Ann"}),
            tool("form", "pets", "submitForm", a="x y", n="3"),
        ],
        sources=pets(httpbin_url),
        variables={"api": httpbin_url},
        data_root=root,
    )
    assert run.status == "succeeded", run.json
    listed = run.output("list")
    assert listed["status"] == 200
    echo = listed["body"]
    assert echo["method"] == "GET"
    assert echo["args"] == {"limit": "5", "kinds": ["cat", "dog"]}
    assert echo["headers"]["X-Trace-Id"] == "req-1"
    assert echo["headers"]["Cookie"] == "session=s%201"
    assert run.output("get")["body"]["url"].endswith("/anything/pets/7")
    created = run.output("create")["body"]
    assert created["method"] == "POST"
    assert created["json"] == {"name": "Rex", "kind": "dog", "owner": {"name": "Ann"}}
    assert run.output("form")["body"]["form"] == {"a": "x y", "n": "3"}


async def test_arguments_are_checked_before_anything_is_sent(
    run_flow: Any, root: Path, httpbin_url: str
) -> None:
    go_on = {"on_error": "continue"}
    children = [{"children": [{"name": 3}]}]
    run = await run_flow(
        [
            tool("tree", "pets", "putTree", name="root", children=children, node=go_on),
            tool("list", "pets", "listPets", limit="many", colour="red", node=go_on),
        ],
        sources=pets(httpbin_url),
        variables={"api": httpbin_url},
        data_root=root,
    )
    tree = run.output("tree")
    assert tree["code"] == "INVALID_PARAMS"
    assert [i["path"] for i in tree["details"]["issues"]] == ["children[0].children[0].name"]
    listing = run.output("list")
    assert listing["code"] == "INVALID_PARAMS"
    paths = {i["path"] for i in listing["details"]["issues"]}
    assert paths == {"X-Trace-Id", "(arguments)", "limit"}
    assert "unknown argument" in listing["message"] and "'colour'" in listing["message"]


async def test_the_credential_is_sent_except_where_the_operation_needs_none(
    run_flow: Any, root: Path, httpbin_url: str
) -> None:
    run = await run_flow(
        [
            tool("get", "pets", "getPet", petId=1),
            tool("delete", "pets", "delete_anything_pets_petid", petId=1),
        ],
        sources=pets(httpbin_url, credential="petkey", headers={"X-Client": "flowdesk"}),
        credentials={"petkey": {"type": "api_key", "name": "X-Api-Key", "in": "header"}},
        secrets={"petkey": "s3cret-key"},
        variables={"api": httpbin_url},
        data_root=root,
    )
    assert run.status == "succeeded", run.json
    assert run.output("get")["body"]["headers"]["X-Api-Key"] == "s3cret-key"
    assert run.output("get")["body"]["headers"]["X-Client"] == "flowdesk"
    assert "X-Api-Key" not in run.output("delete")["body"]["headers"]
    assert run.output("delete")["body"]["method"] == "DELETE"


async def test_openapi_31_document(run_flow: Any, root: Path, httpbin_url: str) -> None:
    spec = await load_spec("specs/petstore31.json", root)
    tools = {t.name: t for t in spec.tools}
    assert set(tools) == {"get-order".replace("-", "_"), "placeOrder"}
    assert spec.base_url == "https://petstore.invalid/v2"
    order = tools["placeOrder"].input_schema["properties"]
    assert order["status"] == {
        "type": "string",
        "enum": ["placed", "shipped"],
        "description": "Where the order is",
    }
    run = await run_flow(
        [
            tool("get", "store", "get_order", orderId="A1", verbose="true"),
            tool("place", "store", "placeOrder", quantity="2", note=None, status="placed"),
            {**tool("bad", "store", "placeOrder", quantity=0), "on_error": "continue"},
        ],
        sources={
            "store": {"type": "openapi", "spec": "specs/petstore31.json", "base_url": httpbin_url}
        },
        data_root=root,
    )
    assert run.output("get")["body"]["args"] == {"verbose": "true"}
    assert run.output("get")["body"]["url"].endswith("/anything/orders/A1?verbose=true")
    assert run.output("place")["body"]["json"] == {"quantity": 2, "note": None, "status": "placed"}
    bad = run.output("bad")
    assert bad["code"] == "INVALID_PARAMS" and bad["details"]["issues"][0]["path"] == "quantity"


async def test_httpbin_imported_from_the_running_server(run_flow: Any, httpbin_url: str) -> None:
    sources = {
        "httpbin": {
            "type": "openapi",
            "spec": f"{httpbin_url}/spec.json",
            "base_url": "{{ vars.httpbin_url }}",
            "credential": "httpbin",
        }
    }
    run = await run_flow(
        [
            tool("auth", "httpbin", "get_basic_auth_user_passwd", user="alice", passwd="pw"),
            tool("status", "httpbin", "get_status_codes", codes=418, node={"on_error": "continue"}),
            tool("drip", "httpbin", "get_drip", numbytes="3", duration="0", delay=0),
            tool("etag", "httpbin", "get_etag_etag", etag="abc", **{"If-None-Match": "xyz"}),
            tool("post", "httpbin", "post_anything"),
            tool("typo", "httpbin", "get_anythin", node={"on_error": "continue"}),
        ],
        sources=sources,
        credentials={"httpbin": {"type": "basic", "username": "alice"}},
        secrets={"httpbin": "pw"},
        variables={"httpbin_url": httpbin_url},
    )
    assert run.output("auth")["body"] == {"authenticated": True, "user": "alice"}
    status = run.output("status")
    assert status["code"] == "HTTP_STATUS" and status["details"]["status"] == 418
    assert run.output("drip")["body"] == "Kioq"  # b"***", base64 as http.request gives bytes
    assert run.output("etag")["headers"]["etag"] == "abc"  # a path parameter httpbin forgot
    assert run.output("post")["body"]["method"] == "POST"
    typo = run.output("typo")
    assert typo["code"] == "TOOL_NOT_FOUND" and "get_anything" in typo["message"]
    assert "pw" not in run.json_text.replace("passwd", "")


MALFORMED = {
    "not_a_document.yaml": (b"paths: [unclosed\n  - {\n", "neither JSON nor valid YAML: line"),
    "broken.json": (b'{"openapi": "3.0.0", "paths": {,}}', "not valid JSON: line 1 column"),
    "version.json": (b'{"openapi": "4.0.0", "paths": {}}', "openapi '4.0.0' is not supported"),
    "swagger1.json": (b'{"swagger": "1.2", "paths": {}}', "swagger '1.2' is not supported"),
    "nothing.json": (b'{"info": {}}', "no 'openapi' or 'swagger' version key"),
    "list.yaml": (b"- a\n- b\n", "the top level is list"),
    "dangling.json": (
        b'{"openapi": "3.0.0", "paths": {"/x": {"get": {"parameters": '
        b'[{"$ref": "#/components/parameters/Nope"}]}}}}',
        "/paths/~1x/get/parameters/0: $ref '#/components/parameters/Nope' does not resolve",
    ),
    "escape.json": (
        b'{"openapi": "3.0.0", "paths": {"/x": {"post": {"requestBody": {"content": '
        b'{"application/json": {"schema": {"$ref": "../../outside.json#/S"}}}}}}}}',
        "$ref '../../outside.json#/S' is refused: it resolves outside the workflow's folder",
    ),
    "missing_file.json": (
        b'{"openapi": "3.0.0", "paths": {"/x": {"post": {"requestBody": {"content": '
        b'{"application/json": {"schema": {"$ref": "gone.json#/S"}}}}}}}}',
        "gone.json: file not found",
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
async def test_malformed_documents_give_a_located_error(
    run_flow: Any, tmp_path: Path, name: str
) -> None:
    data, expected = MALFORMED[name]
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / name).write_bytes(data)
    (tmp_path.parent / "outside.json").write_text('{"S": {"type": "string"}}')
    run = await run_flow(
        [tool("a", "bad", "x")],
        sources={"bad": {"type": "openapi", "spec": f"specs/{name}", "base_url": "http://x"}},
        data_root=tmp_path,
    )
    error = run.error("a")
    assert error["code"] == "SOURCE_UNAVAILABLE", error
    assert error["category"] == "CONFIG" and error["retryable"] is False
    assert error["message"].startswith(f"sources.bad.spec: specs/{name}"), error["message"]
    assert expected in error["message"], error["message"]
    assert "Traceback" not in run.everything_written()


async def test_spec_paths_follow_the_data_root_rules(run_flow: Any, tmp_path: Path) -> None:
    run = await run_flow(
        [tool("a", "bad", "x")],
        sources={"bad": {"type": "openapi", "spec": "../elsewhere.json"}},
        data_root=tmp_path,
    )
    error = run.error("a")
    assert error["code"] == "SOURCE_UNAVAILABLE"
    assert "resolves outside the data root" in error["message"]


async def test_a_50_mb_document_is_refused_at_once(run_flow: Any, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with open(big, "wb") as handle:
        handle.write(b'{"openapi": "3.0.0", "paths": {}, "x": "')
        handle.write(b"a" * (50 * 1024 * 1024))
        handle.write(b'"}')
    started = time.process_time()  # (CPU, threads included: not stretched by a busy machine)
    run = await run_flow(
        [tool("a", "big", "x")],
        sources={"big": {"type": "openapi", "spec": "big.json"}},
        data_root=tmp_path,
    )
    cpu = time.process_time() - started
    error = run.error("a")
    assert error["code"] == "SOURCE_UNAVAILABLE"
    assert "the document is 50.0 MB, over the limit of 32.0 MB" in error["message"]
    assert cpu < 2, f"refusing took {cpu:.2f} s of CPU"


async def test_an_unreachable_spec_url_is_a_retryable_connection_error(run_flow: Any) -> None:
    port = free_port()  # nobody listens on it
    run = await run_flow(
        [tool("a", "gone", "x")],
        sources={"gone": {"type": "openapi", "spec": f"http://127.0.0.1:{port}/spec.json"}},
    )
    error = run.error("a")
    assert error["code"] == "SOURCE_UNAVAILABLE"
    assert error["category"] == "CONNECTION" and error["retryable"] is True


async def test_a_missing_spec_url_page_is_a_config_error(run_flow: Any, httpbin_url: str) -> None:
    run = await run_flow(
        [tool("a", "gone", "x")],
        sources={"gone": {"type": "openapi", "spec": f"{httpbin_url}/status/404"}},
    )
    error = run.error("a")
    assert error["code"] == "SOURCE_UNAVAILABLE"
    assert error["category"] == "CONFIG" and "404" in error["message"]


def _bomb_yaml() -> str:
    lines = ["openapi: 3.0.0", "info: {title: bomb, version: '1'}"]
    lines.append("x-0: &l0 {type: string}")
    for level in range(1, 9):
        props = ", ".join(f"p{i}: *l{level - 1}" for i in range(9))
        lines.append(f"x-{level}: &l{level} {{type: object, properties: {{{props}}}}}")
    lines += ["paths:", "  /x:", "    post:"]
    lines.append("      requestBody: {content: {application/json: {schema: *l8}}}")
    return "\n".join(lines) + "\n"


def _bomb_json() -> str:
    schemas: dict[str, Any] = {"S0": {"type": "string"}}
    for level in range(1, 9):
        ref = {"$ref": f"#/components/schemas/S{level - 1}"}
        schemas[f"S{level}"] = {"type": "object", "properties": {f"p{i}": ref for i in range(9)}}
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/S8"}}}}
    doc = {
        "openapi": "3.0.0",
        "components": {"schemas": schemas},
        "paths": {"/x": {"post": {"requestBody": body}}},
    }
    return json.dumps(doc)


@pytest.mark.parametrize("name", ["aliases.yaml", "refs.json"])
async def test_expansion_bombs_are_refused_quickly(
    run_flow: Any, tmp_path: Path, name: str
) -> None:
    text = _bomb_yaml() if name.endswith(".yaml") else _bomb_json()
    (tmp_path / name).write_text(text)
    # CPU time of this process (the document is read in a worker thread): what
    # refusing costs, which a busy machine does not stretch as it does wall time
    started = time.process_time()
    run = await run_flow(
        [tool("a", "bomb", "post_x")],
        sources={"bomb": {"type": "openapi", "spec": name, "base_url": "http://x"}},
        data_root=tmp_path,
    )
    cpu = time.process_time() - started
    error = run.error("a")
    assert error["code"] == "SOURCE_UNAVAILABLE"
    assert "expand to more than 1,000,000 nodes" in error["message"]
    assert cpu < 8, f"refusing took {cpu:.2f} s of CPU"


SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "Swagger 2.0 store", "version": "1"},
    "host": "store.invalid",
    "basePath": "/v1",
    "schemes": ["http"],
    "securityDefinitions": {
        "basicAuth": {"type": "basic"},
        "key": {"type": "apiKey", "in": "query", "name": "api_key"},
        "app": {
            "type": "oauth2",
            "flow": "application",
            "tokenUrl": "https://t.invalid/token",
            "scopes": {"write": "w"},
        },
    },
    "definitions": {
        "Item": {
            "type": "object",
            "required": ["sku"],
            "properties": {"sku": {"type": "string"}, "count": {"type": "integer"}},
        }
    },
    "paths": {
        "/anything/items": {
            "post": {
                "operationId": "addItem",
                "parameters": [
                    {
                        "in": "body",
                        "name": "item",
                        "required": True,
                        "schema": {"$ref": "#/definitions/Item"},
                    },
                    {
                        "in": "query",
                        "name": "tags",
                        "type": "array",
                        "items": {"type": "string"},
                        "collectionFormat": "csv",
                    },
                ],
            }
        },
        "/anything/upload": {
            "post": {
                "operationId": "upload",
                "consumes": ["multipart/form-data"],
                "parameters": [
                    {"in": "formData", "name": "note", "type": "string", "required": True},
                    {"in": "formData", "name": "n", "type": "int"},
                ],
            }
        },
    },
}


async def test_swagger_20_body_form_and_collection_formats(
    run_flow: Any, tmp_path: Path, httpbin_url: str
) -> None:
    (tmp_path / "swagger.json").write_text(json.dumps(SWAGGER))
    spec = await load_spec("swagger.json", tmp_path)
    assert spec.version == "2.0" and spec.base_url == "http://store.invalid/v1"
    suggestions = {s["scheme"]: s["credential"] for s in spec.credential_suggestions()}
    assert suggestions["basicAuth"]["type"] == "basic"
    assert suggestions["key"] == {"type": "api_key", "name": "api_key", "in": "query"}
    assert suggestions["app"]["token_url"] == "https://t.invalid/token"
    tools = {t.name: t for t in spec.tools}
    assert tools["addItem"].input_schema["required"] == ["sku"]
    assert tools["upload"].input_schema["properties"]["n"]["type"] == "integer"
    run = await run_flow(
        [
            tool("add", "store", "addItem", sku="A-1", count="2", tags=["x", "y"]),
            tool("up", "store", "upload", note="hello", n=3),
        ],
        sources={"store": {"type": "openapi", "spec": "swagger.json", "base_url": httpbin_url}},
        data_root=tmp_path,
    )
    assert run.status == "succeeded", run.json
    added = run.output("add")["body"]
    assert added["json"] == {"sku": "A-1", "count": 2}
    assert added["args"] == {"tags": "x,y"}
    uploaded = run.output("up")["body"]
    assert uploaded["form"] == {"note": "hello", "n": "3"}
    assert uploaded["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
