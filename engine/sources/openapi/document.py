"""Reading an OpenAPI document: a file in the workflow's folder or an http(s)
URL, JSON or YAML, OpenAPI 3.0/3.1 or Swagger 2.0, with its ``$ref``s.

Every failure is a ``SOURCE_UNAVAILABLE`` error located in the document
(``specs/api.yaml: line 3 column 5: …``, ``specs/api.json#/paths/~1pets/get:
$ref '#/components/schemas/Nope' does not resolve``): category CONFIG for a
document that is missing, too large, not JSON/YAML, of another version or
with a dangling or escaping ``$ref``; CONNECTION (retryable) when the network
or the server failed. Documents over ``MAX_SPEC_BYTES`` are refused before
they are parsed (size checked while reading, never a hang). Relative-file
``$ref``s resolve next to the document that holds them and must stay inside
the workflow's folder (the data-root rules).

``Resolver.inline(schema, where)`` returns a schema with every ``$ref``
inlined, except the ones that form a cycle: those become
``{"$ref": "#/$defs/NAME"}`` and ``definitions(names)`` gives the ``$defs``
a tool's schema needs. Results are memoised per reference (a document of a
thousand operations sharing its components resolves each once), and depth and
total work are bounded.
May import: httpx, yaml (lazily), engine.errors, engine.datafiles, stdlib.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from ...errors import SOURCE_UNAVAILABLE, FlowdeskError

#: largest document accepted (GitHub's full REST description is ~13 MB)
MAX_SPEC_BYTES = 32 * 1024 * 1024
#: nesting of inlined schemas beyond which a schema is left open ({})
MAX_INLINE_DEPTH = 48
#: schema nodes one document may inline in total (guards against YAML alias bombs)
MAX_INLINE_NODES = 1_000_000
FETCH_TIMEOUT_S = 30.0


def unavailable(
    message: str, *, category: str = "CONFIG", retryable: bool = False, **details: Any
) -> FlowdeskError:
    return FlowdeskError(
        message,
        code=SOURCE_UNAVAILABLE,
        category=category,
        retryable=retryable,
        details=details,
    )


def _size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size} bytes"


# ------------------------------------------------------------------ reading
def read_local(root: Path | None, path: str, shown: str) -> tuple[bytes, Path]:
    """The bytes of ``path`` inside ``root`` (size-limited) and its real location."""
    from ...datafiles import resolve_in_root

    if root is None:
        raise unavailable(
            f"{shown}: a relative spec path needs a saved workflow (its folder is the root)",
            spec=path,
        )
    try:
        target = resolve_in_root(root, path)
    except FlowdeskError as error:
        raise unavailable(f"{shown}: {error.message}", spec=path, reason=error.code) from None
    try:
        size = target.stat().st_size
        if not target.is_file():
            raise unavailable(f"{shown}: not a regular file", spec=path)
        if size > MAX_SPEC_BYTES:
            raise unavailable(
                f"{shown}: the document is {_size_text(size)}, over the limit of "
                f"{_size_text(MAX_SPEC_BYTES)}",
                spec=path,
                size_bytes=size,
            )
        with open(target, "rb") as handle:
            data = handle.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError:
        raise unavailable(f"{shown}: file not found in the workflow's folder", spec=path) from None
    except OSError as exc:
        raise unavailable(f"{shown}: cannot read ({exc.strerror})", spec=path) from None
    if len(data) > MAX_SPEC_BYTES:
        raise unavailable(f"{shown}: the document grew over the limit while read", spec=path)
    return data, target


async def fetch_url(url: str, client: Any = None) -> bytes:
    """The bytes at ``url``: CONNECTION (retryable) errors for network failures."""
    import httpx

    own = client is None
    if client is None:
        client = httpx.AsyncClient(follow_redirects=True, timeout=FETCH_TIMEOUT_S)
    try:
        request = client.build_request("GET", url, timeout=FETCH_TIMEOUT_S)
        response = await client.send(request, stream=True, follow_redirects=True)
        try:
            if response.status_code >= 400:
                retryable = response.status_code >= 500 or response.status_code in (408, 429)
                raise unavailable(
                    f"{url}: the server answered {response.status_code} {response.reason_phrase}",
                    category="CONNECTION" if retryable else "CONFIG",
                    retryable=retryable,
                    spec=url,
                    status=response.status_code,
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_SPEC_BYTES:
                raise unavailable(
                    f"{url}: the document is {_size_text(int(declared))}, over the limit of "
                    f"{_size_text(MAX_SPEC_BYTES)}",
                    spec=url,
                )
            chunks: list[bytes] = []
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > MAX_SPEC_BYTES:
                    raise unavailable(
                        f"{url}: the document is over the limit of {_size_text(MAX_SPEC_BYTES)}",
                        spec=url,
                    )
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            await response.aclose()
    except httpx.TimeoutException:
        raise unavailable(
            f"{url}: no answer within {FETCH_TIMEOUT_S:g} s",
            category="CONNECTION",
            retryable=True,
            spec=url,
        ) from None
    except httpx.InvalidURL as exc:
        raise unavailable(f"{url}: not a valid URL ({exc})", spec=url) from None
    except httpx.TransportError as exc:
        raise unavailable(
            f"{url}: could not fetch the document ({exc or type(exc).__name__})",
            category="CONNECTION",
            retryable=True,
            spec=url,
        ) from None
    finally:
        if own:
            await client.aclose()


def parse_text(data: bytes, shown: str) -> Any:
    """JSON or YAML (by content, not by name), with line and column on errors."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise unavailable(f"{shown}: not UTF-8 text (byte {exc.start})", spec=shown) from None
    stripped = text.lstrip()
    if not stripped:
        raise unavailable(f"{shown}: the document is empty", spec=shown)
    if stripped[0] in "{[":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise unavailable(
                f"{shown}: not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}",
                spec=shown,
                line=exc.lineno,
                column=exc.colno,
            ) from None
        except RecursionError:
            raise unavailable(f"{shown}: the JSON is nested too deeply", spec=shown) from None
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "invalid"
        raise unavailable(
            f"{shown}: neither JSON nor valid YAML: {where}{problem}", spec=shown
        ) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise unavailable(f"{shown}: neither JSON nor valid YAML: {exc}", spec=shown) from None


def check_version(doc: Any, shown: str) -> str:
    """``"2.0"``, ``"3.0"`` or ``"3.1"``; a located error for anything else."""
    if not isinstance(doc, dict):
        kind = type(doc).__name__ if doc is not None else "nothing"
        raise unavailable(
            f"{shown}: not an OpenAPI document (the top level is {kind}, not an object)",
            spec=shown,
        )
    if "openapi" in doc:
        version = str(doc["openapi"])
        if re.match(r"^3\.0(\.\d+)?", version):
            major = "3.0"
        elif re.match(r"^3\.1(\.\d+)?", version):
            major = "3.1"
        else:
            raise unavailable(
                f"{shown}: openapi {version!r} is not supported (OpenAPI 3.0, 3.1 or Swagger 2.0)",
                spec=shown,
                version=version,
            )
    elif "swagger" in doc:
        version = str(doc["swagger"])
        if not re.match(r"^2\.0(\.\d+)?$", version):
            raise unavailable(
                f"{shown}: swagger {version!r} is not supported (OpenAPI 3.0, 3.1 or Swagger 2.0)",
                spec=shown,
                version=version,
            )
        major = "2.0"
    else:
        raise unavailable(
            f"{shown}: not an OpenAPI document (no 'openapi' or 'swagger' version key)",
            spec=shown,
        )
    paths = doc.get("paths", {})
    if paths is not None and not isinstance(paths, dict):
        raise unavailable(f"{shown}#/paths: must be an object", spec=shown)
    return major


# --------------------------------------------------------------- documents
@dataclass(repr=False)
class Document:
    """A parsed document: its data, how it is shown, and where it lives."""

    data: Any
    shown: str
    #: path relative to the root (local files), or the URL
    location: str
    is_url: bool = False

    def __repr__(self) -> str:
        return f"<Document {self.shown}>"


def _pointer_get(data: Any, pointer: str, shown: str, ref: str, where: str) -> Any:
    if pointer in ("", "/"):
        return data
    if not pointer.startswith("/"):
        raise unavailable(
            f"{where}: $ref {ref!r} is not a JSON pointer (use '#/…')", spec=shown, ref=ref
        )
    node = data
    for raw in pointer[1:].split("/"):
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise unavailable(
                f"{where}: $ref {ref!r} does not resolve (no {part!r} in {shown})",
                spec=shown,
                ref=ref,
            )
    return node


#: keys whose values are data, not schemas (never searched for references)
_LITERAL_KEYS = frozenset({"example", "examples", "default", "enum", "const", "x-examples"})
_DEF_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class _Memo:
    value: Any
    needs: frozenset[str]
    #: schema nodes of the value once expanded (a reuse counts them again)
    size: int = 0


@dataclass(repr=False)
class Resolver:
    """``$ref`` resolution across the main document and the files it names."""

    main: Document
    root: Path | None
    #: other documents by location (local relative files, or URLs fetched beforehand)
    documents: dict[str, Document] = field(default_factory=dict)
    #: ``$defs`` for cyclic references: def name -> inlined schema
    defs: dict[str, Any] = field(default_factory=dict)
    _def_needs: dict[str, frozenset[str]] = field(default_factory=dict)
    _def_names: dict[tuple[str, str], str] = field(default_factory=dict)
    _memo: dict[tuple[str, str], _Memo] = field(default_factory=dict)
    _work: int = 0

    def __post_init__(self) -> None:
        self.documents.setdefault(self.main.location, self.main)

    # ---------------------------------------------------------- documents
    def _document(self, location: str, where: str) -> Document:
        found = self.documents.get(location)
        if found is not None:
            return found
        if self.main.is_url:
            raise unavailable(
                f"{where}: $ref to another document ({location}) is not supported for a spec "
                "read from a URL; download the files next to the workflow",
                spec=self.main.shown,
            )
        data, _ = read_local(self.root, location, f"{where}: {location}")
        doc = Document(parse_text(data, location), location, location)
        self.documents[location] = doc
        return doc

    def _split(self, ref: str, base: Document, where: str) -> tuple[Document, str]:
        file_part, _, pointer = ref.partition("#")
        if not file_part:
            return base, pointer
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", file_part) and not base.is_url:
            raise unavailable(
                f"{where}: $ref {ref!r} points outside the workflow's folder (only files "
                "next to the document are read)",
                spec=base.shown,
                ref=ref,
            )
        if base.is_url:
            location = urljoin(base.location, file_part)
        else:
            location = posixpath.normpath(
                posixpath.join(posixpath.dirname(base.location), file_part)
            )
            if location.startswith("../") or location == ".." or os.path.isabs(file_part):
                raise unavailable(
                    f"{where}: $ref {ref!r} is refused: it resolves outside the workflow's folder",
                    spec=base.shown,
                    ref=ref,
                    reason="PATH_TRAVERSAL",
                )
        return self._document(location, where), pointer

    def deref(self, node: Any, base: Document, where: str) -> tuple[Any, Document]:
        """Follow ``$ref`` chains (objects that are only a reference) to a value."""
        seen: set[tuple[str, str]] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            doc, pointer = self._split(ref, base, where)
            key = (doc.location, pointer)
            if key in seen:
                raise unavailable(f"{where}: $ref {ref!r} refers to itself", spec=base.shown)
            seen.add(key)
            node = _pointer_get(doc.data, pointer, doc.shown, ref, where)
            base = doc
        return node, base

    # ------------------------------------------------------------ schemas
    def inline(self, schema: Any, base: Document, where: str) -> tuple[Any, frozenset[str]]:
        """``schema`` with its references inlined; the ``$defs`` names it needs."""
        needs: set[str] = set()
        out = self._inline(schema, base, where, [], needs, 0)
        return out, frozenset(needs)

    def definitions(self, needs: frozenset[str]) -> dict[str, Any]:
        """The ``$defs`` for ``needs``, with those they need in turn."""
        out: dict[str, Any] = {}
        stack = list(needs)
        while stack:
            name = stack.pop()
            if name in out or name not in self.defs:
                continue
            out[name] = self.defs[name]
            stack.extend(self._def_needs.get(name, ()))
        return out

    def _def_name(self, key: tuple[str, str]) -> str:
        name = self._def_names.get(key)
        if name is None:
            tail = key[1].rsplit("/", 1)[-1] or posixpath.basename(key[0]) or "schema"
            base = _DEF_NAME.sub("_", unquote(tail)) or "schema"
            name, n = base, 1
            taken = set(self._def_names.values())
            while name in taken:
                n += 1
                name = f"{base}_{n}"
            self._def_names[key] = name
        return name

    def _check_work(self, base: Document) -> None:
        if self._work > MAX_INLINE_NODES:
            raise unavailable(
                f"{base.shown}: the schemas expand to more than {MAX_INLINE_NODES:,} nodes "
                "(repeated aliases or references)",
                spec=base.shown,
            )

    def _inline(
        self,
        schema: Any,
        base: Document,
        where: str,
        stack: list[tuple[str, str]],
        needs: set[str],
        depth: int,
    ) -> Any:
        self._work += 1
        self._check_work(base)
        if depth > MAX_INLINE_DEPTH:
            return {}
        if isinstance(schema, list):
            return [self._inline(v, base, where, stack, needs, depth + 1) for v in schema]
        if not isinstance(schema, dict):
            return schema
        ref = schema.get("$ref")
        if isinstance(ref, str):
            doc, pointer = self._split(ref, base, where)
            key = (doc.location, pointer)
            if key in stack:
                name = self._def_name(key)
                needs.add(name)
                return {"$ref": f"#/$defs/{name}"}
            memo = self._memo.get(key)
            if memo is not None:
                # Shared, but written out in full by 'tools list --json' and the
                # planner: a reference bomb must be refused like an alias bomb.
                self._work += memo.size
                self._check_work(base)
                needs.update(memo.needs)
                return memo.value
            target = _pointer_get(doc.data, pointer, doc.shown, ref, where)
            before = self._work
            own: set[str] = set()
            stack.append(key)
            try:
                value = self._inline(target, doc, where, stack, own, depth + 1)
            finally:
                stack.pop()
            def_name = self._def_names.get(key)
            if def_name is not None and def_name in own:  # a cycle through this reference
                self.defs[def_name] = value
                self._def_needs[def_name] = frozenset(own)
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            if siblings and isinstance(value, dict):  # 3.1: $ref with description etc.
                value = {**value, **self._inline(siblings, base, where, stack, own, depth + 1)}
            self._memo[key] = _Memo(value, frozenset(own), self._work - before)
            needs.update(own)
            return value
        return {
            k: (
                self._inline(v, base, where, stack, needs, depth + 1)
                if isinstance(v, dict | list) and k not in _LITERAL_KEYS
                else v
            )
            for k, v in schema.items()
        }


def is_url(text: str) -> bool:
    return urlsplit(text).scheme in ("http", "https")
