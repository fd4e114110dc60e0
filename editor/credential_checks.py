"""What the Credentials dialog does off the UI thread: Test (one GET to a URL
the user gives with the credential applied; without a URL a simple check —
an OAuth2 credential fetches an access token, any other finds its secret) and
Sign in for ``oauth2_authorization_code`` credentials (the browser opens on
the provider's page; ``engine.oauth2_login`` waits for the answer in a worker
thread and the tokens go to the store).

``CheckMixin`` is mixed into ``CredentialsDialog``: it uses its ``references``,
``store``, ``env``, ``status``, ``test_button`` and ``_update_buttons``.
May import: PySide6, engine (public API and credential modules).
"""

from __future__ import annotations

import asyncio
import html
import threading
from typing import Any

from flowdesk.engine import (
    BearerCredential,
    ChainSecretStore,
    CredentialResolver,
    FlowdeskError,
    OAuth2AuthorizationCode,
    tokens_key,
)
from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices


class Relay(QObject):
    """Carries a finished test or sign-in from the worker thread to the UI thread."""

    finished = Signal(str, str)  # credential name, message
    #: a sign-in's authorization URL, to open in the browser (credential name, URL)
    sign_in_url = Signal(str, str)
    #: a sign-in ended (credential name, message, signed in?)
    sign_in_done = Signal(str, str, bool)


def _emit(signal: Any, *args: Any) -> None:
    try:
        signal.emit(*args)
    except RuntimeError:  # the dialog was closed meanwhile
        pass


async def check(resolver: CredentialResolver, name: str, url: str) -> str:
    """The message of one Test: a GET to ``url``, or without one a simple check."""
    if url:
        from flowdesk.engine import probe_credential

        shown = url.split("?", 1)[0]
        status = await probe_credential(resolver, name, url)
        return f"GET {shown}: HTTP {status}" + ("" if 200 <= status <= 299 else " (failed)")
    ref = resolver.reference(name)
    kind = getattr(ref, "type", "")
    if kind.startswith("oauth2_"):
        import httpx

        async with httpx.AsyncClient(timeout=15.0) as client:
            await resolver.oauth2.token(name, client)
        where = getattr(ref, "token_url", None) or "the provider"
        return f"✓ Got an access token for {name!r} from {where}."
    if kind == "custom":
        return "Enter a URL to test a plug-in credential against."
    await resolver.secret_async(name)
    return f"✓ A secret is stored for {name!r}. Enter a URL to try it against a server as well."


class CheckMixin:
    references: Any
    store: Any
    env: Any
    status: Any
    test_button: Any
    _relay: Relay
    _signing_in: str | None
    _threads: list[threading.Thread]

    def _update_buttons(self) -> None: ...
    def refresh(self) -> None: ...
    def select(self, name: str) -> None: ...
    def selected_name(self) -> str | None: ...

    def _start_checks(self) -> None:
        self._relay = Relay(self)  # type: ignore[arg-type]
        self._relay.finished.connect(self._test_done)
        self._relay.sign_in_url.connect(self._sign_in_url)
        self._relay.sign_in_done.connect(self._sign_in_done)
        self._signing_in = None
        self._threads = []

    def _resolver(self, name: str) -> CredentialResolver:
        references = dict(self.references)
        if name not in references:
            references[name] = BearerCredential(type="bearer")
        return CredentialResolver(references, ChainSecretStore(self.env, self.store))

    def start_test(self, name: str, url: str) -> None:
        """One Test in a worker thread; the result lands in ``status``."""
        resolver = self._resolver(name)
        self.test_button.setEnabled(False)
        shown = url.split("?", 1)[0]
        self.status.setText(f"Testing {name!r} against {shown}…" if url else f"Checking {name!r}…")
        relay = self._relay

        def work() -> None:
            try:
                message = asyncio.run(check(resolver, name, url))
            except FlowdeskError as error:
                message = f"Failed: {error.message}"
            except Exception as exc:  # noqa: BLE001 - shown to the user, never a crash
                message = f"Failed: {type(exc).__name__}"
            _emit(relay.finished, name, message)

        thread = threading.Thread(target=work, name="credential-test", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _test_done(self, name: str, message: str) -> None:
        self.status.setText(message)
        self._update_buttons()
        self.test_finished.emit(name, message)  # type: ignore[attr-defined]

    # ----------------------------------------------------------- sign in
    def open_url(self, url: str) -> None:
        """Open the sign-in page in the browser. Replaced in tests."""
        QDesktopServices.openUrl(QUrl(url))

    def sign_in_selected(self) -> None:
        name = self.selected_name()
        if name is not None:
            self.start_sign_in(name)

    def start_sign_in(self, name: str) -> None:
        """Sign in ``name`` in a worker thread: the browser opens on the
        provider's page; the tokens are stored when the answer arrives."""
        from flowdesk.engine import sign_in_oauth2

        ref = self.references.get(name)
        if not isinstance(ref, OAuth2AuthorizationCode) or self._signing_in is not None:
            return
        self._signing_in = name
        self._update_buttons()
        self.status.setText(f"Opening the sign-in page for {name!r} in your browser…")
        resolver = CredentialResolver({name: ref}, ChainSecretStore(self.env, self.store))
        store = self.store
        relay = self._relay

        def work() -> None:
            async def go() -> Any:
                secret = await resolver.optional_secret_async(name)
                return await sign_in_oauth2(
                    name, ref, secret, lambda url: _emit(relay.sign_in_url, name, url)
                )

            try:
                record = asyncio.run(go())
                store.set_secret(tokens_key(name), record.to_json())
                _emit(relay.sign_in_done, name, f"Signed in {name!r}.", True)
            except FlowdeskError as error:
                _emit(relay.sign_in_done, name, f"Not signed in: {error.message}", False)
            except Exception as exc:  # noqa: BLE001 - shown to the user, never a crash
                _emit(relay.sign_in_done, name, f"Not signed in: {type(exc).__name__}", False)

        thread = threading.Thread(target=work, name="credential-sign-in", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _sign_in_url(self, name: str, url: str) -> None:
        self.status.setText(
            f"Waiting for the sign-in of {html.escape(name)!r} in your browser. If it did "
            f'not open, <a href="{html.escape(url, quote=True)}">open the sign-in page</a>.'
        )
        self.open_url(url)

    def _sign_in_done(self, name: str, message: str, ok: bool) -> None:
        self._signing_in = None
        self.status.setText(message)
        self.refresh()
        self.select(name)
        if ok:
            self.secrets_changed.emit()  # type: ignore[attr-defined]
        self.sign_in_finished.emit(name, message, ok)  # type: ignore[attr-defined]
