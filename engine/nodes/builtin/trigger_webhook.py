"""``trigger.webhook``: start the flow on an HTTP request under ``flowdesk serve``.

Config ``{"path", "method", "secret_header", "secret", "respond", "respond_node",
"timeout_s", "sample"}``: the server answers ``METHOD /hooks/PATH``. With
``secret_header`` the request must carry that header equal to the secret named
``secret`` (``FLOWDESK_SECRET_<NAME>`` or the keyring; never in the file).
``respond``: ``"job"`` answers at once (202 ``{"job_id"}``), ``"output"`` when the
run ends with the output of ``respond_node`` (or the whole run result).
The output is ``{"method", "path", "headers", "query", "body"}`` (the secret
header left out). In the editor the node outputs its ``sample``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ...context import NodeContext
from ...triggers import trigger_output
from ..spec import NodeType, Port

_PATH = re.compile(r"^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$")


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    path: str = Field(..., description="The hook's path under /hooks/, e.g. 'orders/new'")
    method: Literal["POST", "PUT", "GET"] = "POST"
    secret_header: str | None = Field(
        None, description="Header that must carry the shared secret, e.g. 'X-Hook-Secret'"
    )
    secret: str | None = Field(
        None, description="Name of the secret (FLOWDESK_SECRET_<NAME> or the keyring)"
    )
    respond: Literal["job", "output"] = Field(
        "job", description="job: 202 {job_id} at once; output: when the run ends"
    )
    respond_node: str | None = Field(
        None, description="With respond 'output': the node whose output is the response"
    )
    timeout_s: float = Field(30.0, gt=0, le=600, description="With respond 'output'")
    sample: Any = Field(None, description="Output when not started by a request (editor)")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        value = value.strip("/")
        if not _PATH.match(value):
            raise ValueError(
                f"{value!r} is not a hook path (letters, digits, '.', '_', '~', '-' and '/')"
            )
        return value

    @model_validator(mode="after")
    def _secret(self) -> WebhookConfig:
        if self.secret_header and not self.secret:
            raise ValueError("secret_header needs 'secret', the name of the shared secret")
        return self


class TriggerWebhook(NodeType):
    type_name = "trigger.webhook"
    title = "Webhook"
    category = "Triggers"
    description = (
        "Start the flow when an HTTP request arrives at /hooks/PATH (flowdesk serve), "
        "optionally checked by a shared-secret header. Outputs the request."
    )
    icon = "globe"
    inputs = ()
    outputs = (Port("out", "{method, path, headers, query, body}"),)
    Config = WebhookConfig
    deterministic = False

    async def execute(self, ctx: NodeContext, config: WebhookConfig) -> Any:
        sample = config.sample
        if sample is None:
            sample = {
                "method": config.method,
                "path": config.path,
                "headers": {},
                "query": {},
                "body": None,
            }
        return trigger_output(ctx, sample)
