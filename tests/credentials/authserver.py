"""A real OAuth2 authorization server on loopback, built from authlib's server
components (Flask integration, served by werkzeug in a thread):

- ``/authorize``: authorization code grant with PKCE required (S256), the
  loopback redirect of RFC 8252 (``http://127.0.0.1:ANY_PORT/``); the
  end user consents at once (``deny`` makes it answer ``access_denied``);
- ``/token``: authorization_code and refresh_token grants; refresh tokens
  rotate (a new one on every refresh, the old one revoked); public clients
  (no secret) and confidential ones (``client_secret_post`` / ``_basic``);
- ``/revoke``: RFC 7009 revocation;
- ``/gmail/v1/users/me/messages/send`` and ``/v1.0/me/sendMail``: shaped after
  the Gmail API and Microsoft Graph send endpoints, protected by the bearer
  tokens this server issued (a stale or revoked token gets 401).

Counters let tests see token requests, refreshes and API calls.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, jsonify, redirect, request
from werkzeug.serving import make_server

PUBLIC_CLIENT = "flowdesk-desktop"
CONFIDENTIAL_CLIENT = "flowdesk-confidential"
CLIENT_SECRET = "client-secret-9Z+/="
SCOPE = "mail.send"
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


@dataclass
class Client:
    client_id: str
    secret: str | None

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return "http://127.0.0.1/"

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in (SCOPE, "offline"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # RFC 8252 §7.3: any port on the loopback address
        parts = urlsplit(redirect_uri)
        return parts.scheme == "http" and parts.hostname == "127.0.0.1" and parts.path == "/"

    def check_client_secret(self, client_secret: str) -> bool:
        return self.secret is not None and client_secret == self.secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.secret is None:
            return method == "none"
        return method in ("client_secret_post", "client_secret_basic")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Token:
    client_id: str
    access_token: str
    refresh_token: str | None
    scope: str
    issued_at: float
    expires_in: int
    revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() > self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> str:
        return "alice"

    def get_client(self) -> Client:
        return CLIENTS[self.client_id]


CLIENTS = {
    PUBLIC_CLIENT: Client(PUBLIC_CLIENT, None),
    CONFIDENTIAL_CLIENT: Client(CONFIDENTIAL_CLIENT, CLIENT_SECRET),
}


@dataclass
class State:
    codes: dict[str, Code] = field(default_factory=dict)
    tokens: list[Token] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    refreshes: int = 0
    ttl: int = 3600
    deny: bool = False
    gmail: list[dict[str, Any]] = field(default_factory=list)
    graph: list[dict[str, Any]] = field(default_factory=list)
    api_401: int = 0

    def by_access(self, value: str) -> Token | None:
        return next((t for t in self.tokens if t.access_token == value), None)

    def by_refresh(self, value: str) -> Token | None:
        return next((t for t in self.tokens if t.refresh_token == value), None)

    def revoke_all(self) -> None:
        for token in self.tokens:
            token.revoked = True

    def expire_access_tokens(self) -> None:
        for token in self.tokens:
            token.expires_in = -1


class OAuthServer:
    def __init__(self) -> None:
        self.state = State()
        self.app = self._build()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> OAuthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)

    def reset(self) -> None:
        self.state.__init__()  # type: ignore[misc]

    def credential(self, client_id: str = PUBLIC_CLIENT, **extra: Any) -> dict[str, Any]:
        return {
            "type": "oauth2_authorization_code",
            "authorize_url": f"{self.url}/authorize",
            "token_url": f"{self.url}/token",
            "client_id": client_id,
            "scopes": [SCOPE],
            **extra,
        }

    # ------------------------------------------------------------------ app
    def _build(self) -> Flask:
        app = Flask("flowdesk-test-oauth")
        outer = self

        def save_token(token: dict[str, Any], req: Any) -> None:
            outer.state.tokens.append(
                Token(
                    client_id=req.client.client_id,
                    access_token=token["access_token"],
                    refresh_token=token.get("refresh_token"),
                    scope=token.get("scope", ""),
                    issued_at=time.time(),
                    expires_in=int(token.get("expires_in", 0)),
                )
            )

        server = AuthorizationServer(app, query_client=CLIENTS.get, save_token=save_token)
        server.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: f"at-{uuid.uuid4().hex}",
                refresh_token_generator=lambda **_: f"rt-{uuid.uuid4().hex}",
                expires_generator=lambda client, grant_type: outer.state.ttl,
            ),
        )

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

            def save_authorization_code(self, code: str, req: Any) -> None:
                outer.state.codes[code] = Code(
                    code,
                    req.client.client_id,
                    req.payload.redirect_uri,
                    req.scope,
                    req.payload.data.get("code_challenge"),
                    req.payload.data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code: str, client: Client) -> Code | None:
                item = outer.state.codes.get(code)
                return item if item and item.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code: Code) -> None:
                outer.state.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: Code) -> str:
                return "alice"

        class RefreshGrant(grants.RefreshTokenGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
            INCLUDE_NEW_REFRESH_TOKEN = True  # rotation

            def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
                token = outer.state.by_refresh(refresh_token)
                return token if token and not token.revoked else None

            def authenticate_user(self, credential: Token) -> str:
                return "alice"

            def revoke_old_credential(self, credential: Token) -> None:
                credential.revoked = True
                outer.state.refreshes += 1

        class Revocation(RevocationEndpoint):
            CLIENT_AUTH_METHODS = AUTH_METHODS

            def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
                return outer.state.by_refresh(token_string) or outer.state.by_access(token_string)

            def revoke_token(self, token: Token, req: Any) -> None:
                token.revoked = True

        server.register_grant(CodeGrant, [CodeChallenge(required=True)])
        server.register_grant(RefreshGrant)
        server.register_endpoint(Revocation)

        @app.get("/authorize")
        def authorize() -> Any:
            if outer.state.deny:
                target = request.args["redirect_uri"]
                return redirect(
                    f"{target}?error=access_denied&error_description=the+user+said+no"
                    f"&state={request.args.get('state', '')}"
                )
            return server.create_authorization_response(grant_user="alice")

        @app.post("/token")
        def token() -> Any:
            outer.state.token_requests.append(dict(request.form))
            return server.create_token_response()

        @app.post("/revoke")
        def revoke() -> Any:
            return server.create_endpoint_response("revocation")

        def bearer_ok() -> bool:
            header = request.headers.get("Authorization", "")
            token = outer.state.by_access(header[7:]) if header.startswith("Bearer ") else None
            if token is None or token.revoked or token.is_expired():
                outer.state.api_401 += 1
                return False
            return True

        @app.post("/gmail/v1/users/me/messages/send")
        def gmail_send() -> Any:
            # https://developers.google.com/gmail/api/reference/rest/v1/users.messages/send
            if not bearer_ok():
                return jsonify({"error": {"code": 401, "status": "UNAUTHENTICATED"}}), 401
            body = request.get_json(force=True)
            if request.mimetype != "application/json" or set(body) - {"raw", "threadId"}:
                return jsonify({"error": {"code": 400, "message": "bad request shape"}}), 400
            raw = base64.urlsafe_b64decode(body["raw"] + "=" * (-len(body["raw"]) % 4))
            message = message_from_bytes(raw, policy=policy.default)
            entry = {"raw": raw, "message": message, "id": uuid.uuid4().hex[:16]}
            outer.state.gmail.append(entry)
            return jsonify({"id": entry["id"], "threadId": entry["id"], "labelIds": ["SENT"]})

        @app.post("/v1.0/me/sendMail")
        def graph_send() -> Any:
            # https://learn.microsoft.com/graph/api/user-sendmail (MIME format:
            # Content-Type text/plain, the base64 MIME message as the body)
            if not bearer_ok():
                return jsonify({"error": {"code": "InvalidAuthenticationToken"}}), 401
            if request.mimetype != "text/plain":
                return jsonify({"error": {"code": "ErrorMimeContentInvalid"}}), 400
            raw = base64.b64decode(request.get_data(), validate=True)
            message = message_from_bytes(raw, policy=policy.default)
            outer.state.graph.append(
                {"raw": raw, "message": message, "headers": dict(request.headers)}
            )
            return "", 202

        @app.get("/api/me")
        def me() -> Any:
            if not bearer_ok():
                return jsonify({"error": "invalid_token"}), 401
            return jsonify({"user": "alice"})

        return app
