"""Credentials: named references in the workflow file, secrets elsewhere.

``SecretStore`` is where secrets come from (``EnvSecretStore`` reads
``FLOWDESK_SECRET_<NAME>``); ``CredentialResolver`` is the one place that turns
a credential name of a node's config into a secret for a run, with an ``AUTH``
error naming the credential and how to set it when the secret is missing.
``http_credential`` is the one function that applies a credential to an HTTP
request; ``redact``/``redact_error`` strip secrets from text the program writes.
Secrets never enter run results, history, logs or error messages.
May import: engine.errors, engine.model, stdlib; ``keyring`` lazily only.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, quote_plus

from engine.errors import AuthError, ConfigError, FlowdeskError
from engine.model.workflow import (
    ApiKeyCredential,
    BasicCredential,
    BearerCredential,
    CredentialRef,
    OAuth2ClientCredentials,
)

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


class CredentialResolver:
    """Turns credential names used by nodes into references plus secrets."""

    def __init__(self, references: Mapping[str, CredentialRef], store: SecretStore) -> None:
        self.references = references
        self.store = store

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
        """The secret of credential ``name``; an ``AUTH`` error when missing."""
        self.reference(name)
        value = self.store.get_secret(name)
        if not value:
            raise AuthError(
                f"credential {name!r} has no secret: set the environment variable "
                f"{env_var_name(name)} or store it with 'flowdesk credentials set {name}'",
                code="CREDENTIAL_MISSING",
                details={"credential": name, "env_var": env_var_name(name)},
            )
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
    environment variable to set; ``oauth2_client_credentials`` is a ``CONFIG``
    error until its issue lands.
    """
    ref = resolver.reference(name)
    if isinstance(ref, OAuth2ClientCredentials):
        raise ConfigError(
            f"credential {name!r} is of type 'oauth2_client_credentials', which is not "
            "supported yet; use a bearer, basic or api_key credential for now",
            code="CREDENTIAL_UNSUPPORTED",
            details={"credential": name, "type": ref.type},
        )
    secret = resolver.secret(name)
    variants = _secret_variants(secret)
    if isinstance(ref, BearerCredential):
        return HttpCredential(
            name, ref.type, headers={"Authorization": f"Bearer {secret}"}, secrets=variants
        )
    if isinstance(ref, BasicCredential):
        token = base64.b64encode(f"{ref.username}:{secret}".encode()).decode("ascii")
        return HttpCredential(
            name,
            ref.type,
            headers={"Authorization": f"Basic {token}"},
            secrets=(*variants, token),
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


def _secret_variants(secret: str) -> tuple[str, ...]:
    """The secret as written, and as it appears once URL-encoded in a query."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    # Longest first: replacing a short form first could leave part of a longer one.
    return tuple(sorted(forms, key=len, reverse=True))


REDACTED = "***"


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` (text, or JSON-like lists/dicts of it) with every secret replaced."""
    forms = [s for s in secrets if s]
    if not forms:
        return value
    return _redact(value, forms)


def _redact(value: Any, forms: list[str]) -> Any:
    if isinstance(value, str):
        for form in forms:
            if form in value:
                value = value.replace(form, REDACTED)
        return value
    if isinstance(value, dict):
        return {_redact(k, forms): _redact(v, forms) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v, forms) for v in value]
    return value


def redact_error(error: FlowdeskError, secrets: Iterable[str]) -> FlowdeskError:
    """Strip secrets from an error's message and details, in place."""
    forms = [s for s in secrets if s]
    if forms:
        error.message = _redact(error.message, forms)
        error.args = (error.message,)
        error.details = _redact(error.details, forms)
    return error
