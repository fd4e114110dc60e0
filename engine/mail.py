"""What the e-mail node types share: the message fields of their config,
address checks (``INVALID_PARAMS`` naming the bad address, before anything
connects), the MIME message (text and/or HTML, attachments given as base64),
and the idempotency key of a send (``engine.idempotency``).
May import: pydantic, engine.errors, engine.idempotency, stdlib.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from email.message import EmailMessage
from email.utils import formataddr, getaddresses, make_msgid, parseaddr
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from .errors import InvalidParamsError

if TYPE_CHECKING:
    from .context import NodeContext

#: uuid5 namespace of default idempotency keys (run, node, item)
_KEY_NAMESPACE = uuid.UUID("1d6f3c2a-5a3e-4f7b-9f55-7c1e0b7e2a40")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
#: a single address field may hold several addresses separated by commas
Addresses = str | list[str]


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str = Field(min_length=1, description="File name shown to the recipient")
    mime_type: str = Field(
        "application/octet-stream", description="Content type, e.g. application/pdf"
    )
    content_base64: str = Field(description="The file's bytes, base64-encoded")


class MessageFields(BaseModel):
    """The message part of every e-mail node's config."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    from_: str | None = Field(
        None,
        alias="from",
        description="Sender: an address, optionally with a display name",
        json_schema_extra={"placeholder": "Flowdesk <robot@example.com>"},
    )
    to: Addresses = Field(
        default_factory=list, description="Recipients: a list, or addresses separated by commas"
    )
    cc: Addresses = Field(default_factory=list, description="Copy recipients")
    bcc: Addresses = Field(
        default_factory=list, description="Hidden recipients (never in the headers)"
    )
    reply_to: Addresses = Field(default_factory=list, description="Reply-To addresses")
    subject: str = Field("", description="Subject line")
    text: str | None = Field(
        None, description="Plain-text body", json_schema_extra={"widget": "multiline"}
    )
    html: str | None = Field(
        None, description="HTML body", json_schema_extra={"widget": "multiline"}
    )
    attachments: list[Attachment] = Field(
        default_factory=list,
        description="Files: {name, mime_type, content_base64}",
        json_schema_extra={"widget": "json"},
    )
    client_request_id: str | None = Field(
        None,
        description="Idempotency key: a message with a key already sent in the last 15 "
        "minutes is not sent again (default: one key per run, node and item, the same "
        "on every retry)",
    )


def _check_address(field: str, name: str, addr: str, address: str) -> str:
    local, at, domain = addr.rpartition("@")
    ok = bool(at and local and domain and _LOCAL.match(local))
    ok = ok and not local.startswith(".") and not local.endswith(".") and ".." not in local
    if ok:
        try:
            ascii_domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_domain = ""
        labels = ascii_domain.split(".")
        ok = len(labels) >= 2 and all(_LABEL.match(label) for label in labels)
    if not ok:
        raise InvalidParamsError(
            f"{field}: {address!r} is not an e-mail address",
            details={"field": field, "address": address},
        )
    return formataddr((name, addr)) if name else addr


def addresses(field: str, value: Addresses | None) -> list[str]:
    """The addresses of a field, each checked (``INVALID_PARAMS`` naming a bad one)."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        if not item.strip():
            continue
        parts = getaddresses([item])
        if not parts or any(not addr for _name, addr in parts):
            raise InvalidParamsError(
                f"{field}: {item!r} is not an e-mail address",
                details={"field": field, "address": item},
            )
        for name, addr in parts:
            shown = addr if len(parts) == 1 else formataddr((name, addr))
            out.append(_check_address(field, name, addr, item if len(parts) == 1 else shown))
    return out


def bare(address: str) -> str:
    return parseaddr(address)[1]


class Prepared:
    """A checked message: the MIME object and its envelope."""

    def __init__(self, message: EmailMessage, sender: str | None, recipients: list[str]) -> None:
        self.message = message
        self.sender = sender
        self.recipients = recipients

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def as_bytes(self) -> bytes:
        return self.message.as_bytes()


def prepare(config: MessageFields, *, sender_required: bool) -> Prepared:
    """Check every address and build the MIME message (Bcc kept out of the headers)."""
    sender = addresses("from", config.from_) if config.from_ else []
    if sender_required and not sender:
        raise InvalidParamsError("from: a sender address is required", details={"field": "from"})
    if len(sender) > 1:
        raise InvalidParamsError("from: give one sender", details={"field": "from"})
    to = addresses("to", config.to)
    cc = addresses("cc", config.cc)
    bcc = addresses("bcc", config.bcc)
    reply_to = addresses("reply_to", config.reply_to)
    if not (to or cc or bcc):
        raise InvalidParamsError(
            "to: give at least one recipient (to, cc or bcc)", details={"field": "to"}
        )
    if config.text is None and config.html is None:
        raise InvalidParamsError("text: give a text or an html body", details={"field": "text"})
    message = EmailMessage()
    if sender:
        message["From"] = sender[0]
    if to:
        message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if reply_to:
        message["Reply-To"] = ", ".join(reply_to)
    message["Subject"] = config.subject
    domain = bare(sender[0]).rpartition("@")[2] if sender else "flowdesk.invalid"
    message["Message-ID"] = make_msgid(domain=domain)
    from email.utils import formatdate

    message["Date"] = formatdate(localtime=True)
    if config.text is not None:
        message.set_content(config.text)
        if config.html is not None:
            message.add_alternative(config.html, subtype="html")
    else:
        message.set_content(config.html or "", subtype="html")
    for index, attachment in enumerate(config.attachments):
        try:
            data = base64.b64decode(attachment.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParamsError(
                f"attachments[{index}].content_base64: not base64 ({attachment.name!r})",
                details={"field": f"attachments[{index}].content_base64"},
            ) from None
        maintype, _, subtype = attachment.mime_type.partition("/")
        if not maintype or not subtype:
            raise InvalidParamsError(
                f"attachments[{index}].mime_type: {attachment.mime_type!r} is not a type/subtype",
                details={"field": f"attachments[{index}].mime_type"},
            )
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=attachment.name)
    recipients = [bare(a) for a in (*to, *cc, *bcc)]
    return Prepared(message, bare(sender[0]) if sender else None, list(dict.fromkeys(recipients)))


def idempotency_key(ctx: NodeContext, type_name: str, config: MessageFields) -> str:
    """The ledger key of this send: ``client_request_id``, else run/node/item."""
    if config.client_request_id:
        return f"{type_name}:{config.client_request_id}"
    seed = f"{ctx.services.run_id}/{ctx.node_id}/{ctx.index}"
    return f"{type_name}:{uuid.uuid5(_KEY_NAMESPACE, seed)}"


def ledger() -> Any:
    from .idempotency import Ledger

    return Ledger()


async def api_send(
    ctx: NodeContext,
    *,
    service: str,
    credential: str,
    url: str,
    content: bytes,
    content_type: str,
    headers: dict[str, str],
    timeout_s: float,
) -> tuple[int, Any]:
    """POST a message to a mail API with the credential applied (the run's HTTP
    client: OAuth2 token refreshed before expiry and once on a 401). The status
    and JSON body of a 2xx answer; failures as located errors. A connection
    lost after the request went out raises ``MaybeDelivered``-ready
    ``SentUncertain`` (the caller adds the result)."""
    import httpx

    from .credentials import http_credential, redact_error
    from .errors import (
        AuthError,
        ConfigError,
        ExecutionError,
        FlowdeskError,
        TransportError,
    )

    resolver = ctx.services.credentials
    await resolver.prefetch([credential])
    applied = http_credential(resolver, credential)
    client = ctx.services.http_client()
    shown = url.split("?", 1)[0]
    try:
        request = client.build_request(
            "POST",
            url,
            content=content,
            headers={**headers, "Content-Type": content_type, **applied.headers},
            timeout=timeout_s,
        )
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise ConfigError(f"base_url: {exc}", details={"field": "base_url"}) from exc
    try:
        try:
            response = await client.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransportError(
                f"{service}: {shown} could not be reached ({type(exc).__name__})",
                code="MAIL_API_ERROR",
                details={"url": shown},
            ) from exc
        except httpx.HTTPError as exc:
            raise SentUncertain(
                TransportError(
                    f"{service}: the connection to {shown} was lost after the message was "
                    f"sent ({type(exc).__name__}); it may have been delivered, so it is not "
                    "sent again",
                    code="MAIL_API_ERROR",
                    details={"url": shown},
                )
            ) from exc
        status = response.status_code
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if 200 <= status <= 299:
            return status, body
        said = ""
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            said = str(body["error"].get("message") or body["error"].get("code") or "")
        said = f": {said[:300]}" if said else ""
        details = {"url": shown, "status": status}
        if status in (401, 403):
            raise AuthError(
                f"{service} refused the credential {credential!r} (HTTP {status}){said}",
                code="MAIL_API_ERROR",
                details={**details, "credential": credential},
            )
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            raise FlowdeskError(
                f"{service} asks to slow down (HTTP 429){said}",
                code="MAIL_API_ERROR",
                category="RATE_LIMIT",
                retryable=True,
                details=details,
                retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
            )
        if status >= 500:
            raise TransportError(
                f"{service} failed (HTTP {status}){said}", code="MAIL_API_ERROR", details=details
            )
        raise ExecutionError(
            f"{service} refused the message (HTTP {status}){said}",
            code="MAIL_API_ERROR",
            details=details,
        )
    except FlowdeskError as error:
        raise redact_error(error, (*applied.secrets, *resolver.used_secrets)) from error
    except SentUncertain as maybe:
        redact_error(maybe.error, (*applied.secrets, *resolver.used_secrets))
        raise


class SentUncertain(Exception):
    def __init__(self, error: Any) -> None:
        super().__init__(str(error))
        self.error = error
