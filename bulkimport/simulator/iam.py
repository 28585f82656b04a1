"""Who may call the simulated DRS API: static token, IAM-issued tokens, AK/SK signatures.

Also the simulated IAM endpoint (``POST /v3/auth/tokens``, password auth scoped to a
project), served on the same port so a client's whole token flow can be tested offline.
Tokens are kept only as SHA-256 digests; a token's value exists in the response header
that issued it and nowhere else.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bulkimport.simulator import signing
from bulkimport.simulator.replies import BadBody, Reply, error, parse_json
from bulkimport.simulator.state import Store

TOKEN_LIFETIME_MS = 24 * 3600 * 1000
AUTH_CODE = "DRS.M00100"
PROJECT_CODE = "DRS.M00261"
EXPIRED_MESSAGE = "The token must be updated."


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def project_id_for_name(name: str) -> str:
    """A stable 32-hex project id for a project name that has no configured id."""
    return hashlib.md5(name.encode("utf-8"), usedforsecurity=False).hexdigest()


@dataclass
class Caller:
    """An accepted caller: how it authenticated, and (for tokens) which token."""

    method: str  # "token" or "aksk"
    digest: str | None = None


def _keystone_error(status: int, message: str) -> Reply:
    titles = {400: "Bad Request", 401: "Unauthorized"}
    return Reply(status, {"error": {"code": status, "message": message, "title": titles.get(status, "Error")}})


class Authenticator:
    """Checks DRS callers and issues IAM tokens."""

    def __init__(self, store: Store, *, token: str, access_keys: Mapping[str, str], iam_user: str,
                 iam_password: str, iam_domain: str, iam_projects: Mapping[str, str] | None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.access_keys = dict(access_keys)
        self.iam_user = iam_user
        self.iam_password = iam_password
        self.iam_domain = iam_domain
        self.iam_projects = dict(iam_projects or {})
        self.clock = clock
        self._static_digest = token_digest(token)
        self.store.replace_static_token(self._static_digest, self._now_ms())

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def reinstall_static_token(self) -> None:
        """After an admin reset: the configured token works again with a fresh use count."""
        self.store.replace_static_token(self._static_digest, self._now_ms())

    # -- checking callers ----------------------------------------------------------------------

    def authenticate(self, method: str, raw_path: str, raw_query: str, headers: Mapping[str, str],
                     body: bytes, project_id: str, token_ttl_requests: int) -> Caller | Reply:
        """Accept the caller (a Caller) or refuse it (a 401/403 Reply). ``headers`` keys are lower-case."""
        token = headers.get("x-auth-token")
        if token:
            return self._check_token(token, project_id, token_ttl_requests)
        if headers.get("authorization"):
            return self._check_signature(method, raw_path, raw_query, headers, body, project_id)
        return error(401, AUTH_CODE, "Authentication required: send X-Auth-Token or an SDK-HMAC-SHA256 signature.")

    def _check_token(self, token: str, project_id: str, ttl: int) -> Caller | Reply:
        digest = token_digest(token)
        with self.store.lock:
            record = self.store.token(digest)
            if record is None:
                return error(401, AUTH_CODE, "Invalid token.")
            expired_by_time = record.expires_ms is not None and self._now_ms() >= record.expires_ms
            if record.expired or expired_by_time or (ttl and record.uses >= ttl):
                self.store.expire_token(digest)
                return error(401, AUTH_CODE, EXPIRED_MESSAGE)
            if record.project_id is not None and record.project_id != project_id:
                return error(403, PROJECT_CODE, "Invalid project ID.")
            self.store.count_token_use(digest)
        return Caller("token", digest)

    def _check_signature(self, method: str, raw_path: str, raw_query: str, headers: Mapping[str, str],
                         body: bytes, project_id: str) -> Caller | Reply:
        try:
            signing.verify(method, raw_path, raw_query, headers, body, self.access_keys,
                           now=datetime.fromtimestamp(self.clock(), UTC))
        except signing.SignatureError as exc:
            return error(401, AUTH_CODE, f"Invalid signature: {exc}.")
        sent_project = headers.get("x-project-id")
        if sent_project and sent_project != project_id:
            return error(403, PROJECT_CODE, "Invalid project ID.")
        return Caller("aksk")

    def expire(self, caller: Caller) -> Reply:
        """The ``token_expired`` one-shot fault: this caller's token stops working now."""
        if caller.digest is not None:
            self.store.expire_token(caller.digest)
        return error(401, AUTH_CODE, EXPIRED_MESSAGE)

    # -- IAM -------------------------------------------------------------------------------

    def issue_token(self, raw: bytes) -> Reply:
        """POST /v3/auth/tokens: password auth with a project scope -> 201 + X-Subject-Token."""
        try:
            body = parse_json(raw)
        except BadBody:
            return _keystone_error(400, "The request body is not JSON.")
        try:
            identity = body["auth"]["identity"]
            user = identity["password"]["user"]
            name, password = user["name"], user["password"]
            domain = (user.get("domain") or {}).get("name")
            project = body["auth"]["scope"]["project"]
        except (KeyError, TypeError):
            return _keystone_error(400, "Expected auth.identity.password.user{name,password,domain} and "
                                        "auth.scope.project{id|name}.")
        if "password" not in (identity.get("methods") or []):
            return _keystone_error(400, "Only the password method is supported.")
        if not isinstance(project, Mapping) or not (project.get("id") or project.get("name")):
            return _keystone_error(400, "auth.scope.project needs an id or a name.")
        if not (secrets.compare_digest(str(name), self.iam_user)
                and secrets.compare_digest(str(password), self.iam_password)
                and domain == self.iam_domain):
            return _keystone_error(401, "The username or password is wrong.")
        project_id, project_name = self._resolve_project(project)
        if project_id is None:
            return _keystone_error(401, "The project does not exist.")
        token = "MIIsim" + secrets.token_urlsafe(48)
        issued = self._now_ms()
        expires = issued + TOKEN_LIFETIME_MS
        self.store.add_token(token_digest(token), project_id, issued, expires)
        payload: dict[str, Any] = {"token": {
            "methods": ["password"],
            "issued_at": _iso(issued), "expires_at": _iso(expires),
            "project": {"id": project_id, "name": project_name, "domain": {"name": self.iam_domain}},
            "user": {"name": self.iam_user, "domain": {"name": self.iam_domain}},
            "catalog": [],
        }}
        return Reply(201, payload, headers={"X-Subject-Token": token})

    def _resolve_project(self, project: Mapping[str, Any]) -> tuple[str | None, str]:
        if project.get("id"):
            project_id = str(project["id"])
            names = [n for n, i in self.iam_projects.items() if i == project_id]
            return project_id, names[0] if names else project_id
        name = str(project["name"])
        if self.iam_projects:
            return self.iam_projects.get(name), name
        return project_id_for_name(name), name


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
