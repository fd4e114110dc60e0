"""The run's OAuth2 token cache: ``OAuth2Tokens`` (RFC 6749 §4.4 client
credentials, signed-in authorization-code tokens, plug-in credentials' headers).

``OAuth2Tokens`` lives on the run's ``CredentialResolver`` (``resolver.oauth2``):
``token(name, client)`` fetches an access token from the credential's
``token_url`` — ``grant_type=client_credentials`` and ``scope``, the client
authenticated with HTTP Basic (``client_secret_basic``, id and secret
form-encoded first as §2.3.1 says) — once per run however many nodes ask at the
same time, and keeps it until shortly before ``expires_in``. A refused token
request is an ``AUTH`` error with the endpoint's ``error`` and
``error_description``; an unreachable endpoint a retryable ``TRANSPORT`` error.
Neither the client secret nor a token ever appears in a message.

Split from ``engine.oauth2`` (which re-exports these names and keeps the
``httpx.Auth`` and ``probe``) so that ``engine.credentials`` can create the
cache without importing ``engine.oauth2`` back (issue 21, "No import cycles").
May import: httpx, engine.credential_types, engine.auth_resolvers,
engine.oauth2_login, engine.retry_after, engine.errors, engine.model, stdlib;
never engine.credentials.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from .bus import BUS
from .credential_types import RunCredentials, tokens_key
from .errors import AuthError, ConfigError, FlowdeskError, TransportError, http_status_category
from .model.workflow import CustomCredential, OAuth2AuthorizationCode, OAuth2ClientCredentials
from .redaction import redact_text

#: a token is renewed this long before it expires (at most a tenth of its lifetime)
EXPIRY_MARGIN_S = 30.0
#: a signed-in (authorization code) access token is refreshed this long before it expires
USER_TOKEN_MARGIN_S = 60.0
TOKEN_TIMEOUT_S = 30.0
#: a refused refresh re-reads the keyring this often (another run may be saving
#: the tokens it rotated a moment earlier)
ROTATION_WAIT_TRIES = 5
ROTATION_WAIT_S = 0.1


@dataclass(frozen=True, slots=True)
class Token:
    access_token: str
    expires_at: float | None  # monotonic; None: no expiry announced

    def fresh(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


class OAuth2Tokens:
    """The access tokens of one run, one per credential."""

    def __init__(self, resolver: RunCredentials) -> None:
        self.resolver = resolver
        self._tokens: dict[str, Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        #: token requests sent, per credential (tests and diagnostics)
        self.fetches: dict[str, int] = {}
        #: plug-in credentials' headers: name -> (headers, monotonic expiry or None)
        self._custom: dict[str, tuple[dict[str, str], float | None]] = {}

    def secret_forms(self, name: str) -> tuple[str, ...]:
        token = self._tokens.get(name)
        return (token.access_token,) if token else ()

    def _lock(self, name: str) -> asyncio.Lock:
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        return lock

    async def token(self, name: str, client: httpx.AsyncClient, *, stale: str | None = None) -> str:
        """A valid access token; ``stale``: a token the server refused (renew it)."""
        ref = self.resolver.reference(name)
        if isinstance(ref, OAuth2AuthorizationCode):
            return await self._user_token(name, ref, stale)
        current = self._tokens.get(name)
        if current and current.fresh(time.monotonic()) and current.access_token != stale:
            return current.access_token
        async with self._lock(name):
            current = self._tokens.get(name)
            if current and current.fresh(time.monotonic()) and current.access_token != stale:
                return current.access_token  # another request fetched it meanwhile
            try:
                token = await self._fetch(name, client)
            except FlowdeskError as error:
                BUS.signal("auth.error", credential=name, code=error.code, message=error.message)
                raise
            self._tokens[name] = token
            BUS.signal(
                "auth.refresh",
                credential=name,
                renewed=current is not None,
                expires_in_s=None
                if token.expires_at is None
                else round(token.expires_at - time.monotonic(), 3),
            )
            return token.access_token

    async def _user_token(self, name: str, ref: OAuth2AuthorizationCode, stale: str | None) -> str:
        """The signed-in access token from the keyring, refreshed shortly before it
        expires or when the server refused it (``stale``); a rotated refresh
        token is saved at once. Re-read under the lock: another run may have
        refreshed (and rotated) meanwhile."""
        current = self._tokens.get(name)
        if current and current.fresh(time.monotonic()) and current.access_token != stale:
            return current.access_token
        from .oauth2_login import TokenRecord, refresh

        async with self._lock(name):
            current = self._tokens.get(name)
            if current and current.fresh(time.monotonic()) and current.access_token != stale:
                return current.access_token
            try:
                raw = await asyncio.to_thread(self.resolver.load_entry, tokens_key(name))
            except AuthError as error:
                if error.code != "KEYRING_UNAVAILABLE":
                    raise
                reason = error.details.get("reason", "")
                raise AuthError(
                    f"The sign-in of credential {name!r} is kept in the system keyring, "
                    f"which can't be used ({reason}). Start and unlock a Secret Service such "
                    "as gnome-keyring or KWallet, then sign in again with "
                    f"'flowdesk credentials login {name}'.",
                    code="KEYRING_UNAVAILABLE",
                    details={
                        "credential": name,
                        "reason": reason,
                        "hint": error.details.get("hint", ""),
                    },
                ) from error
            record = TokenRecord.from_json(raw) if raw else None
            if record is None:
                raise AuthError(
                    f"credential {name!r} is not signed in: run 'flowdesk credentials "
                    f"login {name}' or use Sign in in the Credentials dialog",
                    code="OAUTH2_SIGN_IN_REQUIRED",
                    details={"credential": name, "action": "sign_in"},
                )
            self.resolver.used_secrets.update(record.secrets())
            if record.access_token == stale or not record.fresh(USER_TOKEN_MARGIN_S):
                secret = await self.resolver.optional_secret_async(name)
                self.fetches[name] = self.fetches.get(name, 0) + 1
                try:
                    fresh = await refresh(name, ref, record, secret)
                except AuthError as error:
                    # Another run (another process) may have refreshed with the same
                    # refresh token a moment earlier: the server rotated it and refused
                    # ours. Its new tokens are in the keyring (or about to be).
                    newer = await self._rotated_elsewhere(name, record, error)
                    if newer.fresh(USER_TOKEN_MARGIN_S) and newer.access_token != stale:
                        fresh = newer
                    else:
                        fresh = await refresh(name, ref, newer, secret)
                if fresh is not record:
                    record = fresh
                    self.resolver.used_secrets.update(record.secrets())
                    await asyncio.to_thread(
                        self.resolver.save_entry, tokens_key(name), record.to_json()
                    )
            expires_at = None
            if record.expires_at is not None:
                left = record.expires_at - time.time() - USER_TOKEN_MARGIN_S
                expires_at = time.monotonic() + max(left, 0.0)
            self._tokens[name] = Token(record.access_token, expires_at)
            return record.access_token

    async def _rotated_elsewhere(self, name: str, used: Any, error: AuthError) -> Any:
        """The sign-in another run saved after rotating ``used``'s refresh token;
        ``error`` again when there is none (the sign-in really was revoked)."""
        from .oauth2_login import TokenRecord

        if error.code != "OAUTH2_SIGN_IN_REQUIRED":
            raise error
        for _ in range(ROTATION_WAIT_TRIES):
            raw = await asyncio.to_thread(self.resolver.load_entry, tokens_key(name))
            newer = TokenRecord.from_json(raw) if raw else None
            if newer is not None and newer.refresh_token != used.refresh_token:
                self.resolver.used_secrets.update(newer.secrets())
                return newer
            await asyncio.sleep(ROTATION_WAIT_S)
        raise error

    async def custom_headers(
        self, name: str, request: httpx.Request, *, stale: bool = False
    ) -> dict[str, str]:
        """A plug-in credential's headers, cached until the expiry it gave."""
        from .auth_resolvers import resolve_headers

        cached = self._custom.get(name)
        if cached and not stale and (cached[1] is None or time.monotonic() < cached[1]):
            return cached[0]
        async with self._lock(name):
            cached = self._custom.get(name)
            if cached and not stale and (cached[1] is None or time.monotonic() < cached[1]):
                return cached[0]
            ref = self.resolver.reference(name)
            assert isinstance(ref, CustomCredential)
            self.fetches[name] = self.fetches.get(name, 0) + 1
            headers, expires_in = await resolve_headers(self.resolver, name, ref, request)
            if expires_in is None or expires_in > 0:
                until = None if expires_in is None else time.monotonic() + expires_in
                self._custom[name] = (headers, until)
            else:
                self._custom.pop(name, None)
            return headers

    async def _fetch(self, name: str, client: httpx.AsyncClient) -> Token:
        ref = self.resolver.reference(name)
        if not isinstance(ref, OAuth2ClientCredentials):
            raise ConfigError(
                f"credential {name!r} is not an oauth2_client_credentials credential",
                details={"credential": name},
            )
        secret = await self.resolver.secret_async(name)
        basic = base64.b64encode(
            f"{quote(ref.client_id, safe='')}:{quote(secret, safe='')}".encode()
        ).decode("ascii")
        forms = (secret, quote(secret, safe=""), basic)
        data = {"grant_type": "client_credentials"}
        if ref.scopes:
            data["scope"] = " ".join(ref.scopes)
        self.fetches[name] = self.fetches.get(name, 0) + 1
        where = f"the token endpoint {without_query(ref.token_url)}"
        try:
            response = await client.post(
                ref.token_url,
                data=data,
                headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
                auth=httpx.Auth(),  # not the client's OAuth2Auth
                follow_redirects=False,
                timeout=TOKEN_TIMEOUT_S,
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise ConfigError(
                f"credential {name!r}: token_url: {exc}",
                details={"credential": name, "field": "token_url"},
            ) from exc
        except httpx.TimeoutException as exc:
            raise TransportError(
                f"credential {name!r}: {where} did not answer within {TOKEN_TIMEOUT_S:g} s",
                code="OAUTH2_TOKEN_UNREACHABLE",
                category="TIMEOUT",
                details={"credential": name},
            ) from exc
        except httpx.HTTPError as exc:
            raise TransportError(
                f"credential {name!r}: {where} could not be reached ({type(exc).__name__})",
                code="OAUTH2_TOKEN_UNREACHABLE",
                details={"credential": name},
            ) from exc
        body = _json(response.content)
        if not 200 <= response.status_code <= 299 or not isinstance(body, dict):
            raise _refused(name, where, response, body, forms)
        access = body.get("access_token")
        kind = str(body.get("token_type", "bearer")).lower()
        if not isinstance(access, str) or not access or kind != "bearer":
            problem = "no access_token" if not access else f"token_type {kind!r} (not bearer)"
            raise AuthError(
                f"credential {name!r}: {where} answered without a usable token ({problem})",
                code="OAUTH2_TOKEN_FAILED",
                details={"credential": name, "status": response.status_code},
            )
        self.resolver.used_secrets.add(access)
        expires_at = None
        expires_in = body.get("expires_in")
        if isinstance(expires_in, int | float | str):
            try:
                seconds = float(expires_in)
            except ValueError:
                seconds = 0.0
            if seconds > 0:
                margin = min(EXPIRY_MARGIN_S, seconds / 10)
                expires_at = time.monotonic() + seconds - margin
        return Token(access, expires_at)


def _refused(
    name: str, where: str, response: httpx.Response, body: Any, forms: tuple[str, ...]
) -> FlowdeskError:
    status = response.status_code
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        said = body["error"]
        if isinstance(body.get("error_description"), str):
            said += f": {body['error_description']}"
    else:
        said = response.text[:200].strip() or response.reason_phrase
    said = redact_text(said, forms)
    # The endpoint failing (5xx) or asking to slow down (429) says nothing
    # about the credential: TRANSPORT / RATE_LIMIT (retryable), not AUTH.
    category = http_status_category(status)
    if category == "EXECUTION":
        category = "AUTH"  # 400 invalid_client, 401, …: the credential was refused
    retry_after = None
    if category == "RATE_LIMIT":
        from .retry_after import parse_retry_after

        retry_after = parse_retry_after(response.headers.get("Retry-After"))
    kind = AuthError if category == "AUTH" else FlowdeskError
    return kind(
        f"credential {name!r}: {where} refused the token request (HTTP {status}): {said}",
        code="OAUTH2_TOKEN_FAILED",
        category=category,
        retry_after=retry_after,
        details={
            "credential": name,
            "status": status,
            "error": body.get("error") if isinstance(body, dict) else None,
        },
    )


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def without_query(url: str) -> str:
    return url.split("?", 1)[0]
