"""Item 4 of issue 22: decompression bombs from a hostile server on
127.0.0.1 — ``br`` and stacked ``gzip, gzip`` — are refused before they
inflate; one gzip layer is still decoded within the response limit."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from .conftest import flowdesk, node, write_flow


def _bomb(size: int) -> bytes:
    return gzip.compress(b"\0" * size, compresslevel=9)


def test_stacked_gzip_is_refused_before_it_inflates(cli_env, tmp_path: Path, server):
    inner = _bomb(200 * 1024 * 1024)  # 200 MB of zeros in ~200 KB
    body = gzip.compress(inner, compresslevel=9)  # in a few KB
    assert len(body) < 64 * 1024
    server.routes["/gzip2"] = lambda h: (body, {"Content-Encoding": "gzip, gzip"})
    server.routes["/gzip-gzip"] = lambda h: (
        body,
        {"Content-Encoding": "gzip", "content-encoding": "gzip"},
    )
    for route in ("/gzip2", "/gzip-gzip"):
        flow = write_flow(
            tmp_path / "bomb.flow.json",
            [node("get", "http.request", config={"url": f"{server.url}{route}"})],
        )
        done = flowdesk(cli_env, "run", str(flow), "--json", timeout=60)
        assert done.returncode == 1, done.stderr
        error = json.loads(done.stdout)["nodes"]["get"]["error"]
        assert error["code"] == "DECODING_ERROR", error
        # refused on the headers, before any of it inflated: decoding would
        # have hit the 50 MB response limit (RESPONSE_TOO_LARGE) long before
        # the 200 MB were out (no wall-clock bound: a busy machine is slow)
        assert "stacked Content-Encoding" in error["message"]


def test_brotli_is_refused(cli_env, tmp_path: Path, server):
    server.routes["/br"] = lambda h: (b"\x1b\xff\xff" * 100, {"Content-Encoding": "br"})
    flow = write_flow(
        tmp_path / "br.flow.json",
        [node("get", "http.request", config={"url": f"{server.url}/br"})],
    )
    done = flowdesk(cli_env, "run", str(flow), "--json")
    assert done.returncode == 1
    error = json.loads(done.stdout)["nodes"]["get"]["error"]
    assert error["code"] == "DECODING_ERROR"
    assert "'br' refused" in error["message"]


def test_one_gzip_layer_is_bounded_by_the_response_limit(cli_env, tmp_path: Path, server):
    body = _bomb(300 * 1024 * 1024)
    server.routes["/gzip"] = lambda h: (body, {"Content-Encoding": "gzip"})
    flow = write_flow(
        tmp_path / "gz.flow.json",
        [node("get", "http.request", config={"url": f"{server.url}/gzip"})],
    )
    done = flowdesk(cli_env, "run", str(flow), "--json")
    error = json.loads(done.stdout)["nodes"]["get"]["error"]
    assert error["code"] == "RESPONSE_TOO_LARGE"


def test_ordinary_gzip_still_works(cli_env, tmp_path: Path, server):
    payload = json.dumps({"hello": "world"}).encode()
    server.routes["/small-gzip"] = lambda h: (
        gzip.compress(payload),
        {"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    flow = write_flow(
        tmp_path / "ok.flow.json",
        [node("get", "http.request", config={"url": f"{server.url}/small-gzip"})],
    )
    done = flowdesk(cli_env, "run", str(flow), "--json")
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)["nodes"]["get"]["output"]
    assert output["body"] == {"hello": "world"}
