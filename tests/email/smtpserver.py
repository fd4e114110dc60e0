"""A real SMTP server for the tests: aiosmtpd in a thread, STARTTLS required
(a certificate from a throwaway trustme CA) and AUTH (PLAIN/LOGIN) after TLS.
``drop_after_data`` makes it close the connection after receiving a message
but before answering (the message *was* received: a client that retries
would deliver it twice)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.helpers import free_port

USER = "robot@example.com"
PASSWORD = "smtp-pass-3+/=Q"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool
    user: str | None


@dataclass
class Handler:
    messages: list[Received] = field(default_factory=list)
    drop_after_data: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message,  # type: ignore[arg-type]
                session.ssl is not None,
                session.auth_data.login.decode() if session.authenticated else None,
            )
        )
        if self.drop_after_data:
            self.drop_after_data -= 1
            server.transport.close()
        return "250 OK queued"

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == USER
        and auth_data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


class SmtpServer:
    def __init__(self, folder: Path) -> None:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self.ca_file = folder / "test-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        self.handler = Handler()
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=free_port(),
            tls_context=context,
            require_starttls=True,
            authenticator=_authenticate,
            auth_require_tls=True,
        )

    def start(self) -> SmtpServer:
        self.controller.start()
        self.port = self.controller.port
        return self

    def stop(self) -> None:
        self.controller.stop()

    def reset(self) -> None:
        self.handler.messages.clear()
        self.handler.drop_after_data = 0
