"""Pydantic models of the workflow file, exactly as ``spec/workflow-format.md``
defines format version 1: ``Workflow``, ``Node``, ``Edge``, ``PortRef``,
``RetryPolicy``, ``Settings`` and the credential references.

Data and field validation only: node configs stay plain dicts here and are
checked against their node type in ``engine.validate``. Keys a file leaves out
stay unset, so that saving writes back what was read (``exclude_unset``).
May import: pydantic, stdlib.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

FORMAT = "flowdesk/workflow"
NODE_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"

NodeId = Annotated[str, StringConstraints(pattern=NODE_ID_PATTERN)]
#: environment variables holding credentials' secrets: never readable by ``env``
SECRET_ENV_PREFIX = "FLOWDESK_SECRET_"


def _public_env_name(name: str) -> str:
    if name.upper().startswith(SECRET_ENV_PREFIX):
        raise PydanticCustomError(
            "secret_env",
            "variable {name} holds a credential's secret and cannot be read by expressions; "
            "declare a credential (it puts the secret into requests without "
            "showing it)",
            {"name": name},
        )
    return name


EnvName = Annotated[str, AfterValidator(_public_env_name)]
JsonValue = Any


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PortRef(_Strict):
    node: str
    port: str = "out"


class InPortRef(_Strict):
    node: str
    port: str = "in"


class Edge(_Strict):
    source: PortRef = Field(alias="from")
    target: InPortRef = Field(alias="to")

    def key(self) -> tuple[str, str, str, str]:
        """Edges are identified by their two ``(node, port)`` ends."""
        return (self.source.node, self.source.port, self.target.node, self.target.port)


#: named retry presets (``engine.retry.PRESETS`` holds their numbers)
RetryPreset = Literal["none", "conservative", "aggressive", "network", "rate_limit"]


class RetryPolicy(_Strict):
    #: optional addition to the spec: a named preset; the fields below override it
    preset: RetryPreset | None = None
    max_attempts: int = Field(1, ge=1, le=100)
    base_delay_s: float = Field(1.0, ge=0)
    max_delay_s: float = Field(32.0, ge=0)


class Node(_Strict):
    id: NodeId
    type: str = Field(min_length=1)
    type_version: int = Field(1, ge=1)
    title: str | None = None
    position: tuple[float | int, float | int] | None = None
    config: dict[str, JsonValue] = Field(default_factory=dict)
    disabled: bool = False
    for_each: str | None = None
    concurrency: int | None = Field(None, ge=1)
    retry: RetryPolicy | None = None
    timeout_s: float | None = Field(None, gt=0)
    on_error: Literal["stop", "continue"] = "stop"
    pinned: JsonValue = None


class BearerCredential(_Strict):
    type: Literal["bearer"]


class BasicCredential(_Strict):
    type: Literal["basic"]
    username: str


class ApiKeyCredential(_Strict):
    type: Literal["api_key"]
    name: str = Field(min_length=1)
    in_: Literal["header", "query", "cookie"] = Field("header", alias="in")


class OAuth2ClientCredentials(_Strict):
    type: Literal["oauth2_client_credentials"]
    token_url: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    scopes: list[str] = Field(default_factory=list)


class OAuth2AuthorizationCode(_Strict):
    """A user's sign-in (authorization code + PKCE); tokens live in the keyring.

    ``preset`` (``google`` | ``microsoft``) fills ``authorize_url``,
    ``token_url``, ``scopes`` and extra authorize parameters for sending mail;
    fields written here win over the preset's (``engine.oauth2_login``).
    """

    type: Literal["oauth2_authorization_code"]
    preset: Literal["google", "microsoft"] | None = None
    authorize_url: str | None = Field(None, min_length=1)
    token_url: str | None = Field(None, min_length=1)
    client_id: str = Field(min_length=1)
    scopes: list[str] | None = None
    audience: str | None = None
    authorize_params: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _endpoints(self) -> OAuth2AuthorizationCode:
        if self.preset is None and not (self.authorize_url and self.token_url):
            raise ValueError(
                "give 'authorize_url' and 'token_url', or a 'preset' (google, microsoft)"
            )
        return self


class CustomCredential(_Strict):
    """A plug-in credential kind: the ``flowdesk.auth_resolvers`` entry point
    named ``resolver`` returns the request headers (``engine.auth_resolvers``)."""

    type: Literal["custom"]
    resolver: str = Field(min_length=1)
    options: dict[str, JsonValue] = Field(default_factory=dict)


CredentialRef = Annotated[
    BearerCredential
    | BasicCredential
    | ApiKeyCredential
    | OAuth2ClientCredentials
    | OAuth2AuthorizationCode
    | CustomCredential,
    Field(discriminator="type"),
]


class Settings(_Strict):
    max_concurrency: int = Field(16, ge=1, le=10_000)
    max_ai_tokens: int | None = Field(None, ge=0)
    #: optional addition: the retry policy of nodes without their own ``retry``
    retry: RetryPolicy | None = None
    #: optional addition: the longest ``Retry-After`` a run waits (default 5 min);
    #: a server asking for more fails the node with ``RATE_LIMITED``
    max_retry_after_s: float = Field(300.0, ge=0)
    #: optional addition (planner, docs/planner.md): the node types / tools a
    #: plan may add, shell patterns such as ``email.*`` or ``github__*``
    allow_node_types: list[str] | None = None


class Workflow(_Strict):
    format: Literal["flowdesk/workflow"]
    version: int
    name: str = Field(min_length=1)
    description: str | None = None
    variables: dict[str, JsonValue] = Field(default_factory=dict)
    env: list[EnvName] = Field(default_factory=list)
    credentials: dict[str, CredentialRef] = Field(default_factory=dict)
    #: tool sources (an OpenAPI document, an MCP server) by name; each entry's
    #: keys besides "type" are checked against its source type in engine.validate
    sources: dict[str, dict[str, JsonValue]] = Field(default_factory=dict)
    settings: Settings = Field(default_factory=Settings)
    nodes: list[Node]
    edges: list[Edge]
    ui: dict[str, JsonValue] = Field(default_factory=dict)

    def node(self, node_id: str) -> Node | None:
        """The node with this id, or None."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        return None

    def node_index(self) -> dict[str, Node]:
        return {node.id: node for node in self.nodes}

    def to_json_dict(self) -> dict[str, Any]:
        """The file's JSON object: spec key order, unset keys left out."""
        data: dict[str, Any] = self.model_dump(by_alias=True, exclude_unset=True, mode="json")
        # Keys that are required must always be written.
        data.setdefault("nodes", [])
        data.setdefault("edges", [])
        return data
