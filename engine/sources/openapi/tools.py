"""An OpenAPI document's operations as tools.

One tool per operation: named by its ``operationId`` (made an identifier),
else ``METHOD_path`` (``GET /basic-auth/{user}`` → ``get_basic_auth_user``);
titled by its summary; tagged by its tags. Its input schema is one object:
the path, query, header and cookie parameters as properties (path ones always
required; a name used twice gets its location in front, ``header_id``) and
the request body — its properties side by side with the parameters when it is
an object whose names do not clash (the form reads naturally), else as one
``body`` property. ``OperationPlan`` (``ToolInfo.extra``) says where each
argument goes. Swagger 2.0's ``body``/``formData`` parameters and
``consumes`` are read the same way.

``credential_suggestions`` maps the document's security schemes to credential
references (http bearer/basic, apiKey in header/query/cookie, OAuth2 client
credentials); ``default_base_url`` reads ``servers`` (3.x) or
``schemes``/``host``/``basePath`` (2.0).
May import: engine.sources.base, engine.sources.schema, .document, stdlib.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from ..base import ToolInfo
from ..schema import normalise
from .document import Document, Resolver

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
READ_ONLY = frozenset({"get", "head", "options"})
_JSON_MEDIA = re.compile(r"^application/([\w.+-]*\+)?json\b|^\*/\*$|^application/\*$")
_FORM_MEDIA = ("application/x-www-form-urlencoded", "multipart/form-data")
#: Swagger 2.0 parameter keys that describe its (inline) schema
_SWAGGER_SCHEMA_KEYS = frozenset(
    {
        "type",
        "format",
        "items",
        "enum",
        "default",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "multipleOf",
    }
)


@dataclass(frozen=True)
class Param:
    key: str  # the argument's name in the input schema
    location: str  # path | query | header | cookie | form
    name: str  # the name on the wire
    style: str = ""
    explode: bool = True


@dataclass
class OperationPlan:
    """Where each argument of a tool goes in the request."""

    method: str
    path: str
    params: list[Param] = field(default_factory=list)
    #: "json", "form", "multipart", "text" or "" (no body)
    body_media: str = ""
    body_content_type: str = ""
    #: the argument holding the whole body ("" when the body is flattened)
    body_key: str = ""
    #: arguments that are the body's properties (flattened body)
    body_fields: frozenset[str] = frozenset()
    #: unknown arguments go into the (flattened) body
    extras_to_body: bool = False
    #: the operation says ``security: []``: no credential is sent
    no_auth: bool = False
    #: an operation- or path-level server, used when the source has no base_url
    server: str | None = None


def identifier(text: str) -> str:
    out = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    out = re.sub(r"_{2,}", "_", out)
    if not out:
        return "operation"
    return f"op_{out}" if out[0].isdigit() else out


def generated_name(method: str, path: str) -> str:
    return identifier(f"{method}_{path.replace('{', '').replace('}', '')}").lower()


def build_tools(resolver: Resolver, version: str) -> tuple[list[ToolInfo], list[str]]:
    """Every operation of the document as a tool, plus warnings (with locations)."""
    doc = resolver.main
    data = doc.data
    warnings: list[str] = []
    memo: dict[int, Any] = {}
    tools: list[ToolInfo] = []
    taken: dict[str, int] = {}
    for path, raw_item in (data.get("paths") or {}).items():
        where_item = f"{doc.shown}#/paths/{_escape(path)}"
        if not isinstance(raw_item, dict):
            warnings.append(f"{where_item}: not an object; skipped")
            continue
        item, item_doc = resolver.deref(raw_item, doc, where_item)
        if not isinstance(item, dict):
            continue
        common = item.get("parameters") or []
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            where = f"{where_item}/{method}"
            name = op.get("operationId")
            name = identifier(name) if isinstance(name, str) and name.strip() else ""
            name = name or generated_name(method, path)
            if name in taken:
                taken[name] += 1
                warnings.append(
                    f"{where}: tool name {name!r} is used twice; this one is {name}_{taken[name]}"
                )
                name = f"{name}_{taken[name]}"
            else:
                taken[name] = 1
            schema, plan = _operation(
                resolver, item_doc, version, method, path, item, op, common, where, warnings
            )
            if plan.server is None:
                plan.server = _server_of(op.get("servers")) or _server_of(item.get("servers"))
            security = op.get("security", data.get("security"))
            plan.no_auth = isinstance(security, list) and not security
            input_schema, notes = normalise(schema, memo=memo)
            warnings.extend(f"{where}: {note}" for note in notes)
            summary = op.get("summary")
            description = op.get("description")
            title = summary.strip() if isinstance(summary, str) else ""
            text = description.strip() if isinstance(description, str) else ""
            tags = tuple(t for t in op.get("tags") or () if isinstance(t, str))
            tools.append(
                ToolInfo(
                    name=name,
                    title=title,
                    description=text or title,
                    input_schema=input_schema,
                    tags=tags,
                    path=f"{method.upper()} {path}",
                    read_only=method in READ_ONLY,
                    extra=plan,
                )
            )
    return tools, warnings


def _escape(path: str) -> str:
    return path.replace("~", "~0").replace("/", "~1")


def _server_of(servers: Any) -> str | None:
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        return _server_url(servers[0])
    return None


def _server_url(server: dict[str, Any]) -> str | None:
    url = server.get("url")
    if not isinstance(url, str):
        return None
    for name, variable in (server.get("variables") or {}).items():
        if isinstance(variable, dict) and "default" in variable:
            url = url.replace("{" + str(name) + "}", str(variable["default"]))
    return url


def default_base_url(doc: Document, version: str) -> str | None:
    """The document's own base URL (relative ones resolved against a spec URL)."""
    data = doc.data
    if version == "2.0":
        host = data.get("host")
        base_path = data.get("basePath") or ""
        if not isinstance(host, str) or not host:
            return urljoin(doc.location, base_path or "/") if doc.is_url else None
        schemes = [s for s in data.get("schemes") or () if isinstance(s, str)]
        scheme = "https" if "https" in schemes or not schemes else schemes[0]
        return f"{scheme}://{host}{base_path}"
    url = _server_of(data.get("servers"))
    if url is None or url == "/":
        return urljoin(doc.location, "/") if doc.is_url else None
    if "://" not in url:
        return urljoin(doc.location, url) if doc.is_url else None
    return url


def _parameters(
    resolver: Resolver, base: Document, common: list[Any], own: list[Any], where: str
) -> list[tuple[dict[str, Any], Document]]:
    merged: dict[tuple[str, str], tuple[dict[str, Any], Document]] = {}
    for group in (common, own):
        if not isinstance(group, list):
            continue
        for index, raw in enumerate(group):
            param, doc = resolver.deref(raw, base, f"{where}/parameters/{index}")
            if isinstance(param, dict) and isinstance(param.get("name"), str):
                merged[(str(param.get("in")), param["name"])] = (param, doc)
    return list(merged.values())


def _operation(
    resolver: Resolver,
    base: Document,
    version: str,
    method: str,
    path: str,
    item: dict[str, Any],
    op: dict[str, Any],
    common: list[Any],
    where: str,
    warnings: list[str],
) -> tuple[dict[str, Any], OperationPlan]:
    plan = OperationPlan(method=method.upper(), path=path)
    props: dict[str, Any] = {}
    required: list[str] = []
    body_schema: Any = None
    body_required = False
    form_fields: list[tuple[dict[str, Any], Document]] = []
    needs: set[str] = set()
    for param, doc in _parameters(resolver, base, common, op.get("parameters") or [], where):
        location = param.get("in")
        name = param["name"]
        here = f"{where}/parameters/{name}"
        if location == "body":
            body_schema, found = resolver.inline(param.get("schema") or {}, doc, here)
            needs |= found
            body_required = bool(param.get("required"))
            continue
        if location == "formData":
            form_fields.append((param, doc))
            continue
        if location not in ("path", "query", "header", "cookie"):
            warnings.append(f"{here}: unknown location {location!r}; skipped")
            continue
        schema = _param_schema(resolver, param, doc, here, needs)
        key = name if name not in props else f"{location}_{name}"
        props[key] = schema
        if location == "path" or param.get("required"):
            required.append(key)
        style = param.get("style") or param.get("collectionFormat") or ""
        explode = param.get("explode", style in ("", "form", "multi"))
        plan.params.append(Param(key, location, name, str(style), bool(explode)))
    declared = {p.name for p in plan.params if p.location == "path"}
    for name in re.findall(r"\{([^{}]+)\}", path):
        if name not in declared:  # a template variable the document forgot to declare
            warnings.append(f"{where}: path parameter {name!r} is not declared; taken as text")
            key = name if name not in props else f"path_{name}"
            props[key] = {"type": "string"}
            required.append(key)
            plan.params.append(Param(key, "path", name))
            declared.add(name)
    if form_fields:
        form_props: dict[str, Any] = {}
        form_required: list[str] = []
        for param, doc in form_fields:
            name = param["name"]
            form_props[name] = _param_schema(resolver, param, doc, f"{where}/{name}", needs)
            if param.get("required"):
                form_required.append(name)
        body_schema = {"type": "object", "properties": form_props, "required": form_required}
        consumes = op.get("consumes") or resolver.main.data.get("consumes") or []
        multipart = "multipart/form-data" in consumes
        plan.body_media = "multipart" if multipart else "form"
        plan.body_content_type = (
            "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
        )
        body_required = True
    elif body_schema is not None:
        consumes = op.get("consumes") or resolver.main.data.get("consumes") or []
        plan.body_media, plan.body_content_type = _media_kind(consumes or ["application/json"])
    else:
        raw_body = op.get("requestBody")
        if raw_body is not None:
            body, doc = resolver.deref(raw_body, base, f"{where}/requestBody")
            if isinstance(body, dict):
                content = body.get("content") or {}
                media = _pick_media(list(content)) if isinstance(content, dict) else None
                if media is not None:
                    entry = content.get(media) or {}
                    schema = entry.get("schema") if isinstance(entry, dict) else None
                    body_schema, found = resolver.inline(
                        schema if schema is not None else {}, doc, f"{where}/requestBody"
                    )
                    needs |= found
                    plan.body_media, plan.body_content_type = _media_kind([media])
                    body_required = bool(body.get("required"))
    if body_schema is not None:
        notes = _add_body(plan, props, required, body_schema, body_required)
        warnings.extend(f"{where}/requestBody: {note}" for note in notes)
    top: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        top["required"] = required
    if not plan.extras_to_body:
        top["additionalProperties"] = False
    if needs:  # cyclic references, at the root where "#/$defs/..." points
        top["$defs"] = resolver.definitions(frozenset(needs))
    return top, plan


def _param_schema(
    resolver: Resolver, param: dict[str, Any], doc: Document, where: str, needs: set[str]
) -> Any:
    raw: Any
    if "schema" in param:
        raw = param["schema"]
    elif isinstance(param.get("content"), dict) and param["content"]:
        first = next(iter(param["content"].values()))
        raw = first.get("schema", {}) if isinstance(first, dict) else {}
    else:  # Swagger 2.0: the schema keys sit on the parameter itself
        raw = {k: v for k, v in param.items() if k in _SWAGGER_SCHEMA_KEYS}
    schema, found = resolver.inline(raw, doc, where)
    needs |= found
    extra: dict[str, Any] = {}
    description = param.get("description")
    if isinstance(description, str) and description.strip():
        if not (isinstance(schema, dict) and schema.get("description")):
            extra["description"] = description.strip()
    if param.get("deprecated"):
        extra["deprecated"] = True
    if extra and isinstance(schema, dict):
        schema = {**schema, **extra}
    return schema


def _pick_media(types: list[str]) -> str | None:
    if not types:
        return None
    for media in types:
        if _JSON_MEDIA.match(media.lower()):
            return media
    for media in types:
        if media.lower() in _FORM_MEDIA:
            return media
    return types[0]


def _media_kind(types: list[str]) -> tuple[str, str]:
    media = _pick_media(types) or "application/json"
    lowered = media.lower()
    if _JSON_MEDIA.match(lowered):
        return "json", "application/json" if "*" in lowered else media
    if lowered == "application/x-www-form-urlencoded":
        return "form", media
    if lowered == "multipart/form-data":
        return "multipart", media
    return "text", media


def _add_body(
    plan: OperationPlan,
    props: dict[str, Any],
    required: list[str],
    body_schema: Any,
    body_required: bool,
) -> list[str]:
    flat, notes = normalise(body_schema, tool_input=False)
    body_props = flat.get("properties") if isinstance(flat, dict) else None
    if (
        isinstance(flat, dict)
        and flat.get("type") == "object"
        and isinstance(body_props, dict)
        and body_props
        and not (set(body_props) & set(props))
        and not any(k in flat for k in ("oneOf", "anyOf", "allOf", "$ref"))
    ):
        props.update(body_props)
        if body_required:
            required.extend(n for n in flat.get("required", ()) if n in body_props)
        plan.body_fields = frozenset(body_props)
        extra = flat.get("additionalProperties", True)
        plan.extras_to_body = extra is not False
        return notes
    key = "body" if "body" not in props else "request_body"
    props[key] = body_schema
    if body_required:
        required.append(key)
    plan.body_key = key
    return notes


def credential_suggestions(data: dict[str, Any], version: str) -> list[dict[str, Any]]:
    """The document's security schemes as credential references the editor can
    offer: ``{"scheme": NAME, "credential": {...reference...}, "note": ...}``."""
    if version == "2.0":
        schemes = data.get("securityDefinitions") or {}
    else:
        schemes = (data.get("components") or {}).get("securitySchemes") or {}
    out: list[dict[str, Any]] = []
    if not isinstance(schemes, dict):
        return out
    for name, scheme in schemes.items():
        if not isinstance(scheme, dict):
            continue
        kind = str(scheme.get("type", "")).lower()
        ref: dict[str, Any] | None = None
        if kind == "http":
            how = str(scheme.get("scheme", "")).lower()
            if how == "bearer":
                ref = {"type": "bearer"}
            elif how == "basic":
                ref = {"type": "basic", "username": ""}
        elif kind == "basic":  # Swagger 2.0
            ref = {"type": "basic", "username": ""}
        elif kind == "apikey":
            where = scheme.get("in", "header")
            if where in ("header", "query", "cookie") and scheme.get("name"):
                ref = {"type": "api_key", "name": scheme["name"], "in": where}
        elif kind == "oauth2":
            token_url = None
            flows = scheme.get("flows")
            if isinstance(flows, dict) and isinstance(flows.get("clientCredentials"), dict):
                flow = flows["clientCredentials"]
                token_url, scopes = flow.get("tokenUrl"), flow.get("scopes") or {}
            elif scheme.get("flow") == "application":  # Swagger 2.0
                token_url, scopes = scheme.get("tokenUrl"), scheme.get("scopes") or {}
            if isinstance(token_url, str) and token_url:
                ref = {
                    "type": "oauth2_client_credentials",
                    "token_url": token_url,
                    "client_id": "",
                    "scopes": sorted(scopes) if isinstance(scopes, dict) else [],
                }
        if ref is not None:
            description = scheme.get("description")
            out.append(
                {
                    "scheme": str(name),
                    "credential": ref,
                    "note": description.strip() if isinstance(description, str) else "",
                }
            )
    return out
