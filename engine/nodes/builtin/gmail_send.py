"""``gmail.send``: one message through the Gmail API (``users.messages.send``:
``POST {base_url}/gmail/v1/users/me/messages/send`` with ``{"raw": base64url
RFC 2822 message}``), signed in with an ``oauth2_authorization_code``
credential (the ``google`` preset). Sent exactly once like ``email.send``
(``engine.idempotency``); addresses checked first (``INVALID_PARAMS``).
May import: pydantic, engine.context, engine.errors, engine.idempotency,
engine.mail, engine.nodes.spec, stdlib.
"""

from __future__ import annotations

import base64
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

GMAIL_API = "https://gmail.googleapis.com"


class GmailSendConfig(MessageFields):
    credential: str = Field(
        ...,
        min_length=1,
        description="An oauth2_authorization_code credential signed in to Google "
        "(scope gmail.send)",
        json_schema_extra={"widget": "credential"},
    )
    base_url: str = Field(GMAIL_API, description="The Gmail API's address (tests: a local server)")
    timeout_s: float = Field(60.0, gt=0, description="Time limit of the request, in seconds")


class GmailSend(NodeType):
    type_name = "gmail.send"
    default_retry = "network"  # new nodes retry transient failures (runtime contract)
    title = "Send with Gmail"
    category = "Email"
    description = (
        "Send one e-mail from the signed-in Google account (Gmail API) and output "
        "{message_id, accepted, rejected, deduplicated, id, thread_id}. A retry never "
        "sends twice."
    )
    icon = "mail"
    inputs = (Port("in", "Available to expressions as `input`"),)
    outputs = (Port("out", "{message_id, accepted, rejected, deduplicated, id, thread_id}"),)
    Config = GmailSendConfig
    deterministic = False
    credential_kinds = ("oauth2_authorization_code", "bearer", "custom")

    async def execute(self, ctx: NodeContext, config: GmailSendConfig) -> Any:
        prepared = prepare(config, sender_required=False)

        async def send() -> dict[str, Any]:
            return await _send(ctx, config, prepared)

        lease = config.timeout_s * 3 + 30
        return await ledger().once(
            idempotency_key(ctx, self.type_name, config), send, lease_s=lease
        )


async def _send(ctx: NodeContext, config: GmailSendConfig, prepared: Prepared) -> dict[str, Any]:
    raw = base64.urlsafe_b64encode(prepared.as_bytes()).decode("ascii")
    result: dict[str, Any] = {
        "message_id": prepared.message_id,
        "accepted": prepared.recipients,
        "rejected": [],
    }
    try:
        _status, body = await api_send(
            ctx,
            service="Gmail",
            credential=config.credential,
            url=config.base_url.rstrip("/") + "/gmail/v1/users/me/messages/send",
            content=_json({"raw": raw}),
            content_type="application/json",
            headers={"Accept": "application/json"},
            timeout_s=config.timeout_s,
        )
    except SentUncertain as maybe:
        raise MaybeDelivered(maybe.error, result) from maybe
    if isinstance(body, dict):
        result["id"] = body.get("id")
        result["thread_id"] = body.get("threadId")
    return result


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()
