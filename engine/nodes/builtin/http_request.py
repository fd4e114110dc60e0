"""``http.request``: one HTTP request through the run's shared httpx client.

Output ``{"status", "headers", "body"}``. Failures are structured errors the
executor can retry (``HTTP_STATUS`` with the server's ``Retry-After``,
``TRANSPORT``, ``TIMEOUT``); the node never retries by itself. Credentials come
from ``engine.credentials.http_credential`` and are re-sent on redirects to the
same origin only; secrets are redacted from every error and log line.
May import: httpx, pydantic, engine.context, engine.credentials, engine.errors,
engine.deadline, engine.compat.httpx_fast, engine.nodes.spec,
engine.nodes.builtin.http_config (the config model and ``ok_status``),
engine.nodes.builtin.http_parts, stdlib.
"""

from __future__ import annotations

import base64
import functools
import json
import uuid
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ...context import NodeContext
from ...credentials import (
    HttpCredential,
    http_credential,
    redact,
    redact_error,
    secret_variants,
)
from ...deadline import Deadline
from ...errors import (
    CATEGORY_RETRYABLE,
    ConfigError,
    ExecutionError,
    FlowdeskError,
    NodeTimeoutError,
    SecurityError,
    TransportError,
    http_status_category,
)
from ...lazy import lazy_module
from ..spec import NodeType, Port
from .http_config import HttpRequestConfig
from .http_parts import (
    charset_of,
    checked_url,
    describe_transport_error,
    header_text,
    is_json,
    is_text,
    json_body,
    mask_password,
    parse_retry_after,
    phase_timeout,
    query_text,
    request_charset,
    response_headers,
    same_origin,
    set_default,
    size_text,
    without_query,
)

if TYPE_CHECKING:
    import httpx

    from ...compat import httpx_fast as _fast
else:  # imported when a request is sent, not when the node types are listed
    httpx = lazy_module("httpx")
    _fast = lazy_module(__name__.rsplit(".", 3)[0] + ".compat.httpx_fast")

MAX_REDIRECTS = 20
#: characters of a failing response's body kept in the error's details
BODY_EXCERPT_CHARS = 2000
#: uuid5 namespace of generated ``Idempotency-Key`` values
_IDEMPOTENCY_NAMESPACE = uuid.UUID("6b1f3f3e-4f0e-4a55-9d3c-2f1a9d1c7e21")


class HttpRequest(NodeType):
    type_name = "http.request"
    title = "HTTP request"
    category = "Network"
    description = (
        "Send an HTTP request and output {status, headers, body}. A status outside "
        "ok_status is an HTTP_STATUS error (category RATE_LIMIT for 429, AUTH for 401 "
        "and 403, TRANSPORT otherwise; retryable for 408, 425, 429 and 5xx, honouring "
        "Retry-After); connection failures are TRANSPORT errors and slow requests "
        "TIMEOUT errors, both retryable. Set the node's retry policy to retry them."
    )
    icon = "globe"
    inputs = (Port("in", "Available to expressions as `input`"),)
    outputs = (Port("out", "{status, headers, body}"),)
    Config = HttpRequestConfig
    deterministic = False
    default_retry = "network"
    # (the run parses the URL with the same function, once rendered)
    config_checks: ClassVar[Mapping[str, Callable[[Any], object]]] = {
        "url": lambda text: checked_url(text)
    }
    credential_kinds = (
        "bearer",
        "basic",
        "api_key",
        "oauth2_client_credentials",
        "oauth2_authorization_code",
        "custom",
    )

    def execute(self, ctx: NodeContext, config: HttpRequestConfig) -> Coroutine[Any, Any, Any]:
        # A plain function handing back the exchange's coroutine (the executor
        # awaits it): without a credential there is nothing to redact, and one
        # coroutine frame less to resume per request counts in a big for_each.
        # Nothing runs (or raises) before the coroutine is awaited.
        if not config.credential:
            return _Exchange(ctx, config, None).run()
        return self._execute_with_credential(ctx, config, config.credential)

    async def _execute_with_credential(
        self, ctx: NodeContext, config: HttpRequestConfig, name: str
    ) -> Any:
        credential = http_credential(ctx.services.credentials, name)
        try:
            return await _Exchange(ctx, config, credential).run()
        except FlowdeskError as error:
            # (tokens of a signed-in credential are loaded while the request is sent)
            secrets = (*credential.secrets, *ctx.services.credentials.used_secrets)
            raise redact_error(error, secrets) from None


class _Exchange:
    """One request, its redirects and its response, for one attempt."""

    url: httpx.URL  # parsed when the exchange runs

    def __init__(
        self, ctx: NodeContext, config: HttpRequestConfig, credential: HttpCredential | None
    ) -> None:
        self.ctx = ctx
        self.config = config
        self.credential = credential
        self.method = config.method

    @functools.cached_property
    def shown_url(self) -> str:
        """The URL as shown in errors and logs: the user's, never with a query
        key nor the password of its user info."""
        if self.url.password:
            return mask_password(str(self.url))
        return str(self.url)

    async def run(self) -> dict[str, Any]:
        """Send (following redirects), read the final response with the size limit,
        and turn it into the node's output or error.

        One coroutine for all of it: the frames a request resumes on its way
        back from the socket are a large part of a for_each's cost.
        """
        config = self.config
        client = self.ctx.services.http_client()
        parse = client.parse_url if isinstance(client, _fast.HttpClient) else None
        self.url = checked_url(config.url, parse)
        if self.url.password:
            # a password in the URL's user info is a secret: redacted from
            # outputs, errors and the history like a credential's
            self.ctx.services.credentials.used_secrets.update(secret_variants(self.url.password))
        try:
            with Deadline(config.timeout_s):
                request = self._build(client)
                # Flowdesk's client sends straight to its transport (no auth
                # flow, hooks or redirect loop to go through: redirects are
                # followed here); any other httpx client goes through ``send``.
                direct = client.send_direct if isinstance(client, _fast.HttpClient) else None
                redirects = 0
                while True:
                    if direct is not None:
                        response = await direct(request)
                    else:
                        response = await client.send(request, stream=True, follow_redirects=False)
                    try:
                        if not (config.follow_redirects and response.next_request is not None):
                            # Plain dict, lower-case names: one pass over httpx's
                            # headers instead of a scan per lookup.
                            headers = response_headers(response.headers)
                            data = self._read_at_once(response, headers)
                            if data is None:
                                data = await self._read(response, headers)
                            break
                    finally:
                        if not response.is_closed:  # (a body read at once is closed already)
                            await response.aclose()
                    redirects += 1
                    request = self._next_hop(response, redirects)
        except TimeoutError:
            raise self._timeout_error() from None
        except httpx.TimeoutException as exc:
            raise self._timeout_error(exc) from None
        except httpx.InvalidURL as exc:
            raise ConfigError(
                f"config.url: {exc}", details={"field": "url", "url": self.shown_url}
            ) from None
        except httpx.UnsupportedProtocol as exc:
            raise ConfigError(
                f"config.url: {exc}", details={"field": "url", "url": self.shown_url}
            ) from None
        except httpx.DecodingError as exc:
            raise TransportError(
                f"{self.method} {self.shown_url}: the response body could not be decoded ({exc})",
                code="DECODING_ERROR",
                retryable=False,
                details={"url": self.shown_url, "method": self.method},
            ) from None
        except httpx.TransportError as exc:
            raise TransportError(
                f"{self.method} {self.shown_url} failed: {describe_transport_error(exc)}",
                details={
                    "url": self.shown_url,
                    "method": self.method,
                    "reason": type(exc).__name__,
                },
            ) from None
        status = response.status_code
        if not config.is_ok(status):
            raise self._status_error(response, headers, data)
        return {
            "status": status,
            "headers": headers,
            "body": self._decode_body(data, headers.get("content-type", "")),
        }

    def _next_hop(self, response: httpx.Response, redirects: int) -> httpx.Request:
        """The request following a redirect (``redirects``: how many so far)."""
        assert response.next_request is not None
        target = response.next_request.url
        if target.scheme not in ("http", "https"):
            raise _redirect_refused(self.method, self.shown_url, response, target.scheme)
        # Only redirects are logged: the output says the rest, and a line
        # per request would flood the log of a large for_each.
        self.ctx.log(
            f"{self.method} {self.shown_url}: {response.status_code} redirect to "
            f"{without_query(response.next_request.url)}",
            "debug",
        )
        if redirects > MAX_REDIRECTS:
            raise ExecutionError(
                f"{self.method} {self.shown_url}: more than {MAX_REDIRECTS} redirects",
                code="TOO_MANY_REDIRECTS",
                category="TRANSPORT",
                details={"url": self.shown_url, "method": self.method},
            )
        return self._redirected(response.next_request)

    def _secrets(self) -> tuple[str, ...]:
        if self.credential is None:
            return ()
        return (*self.credential.secrets, *self.ctx.services.credentials.used_secrets)

    def _timeout_error(self, exc: httpx.TimeoutException | None = None) -> FlowdeskError:
        limit = self.config.timeout_s
        if exc is not None and isinstance(exc, httpx.ConnectTimeout):
            what = "connecting timed out"
        elif limit is not None:
            what = f"no complete response within {limit:g} s"
        else:
            what = "the server stopped responding"
        return NodeTimeoutError(
            f"{self.method} {self.shown_url}: {what}",
            details={"url": self.shown_url, "method": self.method, "timeout_s": limit},
        )

    def _build(self, client: httpx.AsyncClient) -> httpx.Request:
        config = self.config
        # A plain dict (None when empty): httpx merges it with the client's
        # headers, and skips the merge entirely when there is nothing to add.
        headers: dict[str, str] = {
            name: header_text(value) for name, value in config.headers.items() if value is not None
        }
        params: list[tuple[str, str | int | float | bool | None]] = []
        for name, value in config.query.items():
            for one in value if isinstance(value, list) else [value]:
                if one is not None:
                    params.append((name, query_text(one)))
        key = config.idempotency_key
        if key:
            if key == "auto":
                ctx = self.ctx
                seed = f"{ctx.services.run_id}/{ctx.node_id}/{ctx.index}"
                key = str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, seed))
            headers["Idempotency-Key"] = key
        content: bytes | None = None
        if "json_body" in config.__pydantic_fields_set__:
            content = json.dumps(
                config.json_body, ensure_ascii=False, separators=(",", ":")
            ).encode("utf-8")
            set_default(headers, "Content-Type", "application/json")
        elif config.body is not None:
            kind = set_default(headers, "Content-Type", "text/plain; charset=utf-8")
            content = config.body.encode(request_charset(kind))
        url = self.url
        if params:
            url = url.copy_merge_params(params)
        request = client.build_request(
            self.method,
            url,
            headers=headers or None,
            content=content,
            timeout=phase_timeout(config.timeout_s),
        )
        if self.credential is not None:
            self._apply_credential(request)
        return request

    def _apply_credential(self, request: httpx.Request) -> None:
        credential = self.credential
        assert credential is not None
        for name, value in credential.headers.items():
            request.headers[name] = value
        for name, value in credential.params.items():
            request.url = request.url.copy_set_param(name, value)
        if credential.cookies:
            ours = "; ".join(f"{name}={value}" for name, value in credential.cookies.items())
            existing = request.headers.get("Cookie")
            request.headers["Cookie"] = f"{existing}; {ours}" if existing else ours

    def _redirected(self, request: httpx.Request) -> httpx.Request:
        """The next hop: credentials again on the same origin, stripped elsewhere."""
        user_cookie = next(
            (v for k, v in self.config.headers.items() if k.lower() == "cookie" and v is not None),
            None,
        )
        if same_origin(request.url, self.url):
            if user_cookie is not None and "Cookie" not in request.headers:
                request.headers["Cookie"] = header_text(user_cookie)
            if self.credential is not None:
                self._apply_credential(request)
        elif self.credential is not None:
            # httpx drops Authorization and Cookie on a cross-origin redirect but
            # keeps other headers: an api_key header must not reach another host.
            for name in self.credential.headers:
                request.headers.pop(name, None)
        return request

    def _read_at_once(self, response: httpx.Response, headers: dict[str, str]) -> bytes | None:
        """The body if the transport has read it already (small ones), else None.

        What ``_read`` gives for such a body, without a coroutine to await.
        """
        content = _fast.read_content(response)
        if content is not None and len(content) <= self.config.max_response_bytes:
            # (decoded, as a read body always is; an announced length over
            # the limit cannot have been read whole)
            return content
        return None

    async def _read(self, response: httpx.Response, headers: dict[str, str]) -> bytes:
        """The (decoded) body, refused as soon as it grows past the limit."""
        limit = self.config.max_response_bytes
        declared = headers.get("content-length")
        if declared is not None and self.method != "HEAD" and declared.isdigit():
            if int(declared) > limit and "content-encoding" not in headers:
                raise self._too_large(int(declared), declared=True)
        content = _fast.read_content(response)
        if content is not None:
            # Already read (a small body; decoded, as a read body always is):
            # what the read loop below would give, minus its async generators.
            if len(content) > limit:
                raise self._too_large(len(content), declared=False)
            return content
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > limit:
                raise self._too_large(total, declared=False)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, size: int, *, declared: bool) -> FlowdeskError:
        limit = self.config.max_response_bytes
        said = f"announces {size} bytes" if declared else f"exceeded {limit} bytes"
        return ExecutionError(
            f"{self.method} {self.shown_url}: the response body {said}, over the limit of "
            f"{size_text(limit)}; raise config.max_response_bytes to accept it",
            code="RESPONSE_TOO_LARGE",
            details={
                "url": self.shown_url,
                "method": self.method,
                "limit_bytes": limit,
                ("content_length" if declared else "received_bytes"): size,
            },
        )

    def _status_error(
        self, response: httpx.Response, headers: dict[str, str], data: bytes
    ) -> FlowdeskError:
        status = response.status_code
        # 4xx other than 408/425/429 are not TRANSPORT: retrying cannot help
        category = http_status_category(status)
        retryable = CATEGORY_RETRYABLE[category]
        charset = charset_of(headers.get("content-type", ""))
        text = data.decode(charset or "utf-8", errors="replace")
        excerpt = text[:BODY_EXCERPT_CHARS]
        details: dict[str, Any] = {
            "status": status,
            "reason": response.reason_phrase,
            "method": self.method,
            "url": self.shown_url,
            "body": excerpt,
            "body_truncated": len(text) > len(excerpt),
        }
        retry_after = None
        header = headers.get("retry-after")
        if retryable and header is not None:
            retry_after = parse_retry_after(header)
            if retry_after is not None:
                details["retry_after_s"] = retry_after
        message = (
            f"{self.method} {self.shown_url} returned {status} {response.reason_phrase} "
            f"(ok_status: {self.config.ok_text()})"
        )
        if retry_after is not None:
            message += f"; the server asks to retry after {retry_after:g} s"
        return FlowdeskError(
            message,
            code="HTTP_STATUS",
            category=category,
            details=details,
            retry_after=retry_after,
        )

    def _decode_body(self, data: bytes, content_type: str) -> Any:
        mode = self.config.response
        media = content_type.split(";", 1)[0].strip().lower()
        if mode == "auto":
            if not data:
                return None
            if is_json(media):
                mode = "json"
            elif is_text(media):
                mode = "text"
            else:
                mode = "bytes"
        if mode == "bytes":
            return base64.b64encode(data).decode("ascii")
        if mode == "text":
            return data.decode(charset_of(content_type) or "utf-8", errors="replace")
        if not data or data.isspace():
            return None
        try:
            return json_body(data)
        except (ValueError, UnicodeDecodeError) as exc:
            excerpt = data[:200].decode("utf-8", errors="replace")
            raise ExecutionError(
                f"{self.method} {self.shown_url}: the response is not valid JSON ({exc}); "
                "set config.response to 'text' to read it as text",
                code="RESPONSE_NOT_JSON",
                category="VALIDATION",
                details={
                    "url": self.shown_url,
                    "content_type": content_type,
                    "body": redact(excerpt, self._secrets()),
                },
            ) from None


def _redirect_refused(
    method: str, url: str, response: httpx.Response, scheme: str
) -> SecurityError:
    location = response.headers.get("location", "")
    shown = location.split("?", 1)[0][:200]
    return SecurityError(
        f"{method} {url}: the server redirects to a {scheme or 'non-HTTP'}: URL ({shown!r}); "
        "only http:// and https:// redirects are followed, so the redirect is refused",
        code="REDIRECT_REFUSED",
        details={"url": url, "method": method, "status": response.status_code, "location": shown},
    )
