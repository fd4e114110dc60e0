"""The ``openapi`` source type: any REST API with an OpenAPI description.

``{"type": "openapi", "spec": "specs/api.json", "base_url": ..., "credential":
..., "headers": {...}}``: the document (a path in the workflow's folder or an
http(s) URL; JSON or YAML; OpenAPI 3.0, 3.1, Swagger 2.0) is read when the
source is first used, in a worker thread (a large document must not freeze
the editor); each operation becomes a tool (``tools.build_tools``). Documents
read from files are kept by path, size and modification time in the
``DocumentCache`` of the source's env (``SourceEnv.documents``: the engine's,
shared by its runs and the editor's palette); without one, read every time.

A call goes through ``http.request``'s own exchange: the run's shared client
(pooling), redirects, the response size limit, the source's credential
(re-sent only to the same origin, redacted from errors), ``Retry-After`` and
idempotency keys — the output is ``{status, headers, body}`` and HTTP errors
are those of ``http.request``.
May import: httpx, pydantic, engine.* (credentials, errors, nodes.builtin.http_request),
engine.sources.*, stdlib.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlencode
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

from ...errors import FlowdeskError
from ..base import SourceEnv, SourceType, ToolInfo, ToolSource
from ..documents import DocumentCache
from .document import (
    Document,
    Resolver,
    check_version,
    fetch_url,
    is_url,
    parse_text,
    read_local,
    unavailable,
)
from .tools import OperationPlan, build_tools, credential_suggestions, default_base_url


class OpenApiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["openapi"] = "openapi"
    spec: str = Field(
        ...,
        min_length=1,
        description="The OpenAPI document: a path relative to the workflow's folder, or an "
        "http(s) URL (JSON or YAML; OpenAPI 3.0, 3.1, Swagger 2.0)",
    )
    base_url: str | None = Field(
        None, description="Overrides the document's servers (e.g. a local or staging server)"
    )
    credential: str | None = Field(
        None, description="A credential of the workflow sent with every call"
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Constant headers added to every call"
    )
    timeout_s: float | None = Field(
        60.0, gt=0, description="Time limit of one call in seconds (a TIMEOUT error, retryable)"
    )
    idempotency_keys: bool = Field(
        False,
        description="Send an Idempotency-Key (the same on every retry) with calls that change "
        "data (POST, PUT, PATCH, DELETE)",
    )


@dataclass(repr=False)
class LoadedSpec:
    """A document read and turned into tools (no generated repr: asyncio
    describes futures with their result, and this one holds megabytes)."""

    document: Document
    resolver: Resolver
    version: str
    tools: list[ToolInfo]
    warnings: list[str]

    def credential_suggestions(self) -> list[dict[str, Any]]:
        return credential_suggestions(self.document.data, self.version)

    def __repr__(self) -> str:
        return f"<LoadedSpec {self.document.shown} {self.version}: {len(self.tools)} tools>"

    @property
    def base_url(self) -> str | None:
        return default_base_url(self.document, self.version)

    @property
    def title(self) -> str:
        info = self.document.data.get("info")
        title = info.get("title") if isinstance(info, dict) else None
        return title if isinstance(title, str) else ""


def build_spec(data: bytes, shown: str, location: str, url: bool, root: Path | None) -> LoadedSpec:
    """Parse, check the version, and build the tools (CPU work: run it in a thread)."""
    parsed = parse_text(data, shown)
    version = check_version(parsed, shown)
    document = Document(parsed, shown, location, is_url=url)
    resolver = Resolver(document, root)
    try:
        tools, warnings = build_tools(resolver, version)
    except RecursionError:
        raise unavailable(f"{shown}: the document is nested too deeply", spec=shown) from None
    return LoadedSpec(document, resolver, version, tools, warnings)


async def load_spec(
    spec: str,
    root: Path | None,
    *,
    client: Any = None,
    shown: str | None = None,
    cache: DocumentCache | None = None,
) -> LoadedSpec:
    """Read ``spec`` (a path in ``root`` or a URL) and build its tools. A file
    read before is taken from ``cache`` (keyed by real path, size and
    modification time) when given; a URL is fetched every time."""
    shown = shown or spec
    if is_url(spec):
        data = await fetch_url(spec, client)
        return await asyncio.to_thread(build_spec, data, spec, spec, True, root)
    data, target = await asyncio.to_thread(read_local, root, spec, shown)
    stat = target.stat()
    key = ("openapi", str(target), stat.st_size, stat.st_mtime_ns)
    if cache is not None:
        cached = cache.get(key)
        if isinstance(cached, LoadedSpec):
            return cached
    location = os.path.relpath(target, os.path.realpath(root)) if root else spec
    loaded = await asyncio.to_thread(build_spec, data, spec, Path(location).as_posix(), False, root)
    if cache is not None:
        cache.put(key, loaded)
    return loaded


class OpenApiSource(ToolSource):
    """One OpenAPI document, read on first use."""

    def __init__(self, name: str, config: OpenApiConfig, env: SourceEnv) -> None:
        self.name = name
        self.config = config
        self.env = env
        self._loaded: LoadedSpec | None = None
        self._lock = asyncio.Lock()

    async def load(self) -> LoadedSpec:
        if self._loaded is None:
            async with self._lock:
                if self._loaded is None:
                    try:
                        self._loaded = await load_spec(
                            self.config.spec, self.env.workflow_dir, cache=self.env.documents
                        )
                    except FlowdeskError as error:
                        where = f"sources.{self.name}.spec: "
                        if not error.message.startswith(where):
                            error.message = where + error.message
                            error.args = (error.message,)
                        error.details.setdefault("source", self.name)
                        raise
        return self._loaded

    async def list_tools(self) -> list[ToolInfo]:
        return list((await self.load()).tools)

    def base_url(self, plan: OperationPlan) -> str:
        if self.config.base_url:
            return self.config.base_url
        assert self._loaded is not None
        url = plan.server if plan.server and "://" in plan.server else self._loaded.base_url
        if not url:
            raise unavailable(
                f"sources.{self.name}: the document names no server URL; set base_url",
                source=self.name,
            )
        return url

    async def call(self, tool: ToolInfo, arguments: dict[str, Any], ctx: Any) -> dict[str, Any]:
        from ...nodes.builtin.http_config import HttpRequestConfig
        from ...nodes.builtin.http_request import HttpRequest

        await self.load()
        plan: OperationPlan = tool.extra
        request = build_request(plan, arguments, self.base_url(plan), self.config)
        if self.config.credential and not plan.no_auth:
            request["credential"] = self.config.credential
        if self.config.idempotency_keys and plan.method not in ("GET", "HEAD", "OPTIONS"):
            request["idempotency_key"] = "auto"
        request["timeout_s"] = self.config.timeout_s
        try:
            config = HttpRequestConfig.model_validate(request)
        except ValueError as exc:
            raise FlowdeskError(
                f"{self.name}__{tool.name}: the request cannot be built: {exc}",
                code="TOOL_ERROR",
                category="EXECUTION",
            ) from None
        result: dict[str, Any] = await HttpRequest().execute(ctx, config)
        return result


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _path_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(quote(_text(v), safe="") for v in value)
    if isinstance(value, dict):
        return ",".join(
            f"{quote(str(k), safe='')},{quote(_text(v), safe='')}" for k, v in value.items()
        )
    return quote(_text(value), safe="")


def build_request(
    plan: OperationPlan, arguments: dict[str, Any], base_url: str, config: OpenApiConfig
) -> dict[str, Any]:
    """``http.request``'s config for one call of an operation."""
    path = plan.path
    query: dict[str, Any] = {}
    headers: dict[str, Any] = dict(config.headers)
    cookies: list[str] = []
    for param in plan.params:
        if param.key not in arguments or arguments[param.key] is None:
            continue
        value = arguments[param.key]
        if param.location == "path":
            path = path.replace("{" + param.name + "}", _path_value(value))
        elif param.location == "query":
            if isinstance(value, dict):
                for key, item in value.items():
                    name = f"{param.name}[{key}]" if param.style == "deepObject" else str(key)
                    query[name] = _text(item)
            elif isinstance(value, list):
                delimiter = {
                    "pipeDelimited": "|",
                    "pipes": "|",
                    "spaceDelimited": " ",
                    "ssv": " ",
                    "tsv": "\t",
                    "csv": ",",
                }.get(param.style)
                if delimiter is not None or not param.explode:
                    query[param.name] = (delimiter or ",").join(_text(v) for v in value)
                else:
                    query[param.name] = [_text(v) for v in value]
            else:
                query[param.name] = _text(value)
        elif param.location == "header":
            headers[param.name] = (
                ",".join(_text(v) for v in value) if isinstance(value, list) else _text(value)
            )
        elif param.location == "cookie":
            cookies.append(f"{param.name}={quote(_text(value), safe='')}")
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    request: dict[str, Any] = {
        "method": plan.method,
        "url": base_url.rstrip("/") + path,
        "query": query,
        "headers": headers,
    }
    body: Any = None
    has_body = False
    if plan.body_key:
        if plan.body_key in arguments:
            body, has_body = arguments[plan.body_key], True
    elif plan.body_fields or plan.extras_to_body:
        known = {p.key for p in plan.params}
        body = {
            k: v
            for k, v in arguments.items()
            if k in plan.body_fields or (plan.extras_to_body and k not in known)
        }
        has_body = bool(body) or plan.method in ("POST", "PUT", "PATCH")
    if has_body:
        _set_body(request, headers, plan, body)
    return request


def _set_body(
    request: dict[str, Any], headers: dict[str, Any], plan: OperationPlan, body: Any
) -> None:
    if plan.body_media == "json" or not plan.body_media:
        request["json"] = body
        if plan.body_content_type and plan.body_content_type != "application/json":
            headers.setdefault("Content-Type", plan.body_content_type)
    elif plan.body_media == "form":
        pairs = body.items() if isinstance(body, dict) else []
        request["body"] = urlencode(
            [
                (k, _text(v))
                for k, value in pairs
                for v in (value if isinstance(value, list) else [value])
                if v is not None
            ]
        )
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif plan.body_media == "multipart":
        boundary = f"flowdesk-{uuid4().hex}"
        parts = []
        for key, value in body.items() if isinstance(body, dict) else []:
            for one in value if isinstance(value, list) else [value]:
                if one is None:
                    continue
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                    f"{_text(one)}\r\n"
                )
        request["body"] = "".join(parts) + f"--{boundary}--\r\n"
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    else:
        request["body"] = body if isinstance(body, str) else _text(body)
        headers.setdefault("Content-Type", plan.body_content_type or "text/plain; charset=utf-8")


class OpenApiSourceType(SourceType):
    type = "openapi"
    title = "OpenAPI document"
    config_model = OpenApiConfig

    @property  # type: ignore[override]
    def credential_kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        """Those of ``http.request``: calls go through its exchange."""
        from ...nodes.builtin.http_request import HttpRequest

        return tuple(HttpRequest.credential_kinds)

    def open(self, name: str, config: BaseModel, env: SourceEnv) -> ToolSource:
        assert isinstance(config, OpenApiConfig)
        return OpenApiSource(name, config, env)
