"""Masking of secrets before anything is stored, logged or shown by the admin endpoints.

The simulator keeps a request log and a task store that tests read back; neither may ever
hold a password, certificate key, token or signature, so every path that records data
passes through here first.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

MASK = "***"

#: Body keys whose values are secret wherever they appear (Endpoint fields, IAM password auth).
SECRET_KEYS = frozenset({"db_password", "ssl_cert_password", "ssl_cert_key", "password", "sk", "secret_key"})
#: Header names (lower-case) whose values are credentials.
SECRET_HEADERS = frozenset({"x-auth-token", "authorization", "x-subject-token", "x-security-token"})
#: Endpoint keys that are never echoed back by batch-detail.
ENDPOINT_SECRETS = frozenset({"db_password", "ssl_cert_password", "ssl_cert_key"})


def redact_body(value: Any) -> Any:
    """A deep copy of a parsed JSON value with every secret key's scalar value replaced by ``***``.

    A secret key holding an object (IAM's ``identity.password`` block) is descended into
    instead, so its non-secret parts (the user name) stay readable.
    """
    if isinstance(value, Mapping):
        return {k: (MASK if k in SECRET_KEYS and v is not None and not isinstance(v, Mapping | list)
                    else redact_body(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_body(v) for v in value]
    return value


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as a dict, credential values replaced by ``***`` (names keep their spelling)."""
    return {name: (MASK if name.lower() in SECRET_HEADERS else value) for name, value in headers.items()}


def strip_endpoint_secrets(endpoint: Any) -> Any:
    """An endpoint without its secret keys at all: what a detail query returns."""
    if not isinstance(endpoint, Mapping):
        return endpoint
    return {k: v for k, v in endpoint.items() if k not in ENDPOINT_SECRETS}


def secret_digest(value: str, salt: str | None = None) -> str:
    """A salted SHA-256 digest (``salt$hex``) of a secret, so it can be compared later without being kept.

    The simulator keeps the passwords a task was created with only in this form, to tell a
    right password from a wrong one in a connection test.
    """
    salt = salt if salt is not None else secrets.token_hex(8)
    return f"{salt}${hashlib.sha256((salt + value).encode('utf-8')).hexdigest()}"


def secret_matches(value: str, digest: str) -> bool:
    salt, _, _ = digest.partition("$")
    return hmac.compare_digest(secret_digest(value, salt), digest)
