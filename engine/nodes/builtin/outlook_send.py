"""``outlook.send``: one message through Microsoft Graph (``POST
{base_url}/me/sendMail`` in MIME format: ``Content-Type: text/plain``, the
base64 of the RFC 2822 message as the body; Graph answers 202), signed in with
an ``oauth2_authorization_code`` credential (the ``microsoft`` preset). MIME
keeps the Message-ID, both bodies and attachments exactly as ``email.send``
builds them. Sent exactly once (``engine.idempotency``); addresses checked
first (``INVALID_PARAMS``).
May import: pydantic, engine.context, engine.errors, engine.idempotency,
engine.mail, engine.nodes.spec, stdlib.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from pydantic import Field

from ...context import NodeContext
from ...idempotency import MaybeDelivered
from ...mail import (
    MessageFields,
    Prepared,
    SentUncertain,
    api_send,
    idempotency_key,
    ledger,
    prepare,
)
from ..spec import NodeType, Port

GRAPH_API = "https://graph.microsoft.com/v1.0"


class OutlookSendConfig(MessageFields):
    credential: str = Field(
        ...,
        min_length=1,
        description="An oauth2_authorization_code credential signed in to Microsoft "
        "(scope Mail.Send)",
        json_schema_extra={"widget": "credential"},
    )
    base_url: str = Field(
        GRAPH_API, description="Microsoft Graph's address (tests: a local server)"
    )
    timeout_s: float = Field(60.0, gt=0, description="Time limit of the request, in seconds")


class OutlookSend(NodeType):
    type_name = "outlook.send"
    default_retry = "network"  # new nodes retry transient failures (runtime contract)
    title = "Send with Outlook"
    category = "Email"
    description = (
        "Send one e-mail from the signed-in Microsoft account (Graph sendMail) and "
        "output {message_id, accepted, rejected, deduplicated}. A retry never sends twice."
    )
    icon = "mail"
    inputs = (Port("in", "Available to expressions as `input`"),)
    outputs = (Port("out", "{message_id, accepted, rejected, deduplicated}"),)
    Config = OutlookSendConfig
    deterministic = False
    credential_kinds = ("oauth2_authorization_code", "bearer", "custom")

    async def execute(self, ctx: NodeContext, config: OutlookSendConfig) -> Any:
        prepared = prepare(config, sender_required=False)
        key = idempotency_key(ctx, self.type_name, config)

        async def send() -> dict[str, Any]:
            return await _send(ctx, config, prepared, key)

        return await ledger().once(key, send, lease_s=config.timeout_s * 3 + 30)


async def _send(
    ctx: NodeContext, config: OutlookSendConfig, prepared: Prepared, key: str
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "message_id": prepared.message_id,
        "accepted": prepared.recipients,
        "rejected": [],
    }
    try:
        await api_send(
            ctx,
            service="Microsoft Graph",
            credential=config.credential,
            url=config.base_url.rstrip("/") + "/me/sendMail",
            content=base64.b64encode(prepared.as_bytes()),
            content_type="text/plain",
            # Graph's tracing header: the same on every retry of this send
            headers={"client-request-id": str(uuid.uuid5(uuid.NAMESPACE_URL, key))},
            timeout_s=config.timeout_s,
        )
    except SentUncertain as maybe:
        raise MaybeDelivered(maybe.error, result) from maybe
    return result
