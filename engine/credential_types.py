"""What the credential modules share, below all of them: the keyring name of a
signed-in credential's tokens (``tokens_key``), the placeholder an OAuth2
request carries until the run's token replaces it (``placeholder``), and
``RunCredentials`` — what the token cache (``oauth2_tokens``) and plug-in
resolvers (``auth_resolvers``) need of the run's
``engine.credentials.CredentialResolver``.

Here so that ``credentials`` and ``oauth2`` do not import each other
(issue 21, "No import cycles"); ``credentials`` and ``oauth2`` re-export the
names. May import: engine.model, stdlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .model.workflow import CredentialRef

#: the keyring entry of a signed-in credential's tokens is ``NAME + TOKENS_SUFFIX``
#: (a JSON object: access and refresh token, expiry); never listed as a credential
TOKENS_SUFFIX = "::oauth2_tokens"
PLACEHOLDER_PREFIX = "flowdesk-oauth2-token-for:"


def tokens_key(credential: str) -> str:
    """Where the tokens of an ``oauth2_authorization_code`` credential are stored."""
    return credential + TOKENS_SUFFIX


def is_tokens_key(name: str) -> bool:
    return name.endswith(TOKENS_SUFFIX)


def placeholder(name: str) -> str:
    """What ``http_credential`` puts in place of the token (not a secret)."""
    return PLACEHOLDER_PREFIX + name


def placeholder_name(authorization: str | None) -> str | None:
    """The credential name of a placeholder ``Authorization`` value, else None."""
    if authorization and authorization.startswith("Bearer " + PLACEHOLDER_PREFIX):
        return authorization[len("Bearer " + PLACEHOLDER_PREFIX) :]
    return None


class RunCredentials(Protocol):
    """The run's credentials as the token cache and plug-in resolvers use them
    (``engine.credentials.CredentialResolver`` is the implementation)."""

    #: every secret (and token) handed out in the run, for redaction
    used_secrets: set[str]

    def reference(self, name: str) -> CredentialRef: ...

    async def secret_async(self, name: str) -> str: ...

    async def optional_secret_async(self, name: str) -> str | None: ...

    def load_entry(self, key: str) -> str | None: ...

    def save_entry(self, key: str, value: str) -> None: ...
