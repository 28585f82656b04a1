"""Server-side check of the ``SDK-HMAC-SHA256`` AK/SK request signature.

Written from the algorithm in the DRS notes (section 4) and checked against what the
official ``huaweicloudsdkcore`` signer really sends (tests/test_simulator_sdk.py): the
canonical request is rebuilt from the request as received, so a signature made over any
other path, query, header value or body fails.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_HEADER = "X-Sdk-Date"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
CONTENT_SHA_HEADER = "X-Sdk-Content-Sha256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
#: How far X-Sdk-Date may be from the server clock (the Huawei docs say 15 minutes).
MAX_CLOCK_SKEW_SECONDS = 15 * 60

_AUTH_RE = re.compile(
    r"^SDK-HMAC-SHA256\s+Access=(?P<access>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<sig>[0-9a-fA-F]+)\s*$"
)


class SignatureError(Exception):
    """The request's signature cannot be accepted; the message says why (without secrets)."""


@dataclass(frozen=True)
class SignedRequest:
    """What was parsed out of an ``Authorization: SDK-HMAC-SHA256 ...`` header."""

    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> SignedRequest:
    match = _AUTH_RE.match(value.strip())
    if not match:
        raise SignatureError("malformed SDK-HMAC-SHA256 Authorization header")
    signed = tuple(match["signed"].split(";"))
    return SignedRequest(match["access"], signed, match["sig"].lower())


def canonical_uri(raw_path: str) -> str:
    """Each path segment decoded then re-encoded (only ``~`` kept as is), with a trailing ``/``."""
    segments = [quote(unquote(part), safe="~") for part in raw_path.split("/")]
    uri = "/".join(segments)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(raw_query: str) -> str:
    pairs = sorted(parse_qsl(raw_query, keep_blank_values=True))
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)


def canonical_request(method: str, raw_path: str, raw_query: str, headers: Mapping[str, str],
                      signed_headers: tuple[str, ...], body: bytes) -> str:
    """The text that is hashed into the string to sign. ``headers`` keys must be lower-case."""
    lines = []
    for name in signed_headers:
        if name not in headers:
            raise SignatureError(f"signed header {name!r} is missing from the request")
        lines.append(f"{name}:{headers[name].strip()}")
    payload_hash = headers.get(CONTENT_SHA_HEADER.lower()) or hashlib.sha256(body).hexdigest()
    return "\n".join([
        method.upper(),
        canonical_uri(raw_path),
        canonical_query(raw_query),
        "\n".join(lines) + "\n",
        ";".join(signed_headers),
        payload_hash,
    ])


def string_to_sign(sdk_date: str, canonical: str) -> str:
    return f"{ALGORITHM}\n{sdk_date}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def signature(secret_key: str, to_sign: str) -> str:
    return hmac.new(secret_key.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(method: str, raw_path: str, raw_query: str, headers: Mapping[str, str], body: bytes,
           secret_keys: Mapping[str, str], now: datetime | None = None,
           max_skew: float = MAX_CLOCK_SKEW_SECONDS) -> str:
    """Check the request's signature; return the access key on success, raise SignatureError otherwise.

    ``headers`` maps lower-case names to values as received. ``secret_keys`` maps AK -> SK.
    """
    auth = headers.get("authorization")
    if not auth:
        raise SignatureError("no Authorization header")
    parsed = parse_authorization(auth)
    secret = secret_keys.get(parsed.access_key)
    if secret is None:
        raise SignatureError("unknown access key")
    if DATE_HEADER.lower() not in parsed.signed_headers:
        raise SignatureError("X-Sdk-Date must be signed")
    sdk_date = headers.get(DATE_HEADER.lower(), "")
    try:
        signed_at = datetime.strptime(sdk_date, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise SignatureError("missing or malformed X-Sdk-Date header") from exc
    current = now or datetime.now(UTC)
    if abs((current - signed_at).total_seconds()) > max_skew:
        raise SignatureError("X-Sdk-Date is too far from the server time")
    canonical = canonical_request(method, raw_path, raw_query, headers, parsed.signed_headers, body)
    expected = signature(secret, string_to_sign(sdk_date, canonical))
    if not hmac.compare_digest(expected, parsed.signature):
        raise SignatureError("signature does not match")
    return parsed.access_key
