"""Credentials: named references in the workflow file, secrets elsewhere.

``SecretStore`` is where secrets come from (``EnvSecretStore`` reads
``FLOWDESK_SECRET_<NAME>``); ``CredentialResolver`` is the one place that turns
a credential name of a node's config into a secret for a run, with an ``AUTH``
error naming the credential and how to set it when the secret is missing.
Secrets never enter run results, history, logs or error messages.
May import: engine.errors, engine.model, stdlib; ``keyring`` lazily only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Protocol

from engine.errors import AuthError, ConfigError
from engine.model.workflow import CredentialRef

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
