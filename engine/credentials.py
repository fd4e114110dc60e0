"""Credentials: named references in the workflow file, secrets elsewhere.

``SecretStore`` is where secrets come from (``EnvSecretStore`` reads
``FLOWDESK_SECRET_<NAME>``); ``CredentialResolver`` is the one place that turns
a credential name of a node's config into a secret for a run, with an ``AUTH``
error naming the credential and how to set it when the secret is missing.
``http_credential`` is the one function that applies a credential to an HTTP
request; ``redact``/``redact_error`` strip secrets from text the program writes.
Secrets never enter run results, history, logs or error messages.
May import: engine.credential_types, engine.oauth2_tokens (the run's token
cache, lazily), engine.errors, engine.model, stdlib; ``keyring`` lazily only.
Never engine.oauth2 (which imports this module).
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, quote_plus

from .bus import BUS
from .credential_types import TOKENS_SUFFIX as TOKENS_SUFFIX
from .credential_types import is_tokens_key as is_tokens_key
from .credential_types import placeholder
from .credential_types import tokens_key as tokens_key
from .errors import AuthError, ConfigError, FlowdeskError
from .model.workflow import (
    ApiKeyCredential,
    BasicCredential,
    BearerCredential,
    CredentialRef,
    CustomCredential,
    OAuth2AuthorizationCode,
    OAuth2ClientCredentials,
)
from .redaction import MARKER, redact_value

if TYPE_CHECKING:
    from .oauth2_tokens import OAuth2Tokens

ENV_PREFIX = "FLOWDESK_SECRET_"


def env_var_name(credential: str) -> str:
    """``FLOWDESK_SECRET_<NAME>``, upper-cased, other characters as ``_``."""
    return ENV_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", credential).upper()


class SecretStore(Protocol):
    def get_secret(self, name: str) -> str | None: ...


class EnvSecretStore:
    """Secrets from ``FLOWDESK_SECRET_<NAME>`` environment variables."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def get_secret(self, name: str) -> str | None:
        value = self._environ.get(env_var_name(name))
        return value if value else None


class MemorySecretStore:
    """Secrets held in memory (tests, one-off runs)."""

    def __init__(self, secrets: Mapping[str, str] | None = None) -> None:
        self._secrets = dict(secrets or {})

    def get_secret(self, name: str) -> str | None:
        return self._secrets.get(name)

    def set_secret(self, name: str, value: str) -> None:
        self._secrets[name] = value

    def delete_secret(self, name: str) -> bool:
        return self._secrets.pop(name, None) is not None

    def list_names(self) -> list[str]:
        return sorted(self._secrets)


class ChainSecretStore:
    """The first store that has the secret wins."""

    def __init__(self, *stores: SecretStore) -> None:
        self.stores = stores

    def get_secret(self, name: str) -> str | None:
        for store in self.stores:
            value = store.get_secret(name)
            if value:
                return value
        return None

    def set_secret(self, name: str, value: str) -> None:
        """Stored in the first store that can store (the keyring, not the environment)."""
        for store in self.stores:
            setter = getattr(store, "set_secret", None)
            if setter is not None:
                setter(name, value)
                return
        raise AuthError(
            f"no secret store here can keep {name!r}",
            details={"credential": name},
        )


class CredentialResolver:
    """Turns credential names used by nodes into references plus secrets.

    One resolver per run: a secret is looked up once per run and kept in
    memory (keyring look-ups block, ``secret_async``/``prefetch`` do them in a
    worker thread). Every secret handed out — and every OAuth2 access token
    fetched with one — is recorded in ``used_secrets`` so that the history and
    logs can redact it. ``oauth2`` holds the run's OAuth2 token cache.
    """

    def __init__(self, references: Mapping[str, CredentialRef], store: SecretStore) -> None:
        self.references = references
        self.store = store
        #: every secret (and OAuth2 access token) handed out in this run
        self.used_secrets: set[str] = set()
        self._cache: dict[str, str] = {}
        self._oauth2: OAuth2Tokens | None = None

    @property
    def oauth2(self) -> OAuth2Tokens:
        """The run's ``engine.oauth2.OAuth2Tokens`` (created on first use)."""
        if self._oauth2 is None:
            from .oauth2_tokens import OAuth2Tokens

            self._oauth2 = OAuth2Tokens(self)
        return self._oauth2

    def uses_oauth2(self) -> bool:
        """Whether the run's HTTP client needs ``engine.oauth2.OAuth2Auth`` (tokens
        fetched or refreshed per run, plug-in headers)."""
        return any(
            isinstance(ref, OAuth2ClientCredentials | OAuth2AuthorizationCode | CustomCredential)
            for ref in self.references.values()
        )

    async def optional_secret_async(self, name: str) -> str | None:
        """The secret of ``name``, or None when none is stored (optional secrets:
        a public OAuth2 client has no client secret)."""
        try:
            return await self.secret_async(name)
        except AuthError as error:
            if error.code == "CREDENTIAL_MISSING":
                return None
            raise

    def load_entry(self, key: str) -> str | None:
        """A stored entry that is not a credential's own secret (signed-in tokens);
        blocking (keyring): call in a thread. Recorded for redaction."""
        value = self.store.get_secret(key)
        if value:
            self.used_secrets.add(value)
        return value or None

    def save_entry(self, key: str, value: str) -> None:
        """Store an entry (rotated tokens) where secrets are kept; blocking."""
        self.used_secrets.add(value)
        setter = getattr(self.store, "set_secret", None)
        if setter is None:
            raise AuthError(
                f"{key!r} cannot be saved: this run's secret store cannot store",
                details={"credential": key},
            )
        setter(key, value)

    def reference(self, name: str) -> CredentialRef:
        ref = self.references.get(name)
        if ref is None:
            known = ", ".join(sorted(self.references)) or "none"
            raise ConfigError(
                f"credential {name!r} is not declared in the workflow's credentials "
                f"(declared: {known})",
                code="CREDENTIAL_UNKNOWN",
                details={"credential": name},
            )
        return ref

    def secret(self, name: str) -> str:
        """The secret of credential ``name``; an ``AUTH`` error when missing.

        Blocking on the first call per run when it reaches the keyring; async
        code should ``await secret_async(name)`` (or ``prefetch``) first.
        """
        self.reference(name)
        value = self._cache.get(name)
        if value is None:
            value = self._lookup(name)
        return value

    async def secret_async(self, name: str) -> str:
        """``secret`` without blocking the event loop (the look-up runs in a thread)."""
        self.reference(name)
        value = self._cache.get(name)
        if value is None:
            value = await asyncio.to_thread(self._lookup, name)
        return value

    async def prefetch(self, names: Iterable[str]) -> None:
        """Look up the secrets of ``names`` in a thread; failures are left for ``secret``."""
        wanted = [n for n in dict.fromkeys(names) if n in self.references and n not in self._cache]
        for name in wanted:
            try:
                await self.secret_async(name)
            except FlowdeskError:
                pass

    def _lookup(self, name: str) -> str:
        try:
            value = self._lookup_value(name)
        except FlowdeskError as error:
            BUS.signal("auth.error", credential=name, code=error.code, message=error.message)
            raise
        BUS.signal("auth.resolve", credential=name, kind=self.references[name].type)
        return value

    def _lookup_value(self, name: str) -> str:
        try:
            value = self.store.get_secret(name)
        except FlowdeskError as error:
            if f"credential {name!r}" not in error.message:
                error.message = f"credential {name!r}: {error.message}"
                error.args = (error.message,)
            raise
        if not value:
            raise AuthError(
                f"credential {name!r} has no secret: set the environment variable "
                f"{env_var_name(name)} or store it with 'flowdesk credentials set {name}'",
                code="CREDENTIAL_MISSING",
                details={"credential": name, "env_var": env_var_name(name)},
            )
        self._cache[name] = value
        self.used_secrets.update(secret_variants(value))
        return value


@dataclass(frozen=True, slots=True)
class HttpCredential:
    """What one credential adds to an HTTP request, and the strings to redact.

    ``headers``, ``params`` (query) and ``cookies`` are merged into the request;
    ``secrets`` holds every form in which the secret could show up in text the
    program writes (raw, URL-encoded, the Basic token) so that ``redact`` can
    strip it from error messages, details and logs.
    """

    name: str
    kind: str
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()


def http_credential(resolver: CredentialResolver, name: str) -> HttpCredential:
    """The one place that turns a credential name into request headers/query/cookies.

    ``bearer`` → ``Authorization: Bearer TOKEN``; ``basic`` → ``Authorization:
    Basic …``; ``api_key`` → the named header, query parameter or cookie.
    A missing secret is an ``AUTH`` error naming the credential and the
    environment variable to set.

    ``oauth2_client_credentials`` → ``Authorization: Bearer`` with a
    placeholder naming the credential (``engine.oauth2.placeholder``): the
    run's HTTP client (``RunServices.http_client``) carries an ``httpx.Auth``
    that swaps it for the run's access token — fetched once per run, shared by
    all nodes — and on a 401 refreshes it once and retries once.
    """
    ref = resolver.reference(name)
    if isinstance(ref, OAuth2AuthorizationCode | CustomCredential):
        # The token (or the plug-in's headers) is put on the request by the
        # run client's OAuth2Auth: looked up, refreshed or resolved there, async.
        return HttpCredential(
            name,
            ref.type,
            headers={"Authorization": f"Bearer {placeholder(name)}"},
            secrets=tuple(sorted(resolver.used_secrets, key=len, reverse=True)),
        )
    secret = resolver.secret(name)
    variants = secret_variants(secret)
    if isinstance(ref, OAuth2ClientCredentials):
        return HttpCredential(
            name,
            ref.type,
            headers={"Authorization": f"Bearer {placeholder(name)}"},
            secrets=(*variants, *resolver.oauth2.secret_forms(name)),
        )
    if isinstance(ref, BearerCredential):
        return HttpCredential(
            name, ref.type, headers={"Authorization": f"Bearer {secret}"}, secrets=variants
        )
    if isinstance(ref, BasicCredential):
        token = base64.b64encode(f"{ref.username}:{secret}".encode()).decode("ascii")
        # the Basic token in every base64 spelling: what a server echoing the
        # request (or a log) shows is redacted too
        tokens = _base64_forms(f"{ref.username}:{secret}")
        resolver.used_secrets.update(tokens)
        return HttpCredential(
            name,
            ref.type,
            headers={"Authorization": f"Basic {token}"},
            secrets=(*variants, *tokens),
        )
    if isinstance(ref, ApiKeyCredential):
        if ref.in_ == "header":
            return HttpCredential(name, ref.type, headers={ref.name: secret}, secrets=variants)
        if ref.in_ == "query":
            return HttpCredential(name, ref.type, params={ref.name: secret}, secrets=variants)
        return HttpCredential(name, ref.type, cookies={ref.name: secret}, secrets=variants)
    raise ConfigError(  # pragma: no cover - the model's union is exhaustive
        f"credential {name!r} has an unknown type", details={"credential": name}
    )


def _base64_forms(text: str) -> tuple[str, ...]:
    """``text`` base64-encoded: standard and URL-safe, with and without padding."""
    raw = text.encode("utf-8")
    forms: set[str] = set()
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        spelled = encoded.decode("ascii")
        forms.update((spelled, spelled.rstrip("=")))
    return tuple(sorted(forms, key=len, reverse=True))


def env_secret_forms(environ: Mapping[str, str]) -> set[str]:
    """Every ``FLOWDESK_SECRET_*`` value of ``environ`` in the forms it could
    show up in (raw, URL-encoded, base64): redacted wherever it appears."""
    forms: set[str] = set()
    for name, value in environ.items():
        if name.upper().startswith(ENV_PREFIX) and value:
            # (a short one is redacted as a whole value only: engine.redaction)
            forms.update(secret_variants(value))
    return forms


def secret_variants(secret: str) -> tuple[str, ...]:
    """The secret as written, as it appears once URL-encoded in a query, and
    base64-encoded (standard and URL-safe)."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    if len(secret) >= 4:
        forms.update(_base64_forms(secret))
    # Longest first: replacing a short form first could leave part of a longer one.
    return tuple(sorted(forms, key=len, reverse=True))


REDACTED = MARKER


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` (text, or JSON-like lists/dicts of it) with every secret
    replaced; a secret shorter than ``redaction.MIN_SUBSTRING_CHARS`` only where
    a whole value is that secret (``engine.redaction``)."""
    return redact_value(value, secrets)


def redact_error(error: FlowdeskError, secrets: Iterable[str]) -> FlowdeskError:
    """Strip secrets from an error's message and details, in place."""
    forms = [s for s in secrets if s]
    if forms:
        error.message = redact_value(error.message, forms)
        error.args = (error.message,)
        error.details = redact_value(error.details, forms)
    return error
