"""The engine's facade (``flowdesk.engine``): every public name resolves, the
slow parts load on first use only, and the import contracts of pyproject.toml
hold (``scripts/lint-imports.sh``, also run by scripts/test.sh)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import flowdesk.engine

REPO = Path(__file__).resolve().parents[1]


def test_every_public_name_resolves() -> None:
    missing = [name for name in flowdesk.engine.__all__ if not hasattr(flowdesk.engine, name)]
    assert missing == []
    assert list(flowdesk.engine.__all__) == sorted(
        flowdesk.engine.__all__,
        key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n),
    )


def test_unknown_names_are_attribute_errors() -> None:
    try:
        flowdesk.engine.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("no AttributeError")


def test_the_facade_loads_the_slow_parts_on_first_use() -> None:
    check = (
        "import sys, flowdesk.engine as e\n"
        "slow = ['httpx', 'flowdesk.engine.planner', 'flowdesk.engine.schema_dsl',"
        " 'flowdesk.engine.sources.openapi', 'flowdesk.engine.oauth2_login']\n"
        "print(','.join(m for m in slow if m in sys.modules))\n"
        "e.plan_request, e.to_strict_schema, e.load_openapi_spec, e.sign_in_oauth2\n"
        # (httpx itself is imported on the first request: engine.lazy)
        "print(','.join(m for m in slow[1:] if m not in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    loaded_at_import, missing_after_use = result.stdout.splitlines()
    assert loaded_at_import == ""
    assert missing_after_use == ""


def test_the_import_contracts_hold() -> None:
    result = subprocess.run(
        [str(REPO / "scripts" / "lint-imports.sh")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_new_import_cycle_is_reported() -> None:
    import importlib.util

    import grimp

    spec = importlib.util.spec_from_file_location(
        "import_cycles", REPO / "scripts" / "import_cycles.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    graph = grimp.ImportGraph()
    for importer, imported in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")]:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    assert module.cycles(graph) == [["p.a", "p.b", "p.c"]]
