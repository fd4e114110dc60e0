"""The persisted document: pydantic models of the workflow file and its migrations."""

from .migrations import FORMAT_VERSION, MIGRATIONS, migrate
from .workflow import (
    FORMAT,
    ApiKeyCredential,
    BasicCredential,
    BearerCredential,
    CredentialRef,
    CustomCredential,
    Edge,
    InPortRef,
    Node,
    OAuth2AuthorizationCode,
    OAuth2ClientCredentials,
    PortRef,
    RetryPolicy,
    Settings,
    Workflow,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MIGRATIONS",
    "ApiKeyCredential",
    "BasicCredential",
    "BearerCredential",
    "CredentialRef",
    "CustomCredential",
    "Edge",
    "InPortRef",
    "Node",
    "OAuth2AuthorizationCode",
    "OAuth2ClientCredentials",
    "PortRef",
    "RetryPolicy",
    "Settings",
    "Workflow",
    "migrate",
]
