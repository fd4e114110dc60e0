"""Secrets in the OS keyring (Secret Service, KWallet, macOS Keychain, Windows).

``KeyringSecretStore`` keeps each secret under service ``flowdesk`` with the
credential name as user name. ``keyring`` has no portable way to list entries,
so the store also keeps an *index* entry (user name ``INDEX_USER``) whose value
is the JSON list of the names it stored; ``list_names`` reads it (names deleted
outside Flowdesk are filtered by ``has_secret`` where it matters). The index
holds names only, never a secret.

When no usable backend exists (``keyring.backends.fail.Keyring``, a locked or
unreachable Secret Service, …) every call raises ``KeyringUnavailableError``,
an ``AUTH`` error whose message says how to fix it. There is no plain-text
fallback. ``default_secret_store()`` is what runs use: the environment variable
``FLOWDESK_SECRET_<NAME>`` first, then the keyring.
May import: engine.credentials, engine.errors, stdlib; ``keyring`` lazily.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from .credentials import (
    TOKENS_SUFFIX,
    ChainSecretStore,
    EnvSecretStore,
    env_var_name,
    is_tokens_key,
    tokens_key,
)
from .errors import AuthError
from .redaction import redact_text

SERVICE = "flowdesk"
#: user name of the entry listing the names stored by Flowdesk (not a credential)
INDEX_USER = "__flowdesk_index__"

T = TypeVar("T")


#: what a headless Linux machine needs (said once, after the message)
HEADLESS_HINT = (
    "On a Linux machine without a desktop session, run Flowdesk inside "
    "'dbus-run-session' after 'gnome-keyring-daemon --unlock'. Flowdesk never writes "
    "secrets to a plain-text file."
)


def keyring_help(name: str | None = None) -> str:
    """What to do when the keyring cannot be used: one sentence."""
    if name:
        return (
            f"To use credential {name!r}, start and unlock a Secret Service such as "
            "gnome-keyring or KWallet, or give its secret in the environment variable "
            f"{env_var_name(name)}."
        )
    return (
        "Start and unlock a Secret Service such as gnome-keyring or KWallet, or give "
        "secrets in environment variables FLOWDESK_SECRET_<NAME>."
    )


class KeyringUnavailableError(AuthError):
    """No usable keyring backend. The message says what went wrong, then what
    to do, in sentence case: "The system keyring can't be used (why). To use
    credential 'api', start and unlock …, or give its secret in the environment
    variable FLOWDESK_SECRET_API." (the first sentence alone is the short
    form); ``details["hint"]`` has the headless-Linux recipe."""

    code = "KEYRING_UNAVAILABLE"

    def __init__(self, reason: str, name: str | None = None) -> None:
        super().__init__(
            f"The system keyring can't be used ({reason}). {keyring_help(name)}",
            details={
                "reason": reason,
                "hint": HEADLESS_HINT,
                **({"credential": name} if name else {}),
            },
        )
        self.reason = reason


class KeyringSecretStore:
    """Secrets under service ``flowdesk``, user name = credential name."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service
        self._backend: Any = None

    # ----------------------------------------------------------- backend
    def backend(self, name: str | None = None) -> Any:
        """The keyring backend; ``KeyringUnavailableError`` when none is usable."""
        if self._backend is None:
            try:
                import keyring
                from keyring.backends import fail
            except ImportError as exc:  # pragma: no cover - keyring is a dependency
                raise KeyringUnavailableError(
                    f"the keyring package is missing: {exc}", name
                ) from None
            backend = keyring.get_keyring()
            if isinstance(backend, fail.Keyring) or _only_fail(backend):
                raise KeyringUnavailableError(
                    "no keyring backend is available on this computer", name
                )
            self._backend = backend
        return self._backend

    def available(self) -> bool:
        try:
            self._call(None, lambda b: b.get_password(self.service, INDEX_USER))
        except KeyringUnavailableError:
            return False
        return True

    def _call(self, name: str | None, action: Callable[[Any], T], secret: str = "") -> T:
        backend = self.backend(name)
        try:
            return action(backend)
        except Exception as exc:  # noqa: BLE001 - every backend failure becomes one clear error
            raise KeyringUnavailableError(_reason(exc, secret), name) from None

    # ------------------------------------------------------------ secrets
    def get_secret(self, name: str) -> str | None:
        value = self._call(name, lambda b: b.get_password(self.service, name))
        return value if value else None

    def has_secret(self, name: str) -> bool:
        return self.get_secret(name) is not None

    def set_secret(self, name: str, value: str) -> None:
        if not name or name == INDEX_USER:
            raise ValueError(f"invalid credential name {name!r}")
        if not value:
            raise ValueError("the secret is empty")
        self._call(name, lambda b: b.set_password(self.service, name, value), value)
        names = self._indexed()
        if name not in names:
            self._write_index([*names, name])

    def delete_secret(self, name: str) -> bool:
        """Delete the secret (and a signed-in credential's tokens: signing out);
        False when there was neither."""
        from keyring.errors import PasswordDeleteError

        def delete(backend: Any) -> bool:
            try:
                backend.delete_password(self.service, name)
            except PasswordDeleteError:
                return False
            return True

        deleted = self._call(name, delete)
        if not is_tokens_key(name):
            deleted = (
                self._call(name, lambda b: _delete(b, self.service, tokens_key(name))) or deleted
            )
        names = self._indexed()
        if name in names or tokens_key(name) in names:
            self._write_index([n for n in names if n not in (name, tokens_key(name))])
        return deleted

    def list_names(self) -> list[str]:
        """The credential names Flowdesk stored a secret or a sign-in under, sorted."""
        names = {n[: -len(TOKENS_SUFFIX)] if is_tokens_key(n) else n for n in self._indexed()}
        return sorted(names)

    def signed_in(self, name: str) -> bool:
        """Whether tokens of a sign-in are stored for ``name``."""
        return self.get_secret(tokens_key(name)) is not None

    def _indexed(self) -> list[str]:
        """Every entry of the index (token entries included), sorted."""
        raw = self._call(None, lambda b: b.get_password(self.service, INDEX_USER))
        if not raw:
            return []
        try:
            names = json.loads(raw)
        except ValueError:
            return []
        return (
            sorted({n for n in names if isinstance(n, str) and n})
            if isinstance(names, list)
            else []
        )

    def _write_index(self, names: list[str]) -> None:
        data = json.dumps(sorted(set(names)))
        if names:
            self._call(None, lambda b: b.set_password(self.service, INDEX_USER, data))
        else:
            from keyring.errors import PasswordDeleteError

            def delete(backend: Any) -> None:
                try:
                    backend.delete_password(self.service, INDEX_USER)
                except PasswordDeleteError:
                    pass

            self._call(None, delete)


def _delete(backend: Any, service: str, user: str) -> bool:
    from keyring.errors import PasswordDeleteError

    try:
        backend.delete_password(service, user)
    except PasswordDeleteError:
        return False
    return True


def _only_fail(backend: Any) -> bool:
    """A chainer backend that has nothing but the fail backend behind it."""
    backends = getattr(backend, "backends", None)
    return backends is not None and not backends


def _reason(exc: BaseException, secret: str) -> str:
    text = str(exc).strip() or type(exc).__name__
    if secret:
        text = redact_text(text, (secret,))
    name = type(exc).__name__
    return text if name in text else f"{name}: {text}"


def default_secret_store() -> ChainSecretStore:
    """Where runs look for secrets: ``FLOWDESK_SECRET_<NAME>``, then the keyring."""
    return ChainSecretStore(EnvSecretStore(), KeyringSecretStore())
