"""Plug-in credential kinds: the ``flowdesk.auth_resolvers`` entry-point group.

A credential ``{"type": "custom", "resolver": "NAME", "options": {...}}`` is
applied by the entry point ``NAME`` of the group. The entry point is a class
(instantiated once per process without arguments) or an object with::

    async def resolve(self, request: AuthRequest) -> AuthResult

``AuthRequest`` gives the credential's name and ``options``, the HTTP method
and URL of the request being sent, and ``secret()`` (awaitable: the
credential's secret from the keyring or ``FLOWDESK_SECRET_<NAME>``, ``None``
when none is stored). ``AuthResult`` holds the headers to add and
``expires_in`` seconds: the headers are cached for the run until then (``None``
caches them for the whole run; ``0`` asks again for every request, e.g. a
signed-request scheme). A 401 answer asks once more and retries once.
The values of ``Authorization``, ``Cookie`` and headers whose name says token,
secret, signature, password, api key or session, and ``AuthResult.secrets``,
are redacted like any secret.

A resolver that raises is an ``AUTH`` error naming the credential
(``AUTH_RESOLVER_FAILED``; a ``FlowdeskError`` it raises is kept as is); an
unknown resolver a ``CONFIG`` error listing the installed ones.
May import: engine.credential_types, engine.errors, engine.model, stdlib.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from .errors import AuthError, ConfigError, FlowdeskError
from .model.workflow import CustomCredential

if TYPE_CHECKING:
    import httpx

    from .credential_types import RunCredentials

ENTRY_POINT_GROUP = "flowdesk.auth_resolvers"
#: headers whose values are redacted like secrets (others, e.g. a key id or a
#: timestamp, stay readable; a plug-in lists further secrets in ``AuthResult.secrets``)
_SECRET_HEADER = re.compile(
    r"^(proxy-)?authorization$|^cookie$|token|secret|signature|password|api-?key|session",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class AuthRequest:
    credential: str
    options: Mapping[str, Any]
    method: str
    url: str
    secret: Callable[[], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class AuthResult:
    headers: Mapping[str, str]
    expires_in: float | None = None
    #: further strings to keep out of logs and errors (the headers' values always are)
    secrets: tuple[str, ...] = field(default_factory=tuple)


class AuthResolverPlugin(Protocol):
    async def resolve(self, request: AuthRequest) -> AuthResult: ...


#: plug-ins by entry-point name. Process-wide on purpose: an entry point is
#: loaded once, as Python imports its module once; what a resolver returns
#: (headers, expiry) is cached per run by the run's token cache.
_LOADED: dict[str, AuthResolverPlugin] = {}


def installed() -> list[str]:
    return sorted({entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)})


def load(name: str, credential: str) -> AuthResolverPlugin:
    plugin = _LOADED.get(name)
    if plugin is not None:
        return plugin
    found = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == name]
    if not found:
        known = ", ".join(installed()) or "none installed"
        raise ConfigError(
            f"credential {credential!r}: no auth resolver {name!r} in the entry-point group "
            f"{ENTRY_POINT_GROUP} (installed: {known})",
            code="AUTH_RESOLVER_UNKNOWN",
            details={"credential": credential, "resolver": name},
        )
    try:
        obj = found[0].load()
        plugin = obj() if isinstance(obj, type) else obj
    except Exception as exc:
        raise ConfigError(
            f"credential {credential!r}: the auth resolver {name!r} could not be loaded "
            f"({type(exc).__name__}: {exc})",
            code="AUTH_RESOLVER_UNKNOWN",
            details={"credential": credential, "resolver": name},
        ) from exc
    if not callable(getattr(plugin, "resolve", None)):
        raise ConfigError(
            f"credential {credential!r}: the auth resolver {name!r} has no resolve() method",
            code="AUTH_RESOLVER_UNKNOWN",
            details={"credential": credential, "resolver": name},
        )
    _LOADED[name] = plugin
    return plugin  # type: ignore[no-any-return]


async def resolve_headers(
    resolver: RunCredentials, name: str, ref: CustomCredential, request: httpx.Request
) -> tuple[dict[str, str], float | None]:
    """The plug-in's headers for ``request`` and how long they may be reused."""
    plugin = load(ref.resolver, name)

    async def secret() -> str | None:
        return await resolver.optional_secret_async(name)

    url = str(request.url.copy_with(query=None))
    ask = AuthRequest(name, dict(ref.options), request.method, url, secret)
    try:
        result = await plugin.resolve(ask)
    except FlowdeskError:
        raise
    except Exception as exc:
        raise AuthError(
            f"credential {name!r}: the auth resolver {ref.resolver!r} failed "
            f"({type(exc).__name__}: {str(exc)[:200]})",
            code="AUTH_RESOLVER_FAILED",
            details={"credential": name, "resolver": ref.resolver},
        ) from exc
    if not isinstance(result, AuthResult) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in result.headers.items()
    ):
        raise AuthError(
            f"credential {name!r}: the auth resolver {ref.resolver!r} returned no "
            "AuthResult with text headers",
            code="AUTH_RESOLVER_FAILED",
            details={"credential": name, "resolver": ref.resolver},
        )
    headers = dict(result.headers)
    hidden = [v for k, v in headers.items() if _SECRET_HEADER.search(k)]
    # (a short value is redacted as a whole value only: engine.redaction)
    resolver.used_secrets.update(v for v in (*hidden, *result.secrets) if v)
    return headers, result.expires_in
