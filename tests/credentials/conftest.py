"""Fixtures of the credential tests: the real Secret Service (required when
``FLOWDESK_TEST_SECRET_SERVICE=1``, i.e. under scripts/with-secret-service.sh
and in CI; skipped with a reason otherwise), unique credential names removed
afterwards, and the local OAuth2/API server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from flowdesk.engine.keyring_store import KeyringSecretStore

from .authserver import OAuthServer
from .server import AuthServer


@pytest.fixture
def keyring_store() -> Iterator[KeyringSecretStore]:
    store = KeyringSecretStore()
    if not store.available():
        if os.environ.get("FLOWDESK_TEST_SECRET_SERVICE") == "1":
            pytest.fail(
                "FLOWDESK_TEST_SECRET_SERVICE=1 but no usable keyring backend: the Secret "
                "Service of scripts/with-secret-service.sh is not working"
            )
        pytest.skip("no Secret Service: run through scripts/with-secret-service.sh")
    yield store


@pytest.fixture
def cred_name(keyring_store: KeyringSecretStore) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:10]}"
    yield name
    keyring_store.delete_secret(name)


@pytest.fixture(scope="session")
def auth_server() -> Iterator[AuthServer]:
    server = AuthServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _oauth_server() -> Iterator[OAuthServer]:
    server = OAuthServer().start()
    yield server
    server.stop()


@pytest.fixture
def oauth_server(_oauth_server: OAuthServer) -> OAuthServer:
    """The authorization server with fresh state (no codes, tokens or mail)."""
    _oauth_server.reset()
    return _oauth_server
