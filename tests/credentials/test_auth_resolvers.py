"""Custom auth resolvers: a plug-in found through the ``flowdesk.auth_resolvers``
entry-point group (a real distribution on sys.path: resolver_plugin/) signs
requests; its headers are cached for the expiry it gives; an unknown resolver
is a CONFIG error naming the installed ones; a failing one an AUTH error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flowdesk.engine import Engine, NodeRegistry, loads_workflow
from flowdesk.engine.auth_resolvers import installed
from flowdesk.engine.credentials import MemorySecretStore

from .server import AuthServer

PLUGIN = Path(__file__).parent / "resolver_plugin"
KEY = "hmac-key-5+/=x"
REGISTRY = NodeRegistry.default(plugins=False)


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.syspath_prepend(str(PLUGIN))
    import flowdesk_example_resolver

    flowdesk_example_resolver.CALLS.clear()
    yield flowdesk_example_resolver
    from flowdesk.engine import auth_resolvers

    auth_resolvers._LOADED.clear()


def _doc(server: AuthServer, nodes: int, resolver: str = "hmac_signer", **options: Any) -> str:
    return json.dumps(
        {
            "format": "flowdesk/workflow",
            "version": 1,
            "name": "signed",
            "credentials": {
                "signer": {
                    "type": "custom",
                    "resolver": resolver,
                    "options": {"key_id": "team-a", **options},
                }
            },
            "nodes": [
                {
                    "id": f"n{i}",
                    "type": "http.request",
                    "config": {"url": f"{server.url}/signed", "credential": "signer"},
                }
                for i in range(nodes)
            ],
            "edges": [],
        }
    )


async def _run(doc: str, key: str = KEY) -> dict[str, Any]:
    workflow = loads_workflow(doc, REGISTRY)
    handle = Engine(REGISTRY, secrets=MemorySecretStore({"signer": key})).start(workflow)
    return (await handle.wait()).to_json()


async def test_the_plugin_signs_every_request_when_it_gives_no_expiry(
    plugin: Any, auth_server: AuthServer
):
    auth_server.bearer = KEY
    assert "hmac_signer" in installed()
    result = await _run(_doc(auth_server, 3, expires_in=0))
    assert result["status"] == "succeeded", result
    assert result["nodes"]["n0"]["output"]["body"] == {"ok": True, "key_id": "team-a"}
    assert len(plugin.CALLS) == 3


async def test_headers_are_cached_until_they_expire(plugin: Any, auth_server: AuthServer):
    auth_server.bearer = KEY
    result = await _run(_doc(auth_server, 4, expires_in=60))
    assert result["status"] == "succeeded", result
    assert len(plugin.CALLS) == 1


async def test_a_refused_signature_and_an_unknown_resolver(plugin: Any, auth_server: AuthServer):
    auth_server.bearer = KEY
    result = await _run(_doc(auth_server, 1), key="wrong-key-123")
    error = result["nodes"]["n0"]["error"]
    assert error["category"] == "AUTH" and len(plugin.CALLS) == 2  # asked again on the 401
    result = await _run(_doc(auth_server, 1, resolver="vault"))
    error = result["nodes"]["n0"]["error"]
    assert error["code"] == "AUTH_RESOLVER_UNKNOWN" and error["category"] == "CONFIG"
    assert "'vault'" in error["message"] and "hmac_signer" in error["message"]


async def test_a_failing_resolver_is_an_auth_error_naming_the_credential(
    plugin: Any, auth_server: AuthServer
):
    workflow = loads_workflow(_doc(auth_server, 1), REGISTRY)
    handle = Engine(REGISTRY, secrets=MemorySecretStore()).start(workflow)
    error = (await handle.wait()).to_json()["nodes"]["n0"]["error"]
    assert error["code"] == "AUTH_RESOLVER_FAILED" and "'signer'" in error["message"]
    assert "no signing key stored" in error["message"]


def test_the_plugin_works_from_the_command_line(auth_server: AuthServer, tmp_path: Path):
    auth_server.bearer = KEY
    flow = tmp_path / "signed.flow.json"
    flow.write_text(_doc(auth_server, 1))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PLUGIN), os.environ.get("PYTHONPATH", "")]),
        "FLOWDESK_SECRET_SIGNER": KEY,
    }
    run = subprocess.run(
        [sys.executable, "-m", "flowdesk", "run", str(flow), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert KEY not in run.stdout + run.stderr
