"""Signing in with OAuth2 authorization code + PKCE (RFC 6749 §4.1, RFC 7636,
RFC 8252 for desktop apps), and refreshing the signed-in tokens.

``login`` opens a loopback listener on ``127.0.0.1`` with a random port (the
redirect URI), builds the authorization URL with a random ``state`` and a PKCE
S256 challenge, hands it to ``announce`` (opens the browser, or prints it for
``--no-browser``), waits for the redirect (``timeout_s``), checks ``state``,
exchanges the code (with the verifier) at the token endpoint, answers the
browser with a short page, and returns the ``TokenRecord`` to keep in the
keyring. ``refresh`` trades the refresh token for a new access token (and a
rotated refresh token when the server sends one).

The protocol — authorization URL, PKCE challenge, token requests and their
error responses — is authlib's (``AsyncOAuth2Client`` over httpx); this module
only listens, stores and turns failures into located ``AUTH`` errors that never
contain a secret. ``PRESETS`` hold Google's and Microsoft's endpoints and the
scopes for sending mail.
May import: authlib, aiohttp, httpx, engine.credentials, engine.errors,
engine.model, stdlib.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import json
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .errors import AuthError, ConfigError, FlowdeskError, NodeTimeoutError, TransportError
from .model.workflow import OAuth2AuthorizationCode
from .redaction import redact_text

if TYPE_CHECKING:
    from aiohttp import web

LOGIN_TIMEOUT_S = 300.0
TOKEN_TIMEOUT_S = 30.0
#: the redirect is the root of the loopback listener: Google documents
#: ``http://127.0.0.1:PORT`` for desktop apps, and Microsoft matches the path
#: of a registered ``http://127.0.0.1`` exactly (the port is free on loopback)
CALLBACK_PATH = "/"


@dataclass(frozen=True, slots=True)
class Preset:
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    authorize_params: tuple[tuple[str, str], ...] = ()


PRESETS: dict[str, Preset] = {
    # https://developers.google.com/identity/protocols/oauth2/native-app
    "google": Preset(
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        scopes=("https://www.googleapis.com/auth/gmail.send",),
        # a refresh token is handed out only with access_type=offline
        authorize_params=(("access_type", "offline"), ("prompt", "consent")),
    ),
    # https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
    "microsoft": Preset(
        authorize_url="https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        token_url="https://login.microsoftonline.com/common/oauth2/v2.0/token",
        scopes=("offline_access", "https://graph.microsoft.com/Mail.Send"),
    ),
}


@dataclass(frozen=True, slots=True)
class Endpoints:
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    authorize_params: dict[str, str]


def endpoints(ref: OAuth2AuthorizationCode) -> Endpoints:
    """The credential's URLs, scopes and authorize parameters (preset filled in)."""
    preset = PRESETS.get(ref.preset) if ref.preset else None
    params = dict(preset.authorize_params) if preset else {}
    params.update(ref.authorize_params)
    if ref.audience:
        params["audience"] = ref.audience
    authorize_url = ref.authorize_url or (preset.authorize_url if preset else "")
    token_url = ref.token_url or (preset.token_url if preset else "")
    scopes = tuple(ref.scopes) if ref.scopes is not None else (preset.scopes if preset else ())
    return Endpoints(authorize_url, token_url, scopes, params)


@dataclass(slots=True)
class TokenRecord:
    """What the keyring keeps for a signed-in credential (one JSON entry)."""

    access_token: str
    refresh_token: str | None
    expires_at: float | None  # seconds since the epoch; None: no expiry announced
    scope: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TokenRecord | None:
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            return None
        expires = data.get("expires_at")
        return cls(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token") or None,
            expires_at=float(expires) if isinstance(expires, int | float) else None,
            scope=data.get("scope") if isinstance(data.get("scope"), str) else None,
        )

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.access_token, self.refresh_token) if s)

    def fresh(self, margin_s: float, now: float | None = None) -> bool:
        if self.expires_at is None:
            return True
        return (now if now is not None else time.time()) < self.expires_at - margin_s


def _record(token: dict[str, Any], previous_refresh: str | None = None) -> TokenRecord:
    access = token.get("access_token")
    if not isinstance(access, str) or not access:
        raise AuthError(
            "the token endpoint answered without an access_token",
            code="OAUTH2_LOGIN_FAILED",
        )
    expires_at = token.get("expires_at")
    if not isinstance(expires_at, int | float):
        expires_in = token.get("expires_in")
        expires_at = (
            time.time() + float(expires_in) if isinstance(expires_in, int | float) else None
        )
    refresh = token.get("refresh_token")
    return TokenRecord(
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) and refresh else previous_refresh,
        expires_at=float(expires_at) if expires_at is not None else None,
        scope=token.get("scope") if isinstance(token.get("scope"), str) else None,
    )


def sign_in_hint(name: str) -> str:
    return (
        f"sign in again: 'flowdesk credentials login {name}', or Sign in in the "
        "Credentials dialog (the failed node's 'Sign in again' action)"
    )


def _oauth_client(ref: OAuth2AuthorizationCode, client_secret: str | None, **kw: Any) -> Any:
    """authlib's ``AsyncOAuth2Client`` for the credential (a fresh httpx client)."""
    import authlib.deprecate  # noqa: F401 - its 'always' filter first, ours above it

    with warnings.catch_warnings():
        # authlib prefers the httpx2 package and warns when it falls back to httpx
        warnings.simplefilter("ignore", DeprecationWarning)
        from authlib.integrations.httpx_client import AsyncOAuth2Client

    scopes = endpoints(ref).scopes
    return AsyncOAuth2Client(
        client_id=ref.client_id,
        client_secret=client_secret,
        scope=" ".join(scopes) if scopes else None,
        code_challenge_method="S256",
        # a public client (no secret) sends its id in the form; a confidential
        # one authenticates in the form too (Google and Microsoft accept it)
        token_endpoint_auth_method="client_secret_post" if client_secret else "none",
        timeout=TOKEN_TIMEOUT_S,
        trust_env=False,
        **kw,
    )


def _token_error(
    name: str, exc: BaseException, what: str, secrets: tuple[str, ...]
) -> FlowdeskError:
    """authlib / httpx failures as located Flowdesk errors (secrets stripped)."""
    import httpx

    try:
        from authlib.integrations.base_client import OAuthError
    except ImportError:  # pragma: no cover - authlib is a dependency
        OAuthError = ()  # type: ignore[assignment]  # noqa: N806

    def clean(text: str) -> str:
        return redact_text(text, secrets)

    if isinstance(exc, OAuthError):
        error = str(getattr(exc, "error", "") or "error")
        said = clean(f"{error}: {exc.description}" if getattr(exc, "description", None) else error)
        if error in ("invalid_grant", "invalid_token", "unauthorized_client"):
            return AuthError(
                f"credential {name!r}: the sign-in has expired or was revoked ({said}): "
                + sign_in_hint(name),
                code="OAUTH2_SIGN_IN_REQUIRED",
                details={"credential": name, "error": error, "action": "sign_in"},
            )
        return AuthError(
            f"credential {name!r}: the token endpoint refused the {what} ({said})",
            code="OAUTH2_LOGIN_FAILED",
            details={"credential": name, "error": error},
        )
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return TransportError(
            f"credential {name!r}: the token endpoint failed the {what} (HTTP {status})",
            code="OAUTH2_TOKEN_UNREACHABLE",
            retryable=True,
            details={"credential": name, "status": status},
        )
    if isinstance(exc, httpx.TimeoutException):
        return TransportError(
            f"credential {name!r}: the token endpoint did not answer within {TOKEN_TIMEOUT_S:g} s",
            code="OAUTH2_TOKEN_UNREACHABLE",
            details={"credential": name},
        )
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return ConfigError(
            f"credential {name!r}: token_url: {clean(str(exc))}",
            details={"credential": name, "field": "token_url"},
        )
    if isinstance(exc, httpx.HTTPError):
        return TransportError(
            f"credential {name!r}: the token endpoint could not be reached ({type(exc).__name__})",
            code="OAUTH2_TOKEN_UNREACHABLE",
            details={"credential": name},
        )
    return AuthError(
        f"credential {name!r}: the {what} failed ({type(exc).__name__}: {clean(str(exc))[:200]})",
        code="OAUTH2_LOGIN_FAILED",
        details={"credential": name},
    )


async def refresh(
    name: str, ref: OAuth2AuthorizationCode, record: TokenRecord, client_secret: str | None
) -> TokenRecord:
    """A new access token for ``record``'s refresh token (rotated one kept)."""
    if not record.refresh_token:
        raise AuthError(
            f"credential {name!r}: the access token expired and the sign-in has no "
            "refresh token: " + sign_in_hint(name),
            code="OAUTH2_SIGN_IN_REQUIRED",
            details={"credential": name, "action": "sign_in"},
        )
    token_url = endpoints(ref).token_url
    secrets = (*record.secrets(), client_secret or "")
    client = _oauth_client(ref, client_secret)
    try:
        token = await client.refresh_token(token_url, refresh_token=record.refresh_token)
    except Exception as exc:
        raise _token_error(name, exc, "token refresh", secrets) from exc
    finally:
        await client.aclose()
    return _record(dict(token), previous_refresh=record.refresh_token)


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Flowdesk</title><style>body{{font-family:system-ui,sans-serif;margin:15vh auto;
max-width:32em;color:#222;text-align:center}}h1{{font-size:1.4em}}</style></head>
<body><h1>{title}</h1><p>{text}</p></body></html>"""


def _page(title: str, text: str, status: int = 200) -> web.Response:
    from aiohttp import web

    body = _PAGE.format(title=html.escape(title), text=html.escape(text))
    return web.Response(
        text=body, status=status, content_type="text/html", headers={"Cache-Control": "no-store"}
    )


async def login(
    name: str,
    ref: OAuth2AuthorizationCode,
    client_secret: str | None,
    announce: Callable[[str], Awaitable[None] | None],
    *,
    timeout_s: float = LOGIN_TIMEOUT_S,
    host: str = "127.0.0.1",
) -> TokenRecord:
    """Sign in: the loopback redirect, ``state`` and PKCE checked, the code exchanged."""
    from aiohttp import web
    from authlib.common.security import generate_token

    ends = endpoints(ref)
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[TokenRecord] = loop.create_future()
    state = generate_token(32)
    verifier = generate_token(64)  # 43-128 characters (RFC 7636 §4.1)
    redirect_uri = ""
    client: Any = None

    async def callback(request: web.Request) -> web.StreamResponse:
        query = request.query
        if outcome.done():
            return _page("Already done", "You can close this tab.", 409)
        if query.get("state") != state:
            # not our authorization request (or a forged one): refuse, keep waiting
            return _page(
                "Sign-in refused",
                "This answer does not belong to the sign-in Flowdesk started "
                "(state mismatch). Start the sign-in again from Flowdesk.",
                400,
            )
        if "error" in query:
            said = query["error"]
            if query.get("error_description"):
                said += f": {query['error_description']}"
            outcome.set_exception(
                AuthError(
                    f"credential {name!r}: the sign-in was refused ({said[:300]})",
                    code="OAUTH2_LOGIN_FAILED",
                    details={"credential": name, "error": query["error"]},
                )
            )
            return _page("Sign-in refused", f"Flowdesk was not signed in: {said[:300]}", 400)
        code = query.get("code")
        if not code:
            return _page("Sign-in failed", "The answer carries no authorization code.", 400)
        try:
            token = await client.fetch_token(
                ends.token_url, code=code, code_verifier=verifier, redirect_uri=redirect_uri
            )
            record = _record(dict(token))
        except Exception as exc:  # noqa: BLE001 - shown to the user, located
            error = (
                exc
                if isinstance(exc, FlowdeskError)
                else _token_error(name, exc, "sign-in", (client_secret or "", code, verifier))
            )
            if not outcome.done():
                outcome.set_exception(error)
            return _page("Sign-in failed", error.message, 400)
        if not outcome.done():
            outcome.set_result(record)
        return _page(
            "Signed in", f"Flowdesk is signed in for “{name}”. You can close this tab now."
        )

    app = web.Application()
    app.router.add_get(CALLBACK_PATH, callback)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, 0)
        await site.start()
        port = runner.addresses[0][1]  # (the port the system chose)
        redirect_uri = f"http://{host}:{port}{CALLBACK_PATH}"
        client = _oauth_client(ref, client_secret, redirect_uri=redirect_uri)
        if not ends.authorize_url.startswith(("https://", "http://")):
            raise ConfigError(
                f"credential {name!r}: authorize_url must be an http(s) URL",
                details={"credential": name, "field": "authorize_url"},
            )
        url, _ = client.create_authorization_url(
            ends.authorize_url, state=state, code_verifier=verifier, **ends.authorize_params
        )
        shown = announce(url)
        if inspect.isawaitable(shown):
            await shown
        try:
            return await asyncio.wait_for(asyncio.shield(outcome), timeout_s)
        except TimeoutError:
            raise NodeTimeoutError(
                f"credential {name!r}: no sign-in arrived within {timeout_s:g} s; start it again",
                code="OAUTH2_LOGIN_TIMEOUT",
                retryable=False,
                details={"credential": name},
            ) from None
    finally:
        if client is not None:
            await client.aclose()
        await asyncio.sleep(0.05)  # let the browser receive the page
        await runner.cleanup()
