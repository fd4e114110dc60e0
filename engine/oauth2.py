"""OAuth2 client credentials (RFC 6749 §4.4) over the run's HTTP client.

``OAuth2Tokens`` is the per-run token cache (it lives on the run's
``CredentialResolver``): ``token(name, client)`` fetches an access token from
the credential's ``token_url`` — ``grant_type=client_credentials`` and
``scope``, the client authenticated with HTTP Basic (``client_secret_basic``,
id and secret form-encoded first as §2.3.1 says) — once per run however many
nodes ask at the same time, and keeps it until shortly before ``expires_in``.

``OAuth2Auth`` is the ``httpx.Auth`` installed on the run's client: a request
whose ``Authorization`` is ``Bearer <placeholder(name)>`` (what
``engine.credentials.http_credential`` puts there) gets the real token; on a
401 the token is refreshed once (one fetch for all requests holding the same
stale token) and the request is sent once more. Other requests pass untouched.

A refused token request is an ``AUTH`` error with the endpoint's ``error`` and
``error_description``; an unreachable endpoint a retryable ``TRANSPORT`` error.
Neither the client secret nor a token ever appears in a message.

Why not authlib: its ``AsyncOAuth2Client`` is its own ``httpx.AsyncClient``
(it cannot share the run's pooled aiohttp-backed client), has no
refresh-on-401 nor single-flight fetch for concurrent nodes, and brings
``cryptography``; the grant itself is one form POST.
The token cache (``OAuth2Tokens``, ``Token``) and the placeholder are in
``engine.oauth2_tokens`` / ``engine.credential_types`` (below
``engine.credentials``) and re-exported here.
May import: httpx, engine.credentials, engine.credential_types,
engine.oauth2_tokens, engine.errors, stdlib.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

import httpx

from .credential_types import PLACEHOLDER_PREFIX as PLACEHOLDER_PREFIX
from .credential_types import placeholder as placeholder
from .credential_types import placeholder_name as placeholder_name
from .errors import TransportError
from .model.workflow import CustomCredential
from .oauth2_tokens import EXPIRY_MARGIN_S as EXPIRY_MARGIN_S
from .oauth2_tokens import ROTATION_WAIT_S as ROTATION_WAIT_S
from .oauth2_tokens import ROTATION_WAIT_TRIES as ROTATION_WAIT_TRIES
from .oauth2_tokens import TOKEN_TIMEOUT_S as TOKEN_TIMEOUT_S
from .oauth2_tokens import USER_TOKEN_MARGIN_S as USER_TOKEN_MARGIN_S
from .oauth2_tokens import OAuth2Tokens as OAuth2Tokens
from .oauth2_tokens import Token as Token
from .oauth2_tokens import without_query

if TYPE_CHECKING:
    from .credentials import CredentialResolver


class OAuth2Auth(httpx.Auth):
    """Swaps the placeholder for the run's token; one refresh + retry on a 401."""

    def __init__(self, resolver: CredentialResolver, client: httpx.AsyncClient) -> None:
        self.resolver = resolver
        self.client = client

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        name = placeholder_name(request.headers.get("Authorization"))
        if name is None:
            yield request
            return
        tokens = self.resolver.oauth2
        if isinstance(self.resolver.reference(name), CustomCredential):
            del request.headers["Authorization"]
            request.headers.update(await tokens.custom_headers(name, request))
            response = yield request
            if response.status_code == 401:
                request.headers.update(await tokens.custom_headers(name, request, stale=True))
                yield request
            return
        token = await tokens.token(name, self.client)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            token = await tokens.token(name, self.client, stale=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


async def probe(
    resolver: CredentialResolver,
    name: str,
    url: str,
    *,
    client: httpx.AsyncClient | None = None,
    timeout_s: float = 15.0,
) -> int:
    """Send one GET to ``url`` with credential ``name`` applied; the status code.

    Used by ``flowdesk credentials test`` and the editor's Credentials dialog.
    Errors are ``FlowdeskError`` (secrets redacted).
    """
    from .credentials import http_credential, redact_error
    from .errors import FlowdeskError

    await resolver.prefetch([name])
    own = client is None
    client = client or httpx.AsyncClient(timeout=timeout_s)
    secrets: tuple[str, ...] = ()
    try:
        if resolver.uses_oauth2():
            client.auth = OAuth2Auth(resolver, client)
        credential = http_credential(resolver, name)
        secrets = credential.secrets
        request = client.build_request("GET", url, params=dict(credential.params) or None)
        for key, value in credential.headers.items():
            request.headers[key] = value
        if credential.cookies:
            request.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in credential.cookies.items())
        try:
            response = await client.send(request)
        except httpx.HTTPError as exc:
            raise TransportError(
                f"GET {without_query(url)} failed ({type(exc).__name__})",
                details={"url": without_query(url)},
            ) from None
        return response.status_code
    except FlowdeskError as error:
        raise redact_error(error, (*secrets, *resolver.used_secrets)) from None
    finally:
        if own:
            await client.aclose()
