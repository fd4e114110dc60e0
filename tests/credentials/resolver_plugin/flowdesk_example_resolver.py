"""An example auth resolver plug-in (the ``flowdesk.auth_resolvers`` group).

Credential in a workflow::

    "signer": {"type": "custom", "resolver": "hmac_signer",
               "options": {"key_id": "team-a", "expires_in": 0}}

with the shared key as the credential's secret (``flowdesk credentials set
signer`` or ``FLOWDESK_SECRET_SIGNER``). Each request gets ``X-Key-Id``,
``X-Timestamp`` and ``X-Signature`` = hex HMAC-SHA256 of "METHOD URL
TIMESTAMP" under the key. ``expires_in`` (seconds) lets Flowdesk reuse the
headers; 0 signs every request.

A packaged plug-in declares it in its pyproject.toml::

    [project.entry-points."flowdesk.auth_resolvers"]
    hmac_signer = "flowdesk_example_resolver:HmacSigner"
"""

from __future__ import annotations

import hashlib
import hmac
import time

from flowdesk.engine.auth_resolvers import AuthRequest, AuthResult

CALLS: list[str] = []


class HmacSigner:
    async def resolve(self, request: AuthRequest) -> AuthResult:
        key = await request.secret()
        if not key:
            raise RuntimeError("no signing key stored")
        CALLS.append(request.url)
        stamp = str(int(time.time()))
        text = f"{request.method} {request.url} {stamp}"
        signature = hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()
        return AuthResult(
            headers={
                "X-Key-Id": str(request.options.get("key_id", "")),
                "X-Timestamp": stamp,
                "X-Signature": signature,
            },
            expires_in=float(request.options.get("expires_in", 0)),
        )
