"""The value every simulator endpoint returns, before it becomes HTTP bytes.

Keeping replies as plain data lets the DRS, IAM and admin logic be tested and composed
without a socket, and lets the HTTP layer apply transport faults (reset, lost response)
in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: What the HTTP layer does instead of answering.
ACTION_RESET = "reset"  # abort the connection (RST) without a reply
ACTION_CLOSE = "close"  # close the connection (FIN) without a reply


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None  # ACTION_RESET / ACTION_CLOSE: no reply is sent at all

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def error(status: int, code: str, message: str, **extra: Any) -> Reply:
    """The documented v3 error shape: ``{"error_code": ..., "error_msg": ...}``."""
    return Reply(status, {"error_code": code, "error_msg": message, **extra})


class BadBody(Exception):
    """A request body that is not a JSON document."""


def _no_constants(token: str) -> Any:
    raise ValueError(f"{token} is not valid JSON")


def parse_json(raw: bytes) -> Any:
    """Parse a body strictly: UTF-8, RFC 8259 JSON (no NaN/Infinity). Raises BadBody."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadBody(str(exc)) from exc
