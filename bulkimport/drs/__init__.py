"""DRS v3 API access: endpoint resolution, credentials, and the HTTP client."""

from bulkimport.drs.auth import (
    AkSkAuth,
    Auth,
    AuthError,
    AuthUnavailable,
    PasswordAuth,
    TokenAuth,
    auth_from_env,
    project_id_from,
)
from bulkimport.drs.client import (
    BatchReply,
    DrsClient,
    DrsError,
    JobResult,
    ReplyKind,
    RetryPolicy,
    StartReply,
    make_session,
)
from bulkimport.drs.endpoints import normalise_endpoint, resolve_endpoint

__all__ = [
    "AkSkAuth", "Auth", "AuthError", "AuthUnavailable", "BatchReply", "DrsClient", "DrsError", "JobResult",
    "PasswordAuth", "ReplyKind", "RetryPolicy", "StartReply", "TokenAuth", "auth_from_env", "make_session",
    "normalise_endpoint", "project_id_from", "resolve_endpoint",
]
