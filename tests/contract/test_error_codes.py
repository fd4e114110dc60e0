"""Every error code the engine can raise, checked against the one table of
``engine/errors.py``: its category is one the table allows, and its retryable
flag follows the category (VALIDATION, CONFIG, AUTH never retry; TRANSPORT,
TIMEOUT, RATE_LIMIT do)."""

from __future__ import annotations

import ast
from pathlib import Path

import flowdesk.engine as engine_package
import pytest
from flowdesk.engine import errors
from flowdesk.engine.errors import CATEGORY_RETRYABLE, ERROR_CODES, FlowdeskError

ENGINE = Path(engine_package.__file__).resolve().parent


def _error_classes() -> dict[str, tuple[str, str]]:
    """Name → (default code, default category) of every FlowdeskError subclass."""
    found: dict[str, tuple[str, str]] = {}
    pending = [FlowdeskError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = (cls.code, cls.category)
        pending.extend(cls.__subclasses__())
    return found


def _raised_codes() -> list[tuple[str, str, str | None]]:
    """(where, code, category or None when not a literal) of every error the
    engine's source builds with a literal code, or a class default code."""
    # make sure every module defining error classes is imported
    import flowdesk.engine.keyring_store
    import flowdesk.engine.nodes.builtin.ai_transform
    import flowdesk.engine.nodes.builtin.http_request  # noqa: F401

    classes = _error_classes()
    sites: list[tuple[str, str, str | None]] = []
    for path in sorted(ENGINE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if (
                        isinstance(item, ast.Assign)
                        and [getattr(t, "id", None) for t in item.targets] == ["code"]
                        and isinstance(item.value, ast.Constant)
                    ):
                        cls_name = node.name
                        category = classes.get(cls_name, ("", None))[1]
                        sites.append((f"{path.name}:{item.lineno}", item.value.value, category))
            if not isinstance(node, ast.Call):
                continue
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            code = keywords.get("code")
            if isinstance(code, ast.Name) and isinstance(getattr(errors, code.id, None), str):
                # a shared constant of engine/errors.py (``code=TOOL_NOT_FOUND``)
                code = ast.Constant(getattr(errors, code.id))
            if not isinstance(code, ast.Constant) or not isinstance(code.value, str):
                continue
            category_node = keywords.get("category")
            category: str | None
            if isinstance(category_node, ast.Constant):
                category = category_node.value
            elif category_node is None:
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                category = classes.get(name, ("", None))[1]
            else:
                category = None  # computed at run time: checked by FlowdeskError itself
            sites.append((f"{path.name}:{node.lineno}", code.value, category))
    return sites


SITES = _raised_codes()


def test_the_walk_finds_the_engines_codes() -> None:
    codes = {code for _, code, _ in SITES}
    assert {"HTTP_STATUS", "PATH_TRAVERSAL", "SCHEMA_VALIDATION", "FILE_TOO_LARGE"} <= codes
    assert len(SITES) > 40


@pytest.mark.parametrize(("where", "code", "category"), SITES, ids=[s[0] for s in SITES])
def test_every_raised_code_is_in_the_table_with_its_category(
    where: str, code: str, category: str | None
) -> None:
    assert code in ERROR_CODES, f"{where}: code {code} is not in engine/errors.py ERROR_CODES"
    if category is not None:
        assert category in ERROR_CODES[code], (
            f"{where}: {code} raised as {category}, the table allows {ERROR_CODES[code]}"
        )


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_every_code_is_retryable_exactly_when_its_category_is(code: str) -> None:
    for category in ERROR_CODES[code]:
        error = FlowdeskError(
            "x", code=code, category=category, retryable=not CATEGORY_RETRYABLE[category]
        )
        assert error.retryable is CATEGORY_RETRYABLE[category]
        assert error.to_dict()["retryable"] is CATEGORY_RETRYABLE[category]


def test_the_category_table_says_what_the_contract_says() -> None:
    never = {"VALIDATION", "CONFIG", "AUTH", "SECURITY", "EXPRESSION", "CANCELLED", "INTERNAL"}
    always = {"TRANSPORT", "CONNECTION", "TIMEOUT", "RATE_LIMIT"}
    assert {c for c, r in CATEGORY_RETRYABLE.items() if r} == always
    assert never <= {c for c, r in CATEGORY_RETRYABLE.items() if not r}
    assert set(CATEGORY_RETRYABLE) == errors.CATEGORIES


def test_a_code_with_a_category_the_table_does_not_allow_is_a_bug() -> None:
    with pytest.raises(AssertionError):
        FlowdeskError("x", code="SCHEMA_VALIDATION", category="TRANSPORT")


@pytest.mark.parametrize(
    ("status", "category"),
    [
        (400, "EXECUTION"),
        (401, "AUTH"),
        (403, "AUTH"),
        (404, "EXECUTION"),
        (408, "TRANSPORT"),
        (409, "EXECUTION"),
        (422, "EXECUTION"),
        (425, "TRANSPORT"),
        (429, "RATE_LIMIT"),
        (500, "TRANSPORT"),
        (503, "TRANSPORT"),
    ],
)
def test_http_statuses_map_to_categories(status: int, category: str) -> None:
    assert errors.http_status_category(status) == category
