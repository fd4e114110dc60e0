"""``email.send``: one message over SMTP (aiosmtplib), sent exactly once.

Security ``starttls`` (port 587 by default), ``tls`` (465) or ``none`` (25);
the server's certificate is checked against the system's trusted CAs
(``SSL_CERT_FILE`` adds one). A ``basic`` credential logs in (AUTH). Every
address is checked before connecting (``INVALID_PARAMS``). The send runs under
the idempotency ledger (``engine.idempotency``): a retry — or another run with
the same ``client_request_id`` within 15 minutes — returns the first result
with ``"deduplicated": true`` instead of sending again; a connection dropped
after the message data counts as sent (never twice, at the price of a rare
lost message, which the result marks ``"uncertain": true``).

Errors: refused login → ``AUTH`` (``SMTP_AUTH_FAILED``); server unreachable,
dropped or slow → ``TRANSPORT`` (``SMTP_UNREACHABLE``, retryable); a 5xx reply
→ ``SMTP_REJECTED`` (not retried), a 4xx one retryable.
May import: aiosmtplib, pydantic, engine.context, engine.credentials,
engine.errors, engine.idempotency, engine.mail, engine.nodes.spec, stdlib.
"""

from __future__ import annotations

import ssl
from typing import Any, Literal

from pydantic import Field

from ...context import NodeContext
from ...credentials import redact_error
from ...errors import AuthError, ExecutionError, FlowdeskError, TransportError
from ...idempotency import MaybeDelivered
from ...mail import MessageFields, Prepared, idempotency_key, ledger, prepare
from ...model.workflow import BasicCredential
from ..spec import NodeType, Port

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class EmailSendConfig(MessageFields):
    host: str = Field(
        ...,
        min_length=1,
        description="SMTP server",
        json_schema_extra={"placeholder": "smtp.example.com"},
    )
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Port (default 587 for starttls, 465 for tls, 25 for none)",
    )
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls",
        description="starttls (upgrade after connecting), tls (TLS from the start) or none",
    )
    credential: str | None = Field(
        None,
        description="A basic credential (user name and password) to log in with",
        json_schema_extra={"widget": "credential"},
    )
    timeout_s: float = Field(60.0, gt=0, description="Time limit of each SMTP step, in seconds")


class EmailSend(NodeType):
    type_name = "email.send"
    default_retry = "network"  # new nodes retry transient failures (runtime contract)
    title = "Send e-mail (SMTP)"
    category = "Email"
    description = (
        "Send one e-mail over SMTP and output {message_id, accepted, rejected, "
        "deduplicated}. Sent at most once per idempotency key (client_request_id, or "
        "run + node + item): a retry never sends twice."
    )
    icon = "mail"
    inputs = (Port("in", "Available to expressions as `input`"),)
    outputs = (Port("out", "{message_id, accepted, rejected, deduplicated}"),)
    Config = EmailSendConfig
    deterministic = False
    credential_kinds = ("basic",)

    async def execute(self, ctx: NodeContext, config: EmailSendConfig) -> Any:
        prepared = prepare(config, sender_required=True)  # INVALID_PARAMS before connecting
        login: tuple[str, str] | None = None
        secrets: tuple[str, ...] = ()
        if config.credential:
            resolver = ctx.services.credentials
            ref = resolver.reference(config.credential)
            password = await resolver.secret_async(config.credential)
            username = ref.username if isinstance(ref, BasicCredential) else ""
            login, secrets = (username, password), (password,)
        key = idempotency_key(ctx, self.type_name, config)
        lease = config.timeout_s * 6 + 30  # connect, hello, tls, auth, envelope, data
        try:
            return await ledger().once(key, lambda: _send(config, prepared, login), lease_s=lease)
        except FlowdeskError as error:
            raise redact_error(error, secrets) from error


async def _send(
    config: EmailSendConfig, prepared: Prepared, login: tuple[str, str] | None
) -> dict[str, Any]:
    import aiosmtplib

    port = config.port or DEFAULT_PORTS[config.security]
    where = f"the SMTP server {config.host}:{port}"
    context = ssl.create_default_context() if config.security != "none" else None
    smtp = aiosmtplib.SMTP(
        hostname=config.host,
        port=port,
        use_tls=config.security == "tls",
        start_tls=config.security == "starttls",
        tls_context=context,
        timeout=config.timeout_s,
    )
    details = {"host": config.host, "port": port}
    stage = "connecting"
    try:
        await smtp.connect()
        if login is not None:
            stage = "logging in"
            await smtp.login(*login)
        stage = "sending the envelope"
        await smtp.mail(prepared.sender or "")
        accepted: list[str] = []
        rejected: list[str] = []
        for recipient in prepared.recipients:
            try:
                await smtp.rcpt(recipient)
                accepted.append(recipient)
            except aiosmtplib.SMTPRecipientRefused:
                rejected.append(recipient)
        if not accepted:
            raise ExecutionError(
                f"{where} refused every recipient ({', '.join(rejected)})",
                code="SMTP_REJECTED",
                details={**details, "rejected": rejected},
            )
        stage = "sending the message"
        result = {"message_id": prepared.message_id, "accepted": accepted, "rejected": rejected}
        try:
            await smtp.data(prepared.as_bytes())
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
            error = TransportError(
                f"{where}: the connection was lost after the message was handed over "
                f"({type(exc).__name__}); it may have been delivered, so it is not sent again",
                code="SMTP_UNREACHABLE",
                details=details,
            )
            raise MaybeDelivered(error, result) from exc
        return result
    except MaybeDelivered:
        raise
    except FlowdeskError:
        raise
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise AuthError(
            f"{where} refused the login ({exc.code} {exc.message[:200]})",
            code="SMTP_AUTH_FAILED",
            details={**details, "reply": exc.code},
        ) from exc
    except aiosmtplib.SMTPResponseException as exc:
        temporary = 400 <= exc.code < 500
        cls = TransportError if temporary else ExecutionError
        raise cls(
            f"{where} refused while {stage}: {exc.code} {exc.message[:200]}",
            code="SMTP_REJECTED",
            retryable=temporary,
            details={**details, "reply": exc.code},
        ) from exc
    except aiosmtplib.SMTPNotSupported as exc:
        raise ExecutionError(
            f"{where} while {stage}: {exc} (check 'security' and 'port')",
            code="SMTP_REJECTED",
            details=details,
        ) from exc
    except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
        said = str(exc)[:200] or type(exc).__name__
        raise TransportError(
            f"{where} failed while {stage}: {said}",
            code="SMTP_UNREACHABLE",
            details=details,
        ) from exc
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
